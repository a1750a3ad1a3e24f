// zsend-engine send / recv: the network pair (docs/protocol.md, README "Secure transfer").
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "base/units.h"
#include "engine/codec/codec.h"
#include "engine/codec/dedup.h"
#include "tools/engine/commands.h"
#include "tools/engine/exit_codes.h"
#include "tools/engine/progress_fd.h"
#include "tools/engine/session_job.h"
#include "tools/engine/transfer_job.h"

namespace zsend::tool {
namespace {

struct TransferFlags {
  TransferJob job;
  std::string memory = "256M", block_size = "1M", read_rate, write_rate, timeout = "60",
              io = "auto", dedup_window = "auto";
  int threads = 0;
  bool pull = false;  // session --recv (the role itself is job.send)
};

// --dedup-window: "auto" asks for kDefaultDedupWindow when the sender compresses (a sender
// that does not compress wants speed, not fewer bytes) and lets a receiver hold half its
// --memory; 0 turns dedup off.
Result<uint64_t> DedupWindow(const TransferFlags& f, const CodecSpec& codec, uint64_t memory) {
  const bool send = f.job.send;
  if (f.dedup_window == "auto") {
    if (send) return codec.adaptive || codec.format != CodecFormat::kNone ? kDefaultDedupWindow : 0;
    return std::min(memory / 2, kMaxDedupWindow);
  }
  Result<uint64_t> window = ParseSize(f.dedup_window, "--dedup-window", {.max = kMaxDedupWindow});
  if (!window.ok()) return window.status();
  if (!send && *window >= memory) {
    return InvalidArgument(
        "--dedup-window must be smaller than --memory: the receiver holds the "
        "window inside it (raise -m or lower --dedup-window)");
  }
  return *window;
}

Result<TransferJob> BuildJob(const TransferFlags& f) {
  TransferJob job = f.job;
  if (Status s = CheckProgressFd(job.progress_fd); !s.ok()) return s;
  Result<uint64_t> memory =
      ParseSize(f.memory, "--memory", {.allow_percent_of_ram = true, .min = 1 << 20});
  if (!memory.ok()) return memory.status();
  Result<uint64_t> block =
      ParseSize(f.block_size, "--block-size", {.min = 4096, .max = kMaxBlockSize});
  if (!block.ok()) return block.status();
  if (*block * 2 > *memory) {
    return InvalidArgument("--memory must hold at least two blocks of --block-size");
  }
  job.transfer.pipeline.ring.memory = *memory;
  job.transfer.pipeline.ring.block_size = *block;
  if (!f.read_rate.empty()) {
    Result<uint64_t> r = ParseSize(f.read_rate, "-r", {.min = 1});
    if (!r.ok()) return r.status();
    job.transfer.pipeline.read_rate = *r;
  }
  if (!f.write_rate.empty()) {
    Result<uint64_t> r = ParseSize(f.write_rate, "-R", {.min = 1});
    if (!r.ok()) return r.status();
    job.transfer.pipeline.write_rate = *r;
  }
  Result<double> timeout = ParseSeconds(f.timeout, "--timeout");
  if (!timeout.ok()) return timeout.status();
  if (*timeout <= 0) return InvalidArgument("--timeout must be more than 0 seconds");
  job.transfer.timeout_seconds = *timeout;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  job.transfer.workers = f.threads > 0 ? f.threads : cores;
  Result<CodecSpec> codec = ParseCodecSpec(f.job.codec);
  if (!codec.ok()) return codec.status();
  job.transfer.codec = *codec;
  Result<uint64_t> window = DedupWindow(f, *codec, *memory);
  if (!window.ok()) return window.status();
  job.dedup_window = *window;
  Result<IoBackend> io = ParseIoBackend(f.io);
  if (!io.ok()) return io.status();
  job.io.backend = *io;
  return job;
}

void AddSharedOptions(CLI::App* cmd, TransferFlags& f) {
  cmd->add_option("--listen", f.job.listen, "Listen on [HOST:]PORT (0: any free port)");
  cmd->add_option("--connect", f.job.connect, "Connect to HOST:PORT");
  cmd->add_flag(
      "--once", f.job.once,
      "Exit after one authorized transfer (what a listener always does; kept for scripts)");
  cmd->add_flag("--announce", f.job.announce,
                "Print {\"event\":\"listening\",\"port\":N,\"pubkey\":\"...\"} on stdout");
  cmd->add_option("--key", f.job.key_file, "This side's private key file (zsend-engine keygen)");
  cmd->add_option("--peer", f.job.peer, "The listener's public key (connecting side)");
  cmd->add_option("--authorized-keys", f.job.authorized_keys_file,
                  "Public keys allowed to connect, one per line (listening side)");
  cmd->add_option("--authorize", f.job.authorize, "A public key allowed to connect (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--cipher", f.job.cipher,
                  "auto (AES-256-GCM with AES instructions, else ChaCha20-Poly1305), "
                  "aes-256-gcm, chacha20-poly1305, none (only with --ssh or "
                  "--insecure-plaintext)");
  cmd->add_flag("--insecure-plaintext", f.job.insecure_plaintext,
                "Allow --cipher none over TCP (frames still carry checksums)");
  cmd->add_option(
      "--timeout", f.timeout,
      "Fail when no byte moved to or from the peer, from the input (sender) or into the "
      "output (receiver) for SECONDS (default 60)");
  cmd->add_option("-m,--memory", f.memory, "Buffer size (default 256M, or N% of RAM)");
  cmd->add_option("-s,--block-size", f.block_size, "Block (frame) size (default 1M; sender)");
  cmd->add_option("--codec", f.job.codec,
                  "Sender's compression: auto (default: zstd level adapted to the link), "
                  "zstd[:N], lz4, gzip[:N], none; the receiver decodes whatever arrives");
  cmd->add_option("--dedup-window", f.dedup_window,
                  "Replace repeats of the last SIZE stream bytes by references; sender: the "
                  "window it asks for (default auto: 128M when compressing), receiver: the most "
                  "it holds (default auto: half of -m); 0 turns it off");
  cmd->add_option("--threads", f.threads, "Sealing/opening threads (default: one per core)");
  cmd->add_option("-r,--read-rate", f.read_rate, "Limit the read rate (bytes/s, k/M/G)");
  cmd->add_option("-R,--write-rate", f.write_rate, "Limit the write rate (bytes/s, k/M/G)");
  cmd->add_option("--json-stats", f.job.json_stats_path, "Write final figures as JSON to FILE");
  cmd->add_option("--io", f.io, "I/O backend for files and pipes: auto, uring, syscalls");
  cmd->add_flag("-q,--quiet", f.job.quiet, "No progress line and no summary");
  cmd->add_flag("--progress", f.job.progress, "Show the progress line even when not a terminal");
  cmd->add_option("--progress-fd", f.job.progress_fd,
                  "Write machine-readable progress lines (JSON) to descriptor N");
}

// --ssh runs the other half on the far host with --stdio and speaks the protocol over ssh's
// pipes: `send --ssh HOST -- RECV-ARGS` pushes, `recv --ssh HOST -- SEND-ARGS` pulls,
// `session --ssh HOST -- SERVE-ARGS` starts one serve per connection. `far` is what runs there,
// `args` names the far side's options after -- and `args_help` says what they are.
void AddSshOptions(CLI::App* cmd, TransferFlags& f, const std::string& far, const std::string& args,
                   const std::string& args_help) {
  cmd->add_option("--ssh", f.job.ssh_host,
                  "Run '" + far + "' on [USER@]HOST through ssh" +
                      (f.job.session_client ? ", once per connection" : ""));
  cmd->add_option("--ssh-port", f.job.ssh_port, "ssh port");
  cmd->add_option("--ssh-option", f.job.ssh_options, "ssh -o OPTION (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--remote-engine", f.job.remote_engine,
                  "Path of zsend-engine on the ssh host (default: zsend-engine)");
  cmd->add_option(args, f.job.remote_args, "With --ssh, after --: " + args_help);
}

int BuildAndRun(const TransferFlags& flags, int (*run_job)(const TransferJob&)) {
  Result<TransferJob> job = BuildJob(flags);
  if (!job.ok()) {
    std::fprintf(stderr, "%s: %s\n", flags.job.program.c_str(), job.status().message().c_str());
    return static_cast<int>(kExitUsage);
  }
  return run_job(*job);
}

void SetRun(CLI::App* cmd, std::shared_ptr<TransferFlags> flags, CommandRun* run) {
  cmd->callback([flags, run] { *run = [flags] { return BuildAndRun(*flags, RunTransferJob); }; });
}

}  // namespace

void RegisterSendCommand(CLI::App& app, CommandRun* run) {
  auto flags = std::make_shared<TransferFlags>();
  flags->job.send = true;
  flags->job.program = "zsend-engine send";
  CLI::App* cmd = app.add_subcommand(
      "send", "Send a stream (stdin, -i FILE or --exec 'zfs send ...') to zsend-engine recv");
  cmd->footer(kExitCodeHelp);
  cmd->add_option("-i,--input", flags->job.file, "Read the stream from FILE");
  cmd->add_option("--exec", flags->job.exec,
                  "Run COMMAND (split like a shell would, no shell) and send its stdout");
  AddSshOptions(cmd, *flags, "zsend-engine recv --stdio RECV-ARGS", "RECV-ARGS",
                "the far side's recv options (-o FILE, --exec CMD)");
  cmd->add_flag("--stdio", flags->job.stdio,
                "Speak the protocol on stdin/stdout (started by 'recv --ssh')");
  AddSharedOptions(cmd, *flags);
  SetRun(cmd, flags, run);
}

void RegisterRecvCommand(CLI::App& app, CommandRun* run) {
  auto flags = std::make_shared<TransferFlags>();
  flags->job.send = false;
  flags->job.program = "zsend-engine recv";
  CLI::App* cmd = app.add_subcommand(
      "recv", "Receive a stream from zsend-engine send into stdout, -o FILE or --exec CMD");
  cmd->footer(kExitCodeHelp);
  cmd->add_option("-o,--output", flags->job.file,
                  "Write the stream to FILE (as FILE.partial, renamed once verified)");
  cmd->add_option("--exec", flags->job.exec,
                  "Run COMMAND (split like a shell would, no shell) and feed it the stream");
  AddSshOptions(cmd, *flags, "zsend-engine send --stdio SEND-ARGS", "SEND-ARGS",
                "the far side's send options (-i FILE, --exec CMD, --codec SPEC)");
  cmd->add_flag("--stdio", flags->job.stdio,
                "Speak the protocol on stdin/stdout (started by 'send --ssh')");
  AddSharedOptions(cmd, *flags);
  SetRun(cmd, flags, run);
}

}  // namespace zsend::tool

