// zsend-engine bench: measure this host's stages (--local) or a link between two hosts
// (--listen / --connect), then recommend settings. The measuring lives in engine/stage_bench,
// engine/link_bench and engine/bench_advice; this file parses options, opens the link and prints.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "base/units.h"
#include "engine/crypto/keys.h"
#include "engine/transfer/transfer_link.h"
#include "engine/wire/session_handshake.h"
#include "tools/engine/bench/bench_report.h"
#include "tools/engine/commands.h"
#include "tools/engine/exit_codes.h"
#include "tools/engine/signals.h"
#include "transports/fd_channel.h"
#include "transports/link.h"
#include "transports/tcp.h"

namespace zsend::tool {
namespace {

struct BenchFlags {
  bool local = false, json = false, announce = false, quiet = false, progress = false;
  std::string listen, connect, sample, seconds = "2", timeout = "60";
  std::string key_file, peer, authorized_keys_file;
  std::vector<std::string> authorize;
};

bool g_show_progress = false;

void Progress(const std::string& stage) {
  if (g_show_progress) std::fprintf(stderr, "\rzsend-engine bench: %-32s", stage.c_str());
}
void EndProgress() {
  if (g_show_progress) std::fprintf(stderr, "\r%60s\r", "");
}

int Fail(int code, const Status& status) {
  EndProgress();
  std::fprintf(stderr, "zsend-engine bench: %s\n", status.message().c_str());
  return code;
}

int ExitCodeFor(const Status& status) {
  switch (ClassifyStatus(status)) {
    case TransferFailure::kAuthentication:
      return kExitAuthentication;
    case TransferFailure::kUsage:
      return kExitUsage;
    case TransferFailure::kTimeout:
      return kExitTimeout;
    case TransferFailure::kIntegrity:
      return kExitIntegrity;
    case TransferFailure::kStopped:
      return kExitInterrupted;
    case TransferFailure::kNetwork:
      return kExitNetwork;
    default:
      return kExitInternal;
  }
}

Result<std::vector<std::byte>> Sample(const BenchFlags& f) {
  if (f.sample.empty()) return MakeSyntheticSample(6 << 20);
  return LoadSample(f.sample, 64 << 20);
}

int RunLocal(const BenchFlags& f, double seconds) {
  Result<std::vector<std::byte>> sample = Sample(f);
  if (!sample.ok()) return Fail(kExitInput, sample.status());
  LocalBench bench;
  bench.sample_source = f.sample.empty() ? "synthetic" : f.sample;
  bench.sample_bytes = sample->size();
  bench.seconds = seconds;
  Result<CpuFigures> cpu = BenchCpu(*sample, seconds, Progress);
  if (!cpu.ok()) return Fail(kExitInternal, cpu.status());
  bench.cpu = *cpu;
  Progress("loopback send -> recv");
  Result<LoopbackFigure> loopback = BenchLoopbackTransfer(*sample, seconds, cpu->cores);
  if (!loopback.ok()) return Fail(kExitInternal, loopback.status());
  bench.loopback = *loopback;
  EndProgress();
  if (f.json) {
    std::printf("%s\n", LocalJson(bench).dump().c_str());
  } else {
    PrintLocal(bench);
  }
  return kExitOk;
}

int RunLink(const BenchFlags& f, double seconds, double timeout) {
  const bool initiator = !f.connect.empty();
  if (initiator && f.peer.empty()) {
    return Fail(kExitUsage, InvalidArgument("--connect needs --peer PUBKEY (the listener's key, "
                                            "printed by its --announce)"));
  }
  const bool any_peer = !initiator && f.authorized_keys_file.empty() && f.authorize.empty();
  if (any_peer && !f.announce) {
    return Fail(kExitUsage, InvalidArgument("--listen needs --authorized-keys FILE or --authorize "
                                            "PUBKEY, or --announce to accept any connector"));
  }
  if (!initiator && !f.announce && f.key_file.empty()) {
    return Fail(kExitUsage, InvalidArgument("--listen needs --key FILE, or --announce to publish "
                                            "a fresh key's public half"));
  }
  SessionOptions options;
  options.initiator = initiator;
  options.we_send = initiator;
  options.ciphers = AutoCiphers(false);
  options.block_size = 1 << 20;
  options.timeout_seconds = timeout;
  options.accept_any_peer = any_peer;
  Result<LoadedKeys> keys = LoadKeys({f.key_file, f.peer, f.authorized_keys_file, f.authorize});
  if (!keys.ok()) return Fail(kExitUsage, keys.status());
  options.local_static = keys->local;
  options.peer = keys->peer;
  options.authorized = &keys->authorized;

  std::optional<TcpListener> listener;
  if (!initiator) {
    Result<TcpListener> l = TcpListener::Listen(f.listen, TcpOptions{0, 0, 0});
    if (!l.ok()) return Fail(kExitNetwork, l.status());
    listener.emplace(std::move(*l));
    if (f.announce) {
      PrintAnnounceLine(listener->port(), FormatPublicKey(options.local_static->public_key));
    } else if (!f.quiet) {
      std::fprintf(stderr, "zsend-engine bench: listening on port %d\n", listener->port());
    }
  }
  // CPU figures first, so that measuring does not disturb the link phases.
  Result<std::vector<std::byte>> sample = Sample(f);
  if (!sample.ok()) return Fail(kExitInput, sample.status());
  // The CPU phase (17 measurements) stays within --seconds, apart from one pass per stage.
  const double cpu_stage_seconds = std::max(0.03, seconds / 17);
  Result<CpuFigures> cpu = BenchCpu(*sample, cpu_stage_seconds, Progress);
  if (!cpu.ok()) return Fail(kExitInternal, cpu.status());

  Progress("handshake");
  Result<UniqueFd> fd =
      initiator ? TcpConnect(f.connect, TcpOptions{0, 0, timeout}) : listener->Accept();
  if (!fd.ok()) return Fail(kExitNetwork, fd.status());
  FdChannel channel(std::move(*fd), initiator ? "tcp " + f.connect : "tcp peer");
  Result<Session> session = RunHandshake(channel, options);
  if (!session.ok()) return Fail(ExitCodeFor(session.status()), session.status());
  Result<LinkBenchResult> result = RunLinkBench(channel, *session, initiator, *cpu, seconds,
                                                [](const std::string& p) { Progress(p); });
  if (!result.ok()) return Fail(ExitCodeFor(result.status()), result.status());
  EndProgress();

  LinkBench bench;
  bench.role = initiator ? "connect" : "listen";
  bench.seconds = seconds;
  bench.link = result->link;
  bench.send_rate = initiator ? result->link.upload_rate : result->link.download_rate;
  bench.receive_rate = initiator ? result->link.download_rate : result->link.upload_rate;
  bench.local = *cpu;
  bench.peer = result->peer;
  bench.sending = Recommend(bench.local, bench.peer, bench.send_rate, bench.link.rtt_seconds);
  bench.receiving = Recommend(bench.peer, bench.local, bench.receive_rate, bench.link.rtt_seconds);
  if (f.json) {
    std::printf("%s\n", LinkJson(bench).dump().c_str());
  } else {
    PrintLink(bench);
  }
  return kExitOk;
}

int RunBench(const BenchFlags& f) {
  InstallStopSignals();
  const int modes = f.local + !f.listen.empty() + !f.connect.empty();
  if (modes != 1) {
    return Fail(kExitUsage, InvalidArgument("give exactly one of --local, --listen or --connect"));
  }
  if (!f.connect.empty()) {
    Result<HostPort> hp = ParseHostPort(f.connect, false);
    if (!hp.ok()) return Fail(kExitUsage, hp.status().WithContext("--connect"));
  }
  if (!f.listen.empty()) {
    Result<HostPort> hp = ParseHostPort(f.listen, true);
    if (!hp.ok()) return Fail(kExitUsage, hp.status().WithContext("--listen"));
  }
  Result<double> seconds = ParseSeconds(f.seconds, "--seconds");
  if (!seconds.ok()) return Fail(kExitUsage, seconds.status());
  if (*seconds <= 0) return Fail(kExitUsage, InvalidArgument("--seconds must be more than 0"));
  Result<double> timeout = ParseSeconds(f.timeout, "--timeout");
  if (!timeout.ok()) return Fail(kExitUsage, timeout.status());
  g_show_progress = f.progress || (!f.quiet && isatty(STDERR_FILENO));
  return f.local ? RunLocal(f, *seconds) : RunLink(f, *seconds, *timeout);
}

}  // namespace

void RegisterBenchCommand(CLI::App& app, CommandRun* run) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd =
      app.add_subcommand("bench",
                         "Measure this host's stages (--local) or a link (--listen/--connect) and "
                         "recommend --codec, --threads, --memory and --block-size");
  cmd->footer(kExitCodeHelp);
  cmd->add_flag("--local", f->local, "Measure pipe, codecs, sealing and loopback send/recv here");
  cmd->add_option("--listen", f->listen, "Link test: listen on [HOST:]PORT (0: any free port)");
  cmd->add_option("--connect", f->connect, "Link test: connect to HOST:PORT");
  cmd->add_option("--sample", f->sample,
                  "Measure codecs on FILE (e.g. a saved zfs send stream; first 64 MiB) instead "
                  "of the built-in mixed sample");
  cmd->add_option("--seconds", f->seconds, "Bound every phase to SECONDS (default 2)");
  cmd->add_flag("--json", f->json, "Print one JSON document instead of the table");
  cmd->add_option("--key", f->key_file, "This side's private key file (default: a fresh key)");
  cmd->add_option("--peer", f->peer, "The listener's public key (connecting side)");
  cmd->add_option("--authorized-keys", f->authorized_keys_file,
                  "Public keys allowed to connect (listening side)");
  cmd->add_option("--authorize", f->authorize, "A public key allowed to connect (repeatable)");
  cmd->add_flag("--announce", f->announce,
                "Print {\"event\":\"listening\",\"port\":N,\"pubkey\":\"...\"}; without "
                "authorized keys, accept any connector (it moves only filler)");
  cmd->add_option("--timeout", f->timeout, "Connect/handshake timeout in seconds (default 60)");
  cmd->add_flag("-q,--quiet", f->quiet, "No progress line");
  cmd->add_flag("--progress", f->progress, "Show progress even when stderr is not a terminal");
  cmd->callback([f, run] { *run = [f] { return RunBench(*f); }; });
}

}  // namespace zsend::tool
