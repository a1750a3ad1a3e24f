#include "orchestrator/transport/engine_transport.h"

#include <atomic>
#include <nlohmann/json.hpp>

#include "base/engine_contract.h"
#include "orchestrator/host/process_chain.h"
#include "orchestrator/host/ssh_runner.h"
#include "orchestrator/run/run_interrupt.h"
#include "orchestrator/transport/announcing_child.h"
#include "orchestrator/transport/engine_probe.h"
#include "orchestrator/transport/far_side.h"
#include "orchestrator/transport/tcp_addresses.h"

namespace zsend::orchestrator {
namespace {

namespace contract = engine_contract;

class EngineMover : public StreamMover {
 public:
  EngineMover(CommandRunner& source, CommandRunner& target, TransportOptions options,
              std::unique_ptr<StreamMover> pipe)
      : source_(source),
        target_(target),
        addresses_(source, target),
        options_(std::move(options)),
        pipe_(std::move(pipe)) {}

  StreamResult Move(const StreamCommand& command) override {
    const EngineCheck engines = CheckedEngines();
    if (!engines.ok()) {
      if (options_.kind != TransportKind::kAuto) {
        StreamResult result;
        result.transport = TransportKindName(options_.kind);
        result.status =
            FailedPrecondition("--transport " + result.transport + ": " + engines.problem + "; " +
                               engines.fix + ", or use --transport pipe");
        return result;
      }
      StreamResult result = pipe_->Move(command);
      result.fallback = engines.problem + "; used pipe";
      return result;
    }
    if (options_.dry_run) {
      StreamResult result;
      result.transport = options_.kind == TransportKind::kSsh ? "ssh" : "tcp";
      *options_.dry_run_out << "dry-run [" << result.transport << "]: " << Engine(source_)
                            << " send --exec " << ShellQuote(ShellJoin(command.send_argv))
                            << " ... | " << Engine(target_) << " recv --exec "
                            << ShellQuote(ShellJoin(command.recv_argv)) << "\n";
      return result;
    }
    if (options_.kind == TransportKind::kSsh) return MoveSsh(command);
    StreamResult tcp = MoveTcp(command);
    // A fallback sends the stream again from its first byte: right only while none has moved.
    // After that the executor re-reads the target instead (the snapshot may have landed).
    if (tcp.status.ok() || options_.kind == TransportKind::kTcp || !tcp.failed_stderr.empty() ||
        tcp.data_moved || tcp.status.code() == StatusCode::kCancelled) {
      return tcp;
    }
    StreamResult ssh = MoveSsh(command);
    ssh.fallback = "tcp failed (" + tcp.status.message() + "); used ssh";
    return ssh;
  }

 private:
  std::string Engine(const CommandRunner& host) const { return EngineProgram(host, options_); }

  // Both hosts' engines checked against the engine contract (engine_probe.h), once per run.
  EngineCheck CheckedEngines() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!probed_) {
      engines_ = CheckEngines({{&source_, Engine(source_)}, {&target_, Engine(target_)}});
      probed_ = true;
    }
    return engines_;
  }