namespace zsend::tool {

void RegisterServeCommand(CLI::App& app, CommandRun* run) {
  auto flags = std::make_shared<TransferFlags>();
  flags->job.program = "zsend-engine serve";
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve a session: receive streams below --target-root, or send streams from "
      "below --source-root, for 'zsend-engine session' (docs/protocol.md 5.8)");
  cmd->footer(kExitCodeHelp);
  auto* target = cmd->add_option("--target-root", flags->job.roots,
                                 "Receive ('zfs receive') only into datasets at or below "
                                 "POOL/PATH (repeatable)")
                     ->allow_extra_args(false);
  auto* source = cmd->add_option("--source-root", flags->job.roots,
                                 "Send ('zfs send') only snapshots of datasets at or below "
                                 "POOL/PATH (repeatable)")
                     ->allow_extra_args(false);
  target->excludes(source);
  cmd->add_option("--connections", flags->job.connections,
                  "With --listen: serve this many connections, then exit (default 1)");
  cmd->add_flag("--stdio", flags->job.stdio,
                "Serve the one connection on stdin/stdout (started by 'session --ssh')");
  AddSharedOptions(cmd, *flags);
  cmd->callback([flags, run, source] {
    flags->job.send = source->count() > 0;  // serving sources means sending
    *run = [flags] { return BuildAndRun(*flags, RunServeJob); };
  });
}

void RegisterSessionCommand(CLI::App& app, CommandRun* run) {
  auto flags = std::make_shared<TransferFlags>();
  flags->job.program = "zsend-engine session";
  flags->job.session_client = true;
  flags->job.send = false;  // --send sets it
  CLI::App* cmd = app.add_subcommand(
      "session",
      "Move many streams over a few connections to 'zsend-engine serve': requests "
      "on stdin, one JSON result line each on stdout (docs/protocol.md 5.8)");
  cmd->footer(kExitCodeHelp);
  auto* send = cmd->add_flag("--send", flags->job.send,
                             "Push: run each request's \"exec\" (zfs send) here and send it");
  auto* receive = cmd->add_flag("--recv", flags->pull,
                                "Pull: receive each stream into the request's \"exec\" "
                                "(zfs receive) here");
  send->excludes(receive);
  cmd->add_option("--connections", flags->job.connections,
                  "Links to open, streams moved at once (default 1)");
  AddSshOptions(cmd, *flags, "zsend-engine serve --stdio SERVE-ARGS", "SERVE-ARGS",
                "the far serve's options (--target-root or --source-root)");
  AddSharedOptions(cmd, *flags);
  cmd->callback([flags, run, send, receive] {
    *run = [flags, send, receive] {
      if (send->count() + receive->count() != 1) {
        std::fprintf(stderr, "%s: give --send (push) or --recv (pull)\n",
                     flags->job.program.c_str());
        return static_cast<int>(kExitUsage);
      }
      return BuildAndRun(*flags, RunSessionJob);
    };
  });
}

}  // namespace zsend::tool