  StreamResult MoveTcp(const StreamCommand& command) {
    StreamResult result;
    result.transport = "tcp";
    // A fresh sender key on the source host, in a private directory (removed on return).
    const std::string engine = Engine(source_);
    Result<FarKey> far_key = MakeKey(source_, engine);
    if (!far_key.ok()) {
      result.status = far_key.status();
      return result;
    }
    const std::string key_dir = far_key->dir;
    const std::string pub = far_key->pub;
    struct Cleanup {
      CommandRunner& host;
      std::string dir;
      ~Cleanup() { RemoveKeyDir(host, dir); }
    } cleanup{source_, key_dir};

    std::vector<std::string> recv = {"sh",
                                     "-c",
                                     kStopOnStdinEof,
                                     "sh",
                                     Engine(target_),
                                     "recv",
                                     "--listen",
                                     addresses_.ReceiverListenAddress(),
                                     "--once",
                                     "--announce",
                                     "-q",
                                     "--timeout",
                                     EngineSeconds(options_.timeout_seconds),
                                     "--authorize",
                                     pub,
                                     "--exec",
                                     ShellJoin(command.recv_argv)};
    // The local engine reports progress: the sender (on descriptor 3) when the source is this
    // host, else the receiver of a pull (on its stdout, after the announce line).
    ProgressScope progress(options_.progress, command.label, command.expected_bytes);
    const bool sender_reports = progress.enabled() && !source_.IsRemote();
    const bool receiver_reports = progress.enabled() && !sender_reports && !target_.IsRemote();
    if (receiver_reports) recv.insert(recv.end() - 2, {"--progress-fd", "1"});
    Result<std::vector<std::string>> recv_argv = target_.StreamArgv(recv);
    if (!recv_argv.ok()) {
      result.status = recv_argv.status();
      return result;
    }
    AnnouncingChild receiver;
    if (receiver_reports) {
      receiver.OnLaterLines([&progress](const std::string& line) { progress.Line(line); });
    }
    result.status = receiver.Start(*recv_argv);
    if (!result.status.ok()) return result;
    Result<Announce> announce = ParseAnnounce(receiver.FirstLine(kAnnounceTimeoutMs));
    if (!announce.ok()) {
      receiver.Abandon();
      if (!receiver.EndsWithin(kReceiverGraceMs)) receiver.Stop();
      StageResult ended = receiver.Wait();
      if (Interrupted()) {
        result.status =
            InterruptedStatus("the receiver on " + target_.HostLabel() + " was stopped");
        return result;
      }
      result.status = Unavailable("zsend-engine recv on " + target_.HostLabel() + " " +
                                  announce.status().message() + ": " +
                                  ended.err.substr(0, ended.err.find('\n')));
      return result;
    }
    std::string address =
        JoinHostPort(addresses_.TargetHostForSource(), std::to_string(announce->port));
    std::vector<std::string> send = {"sh",
                                     "-c",
                                     kSendRemovingKeyDir,
                                     "sh",
                                     key_dir,
                                     engine,
                                     "send",
                                     "-q",
                                     "--exec",
                                     ShellJoin(command.send_argv),
                                     "--connect",
                                     address,
                                     "--peer",
                                     announce->pubkey,
                                     "--key",
                                     key_dir + "/key",
                                     "-m",
                                     options_.memory,
                                     "--timeout",
                                     EngineSeconds(options_.timeout_seconds),
                                     "--json-stats",
                                     key_dir + "/stats.json"};
    if (!options_.rate_limit.empty()) send.insert(send.end(), {"-r", options_.rate_limit});
    if (!options_.codec.empty()) send.insert(send.end(), {"--codec", options_.codec});
    if (sender_reports) send.insert(send.end(), {"--progress-fd", "3"});
    Result<std::vector<std::string>> send_argv = source_.StreamArgv(send);
    if (!send_argv.ok()) {
      result.status = send_argv.status();
      return result;
    }
    // A receiver that ended (failed, or timed out on a sender that stopped) ends the sender too.
    ChainStage sender_stage{*send_argv, false, {}};
    if (sender_reports) {
      sender_stage.on_fd3_line = [&progress](const std::string& line) { progress.Line(line); };
    }
    Result<ChainResult> sent =
        RunProcessChain({sender_stage}, 0, [&receiver] { return receiver.EndsWithin(0); });
    // A receiver whose sender failed may never get its connection (it was refused, or went to
    // the wrong address) and would wait for ever: it is stopped. After a network failure (no
    // connection, or the peer went away) it has nothing to add; otherwise it gets a moment
    // to end by itself and report (a failed zfs receive's exit code and stderr). One that does
    // not end once its stdin closed (stopped, hung) is stopped with its process group.
    const bool sender_ok = sent.ok() && sent->stages[0].exit_code == contract::kExitOk;
    const bool network = sent.ok() && sent->stages[0].exit_code == contract::kExitNetwork;
    if (!sent.ok() && sent.status().code() == StatusCode::kCancelled) {
      receiver.Abandon();
      receiver.Stop();
    } else if (network || !receiver.EndsWithin(sender_ok ? kAnnounceTimeoutMs : kReceiverGraceMs)) {
      receiver.Abandon();
      if (!receiver.EndsWithin(kReceiverGraceMs)) receiver.Stop();
    }
    StageResult received = receiver.Wait();
    if (!sent.ok()) {
      result.status = sent.status();
      result.data_moved = true;  // unknown: the sender did not report
      return result;
    }
    result.seconds = sent->seconds;
    // kSendRemovingKeyDir printed the stats after anything a startup file printed.
    nlohmann::json stats = StatsFromOutput(sent->out);
    Figures(stats, result);
    const StageResult& sender = sent->stages[0];
    // Nothing reached the target only when the sender could not connect (or lost the link)
    // before its first stream byte.
    result.data_moved = !(sender.exit_code == contract::kExitNetwork && result.bytes == 0);
    if (sender.exit_code == contract::kExitOk && received.exit_code == contract::kExitOk) {
      return result;
    }
    bool recv_failed = received.exit_code == contract::kExitConsumer ||
                       sender.exit_code == contract::kExitConsumer;
    bool send_failed = sender.exit_code == contract::kExitProducer;
    if (recv_failed || send_failed) {
      result.failed_command = ShellJoin(recv_failed ? command.recv_argv : command.send_argv);
      // The sender carries the consumer's stderr too (a receiver stopped early may not).
      result.failed_stderr = recv_failed && !received.err.empty() ? received.err : sender.err;
    }
    std::string why = sender.err.empty() ? received.err : sender.err;
    result.status =
        Aborted("zsend-engine tcp transfer failed (send exit " + std::to_string(sender.exit_code) +
                ", recv exit " + std::to_string(received.exit_code) +
                "): " + why.substr(0, why.find('\n')));
    return result;
  }

  // ssh stdio: the engine on our end runs its other half on the far host through ssh, `send
  // --ssh TARGET` for a push and `recv --ssh SOURCE` for a pull; both speak the same frames.
  StreamResult MoveSsh(const StreamCommand& command) {
    StreamResult result;
    result.transport = "ssh";
    auto* source_ssh = dynamic_cast<SshRunner*>(&source_.Unwrapped());
    auto* target_ssh = dynamic_cast<SshRunner*>(&target_.Unwrapped());
    const bool push = !source_.IsRemote() && target_ssh != nullptr;
    const bool pull = source_ssh != nullptr && !target_.IsRemote();
    if (!push && !pull) {
      StreamResult piped = pipe_->Move(command);
      piped.fallback = "the ssh transport needs exactly one remote end; used pipe";
      return piped;
    }
    const SshOptions& ssh = push ? target_ssh->options() : source_ssh->options();
    const std::string role = push ? "send" : "recv";
    const std::vector<std::string>& near_argv = push ? command.send_argv : command.recv_argv;
    const std::vector<std::string>& far_argv = push ? command.recv_argv : command.send_argv;
    const std::string timeout = EngineSeconds(options_.timeout_seconds);
    std::vector<std::string> argv = {options_.local_engine, role,    "-q",
                                     "--timeout",           timeout, "--exec",
                                     ShellJoin(near_argv),  "--ssh", ssh.destination};
    if (ssh.port > 0) argv.insert(argv.end(), {"--ssh-port", std::to_string(ssh.port)});
    for (const std::string& o : ssh.ssh_options) argv.insert(argv.end(), {"--ssh-option", o});
    for (const std::string& o : KeepAliveOptions(ssh)) {
      argv.insert(argv.end(), {"--ssh-option", o});
    }
    if (!ssh.identity_file.empty()) {
      argv.insert(argv.end(), {"--ssh-option", "IdentityFile=" + ssh.identity_file});
    }
    if (!options_.remote_engine.empty()) {
      argv.insert(argv.end(), {"--remote-engine", options_.remote_engine});
    }
    std::string stats = options_.temp_dir + "/ssh-" + std::to_string(++stats_counter_) + ".json";
    argv.insert(argv.end(), {"--json-stats", stats});
    // The sending engine compresses and paces: ours on a push, the far one on a pull.
    std::vector<std::string> sender_flags;
    if (!options_.codec.empty())
      sender_flags.insert(sender_flags.end(), {"--codec", options_.codec});
    if (!options_.rate_limit.empty()) {
      sender_flags.insert(sender_flags.end(), {"-r", options_.rate_limit});
    }
    if (push) argv.insert(argv.end(), sender_flags.begin(), sender_flags.end());
    // Our engine reports the stream's bytes on descriptor 3 (before "--": ours, not the far one's).
    ProgressScope progress(options_.progress, command.label, command.expected_bytes);
    ChainStage stage{{}, false, {}};
    if (progress.enabled()) {
      argv.insert(argv.end(), {"--progress-fd", "3"});
      stage.on_fd3_line = [&progress](const std::string& line) { progress.Line(line); };
    }
    argv.insert(argv.end(), {"--", "-q", "--timeout", timeout, "--exec", ShellJoin(far_argv)});
    if (pull) argv.insert(argv.end(), sender_flags.begin(), sender_flags.end());
    stage.argv = argv;
    Result<ChainResult> ran = RunProcessChain({stage});
    if (!ran.ok()) {
      result.status = ran.status();
      result.data_moved = true;
      Command remove{{"rm", "-f", stats}, Effect::kReadOnly, ""};
      remove.cleanup = true;
      (void)local_.Run(remove);
      return result;
    }
    result.seconds = ran->seconds;
    Figures(ReadStats(local_, stats), result);
    const StageResult& engine = ran->stages[0];
    result.data_moved = !(engine.exit_code == contract::kExitNetwork && result.bytes == 0);
    if (engine.exit_code != contract::kExitOk) {
      result.failed_command = ShellJoin(
          engine.exit_code == contract::kExitProducer ? command.send_argv : command.recv_argv);
      result.failed_stderr = engine.err;
      result.status = Aborted("zsend-engine " + role + " --ssh failed (exit " +
                              std::to_string(engine.exit_code) +
                              "): " + engine.err.substr(0, engine.err.find('\n')));
    }
    return result;
  }

  // The --json-stats document that begins on the last line starting with "{" ({} if none).
  static nlohmann::json StatsFromOutput(const std::string& out) {
    size_t start = out.rfind("\n{");
    start = start != std::string::npos ? start + 1 : out.rfind('{', 0);
    if (start == std::string::npos) return nlohmann::json::object();
    nlohmann::json figures = nlohmann::json::parse(out.substr(start), nullptr, false);
    return figures.is_object() ? figures : nlohmann::json::object();
  }
  // The sender's --json-stats document ({} when it cannot be read).
  static nlohmann::json ReadStats(CommandRunner& host, const std::string& path,
                                  bool remove = true) {
    Command cat{{"cat", path}, Effect::kReadOnly, ""};
    cat.cleanup = true;
    Result<CommandOutput> text = host.Run(cat);
    Command rm{{"rm", "-f", path}, Effect::kReadOnly, ""};
    rm.cleanup = true;
    if (remove) (void)host.Run(rm);
    if (!text.ok() || !text->ok()) return nlohmann::json::object();
    nlohmann::json figures = nlohmann::json::parse(text->out, nullptr, false);
    return figures.is_object() ? figures : nlohmann::json::object();
  }
  static void Figures(const nlohmann::json& figures, StreamResult& result) {
    if (figures.contains(contract::kStatsStreamBytes) &&
        figures[contract::kStatsStreamBytes].is_number()) {
      result.bytes = figures[contract::kStatsStreamBytes].get<uint64_t>();
    }
    if (figures.contains(contract::kStatsWireBytes) &&
        figures[contract::kStatsWireBytes].is_number()) {
      result.wire_bytes = figures[contract::kStatsWireBytes].get<uint64_t>();
    }
  }

  CommandRunner& source_;
  CommandRunner& target_;
  TcpAddresses addresses_;
  LocalRunner local_;
  std::atomic<int> stats_counter_{0};
  TransportOptions options_;
  std::unique_ptr<StreamMover> pipe_;
  std::mutex mutex_;
  bool probed_ = false;  // guarded by mutex_
  EngineCheck engines_;  // guarded by mutex_
};

}  // namespace

std::unique_ptr<StreamMover> MakeEngineMover(CommandRunner& source, CommandRunner& target,
                                             const TransportOptions& options,
                                             std::unique_ptr<StreamMover> pipe) {
  return std::make_unique<EngineMover>(source, target, options, std::move(pipe));
}

}  // namespace zsend::orchestrator
