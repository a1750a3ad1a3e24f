#include "orchestrator/run/engine_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/engine_contract.h"
#include "base/subprocess.h"
#include "base/unique_fd.h"
#include "orchestrator/host/process_chain.h"
#include "orchestrator/host/ssh_runner.h"
#include "orchestrator/run/engine_probe.h"
#include "orchestrator/run/far_side.h"
#include "orchestrator/run/run_interrupt.h"

namespace zsend::orchestrator {
namespace {

namespace contract = engine_contract;

constexpr int kAnnounceTimeoutMs = 30000;

// Seconds as the engine's --timeout takes them.
std::string Seconds(double seconds) {
  return std::to_string(static_cast<int64_t>(seconds < 1 ? 1 : seconds));
}
// How long a receiver may take to end by itself once its sender failed, before it is stopped.
constexpr int kReceiverGraceMs = 2000;

// Runs "$@" (the receiver) and stops it (SIGTERM) when this script's stdin reaches EOF, so a
// receiver that still waits for a connection that will never come ends with its caller, also
// on a far host (ssh passes the EOF on). Exits with the receiver's exit code.
constexpr char kStopOnStdinEof[] =
    "exec 3<&0; \"$@\" 3<&- & r=$!; { read -r _ <&3; kill $r; } 2>/dev/null & w=$!; "
    "exec 3<&-; wait $r; s=$?; kill $w 2>/dev/null; exit $s";

// A child whose stdout is read line by line while it runs (the announcing receiver), in its own
// process group. Its stdin is a pipe this object holds; closing it (Abandon) stops a receiver
// started through kStopOnStdinEof. The destructor stops and reaps a child still running.
class AnnouncingChild {
 public:
  ~AnnouncingChild() {
    if (pid_ > 0) {
      Abandon();
      if (!ended_ && !EndsWithin(kReceiverGraceMs)) Stop();
      Wait();
    }
  }
  Status Start(const std::vector<std::string>& argv) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      return ErrnoStatus("pipe", errno);
    }
    UniqueFd in_read(in[0]);
    in_.reset(in[1]);
    out_.reset(out[0]);
    err_.reset(err[0]);
    UniqueFd out_write(out[1]), err_write(err[1]);
    base::SpawnOptions spawn;
    spawn.stdin_fd = in_read.get();
    spawn.stdout_fd = out_write.get();
    spawn.stderr_fd = err_write.get();
    base::SpawnResult started = base::Spawn(argv, spawn);
    if (started.fork_errno != 0) return ErrnoStatus("fork", started.fork_errno);
    if (started.exec_errno != 0) {
      return ErrnoStatus("cannot run " + argv[0], started.exec_errno);
    }
    pid_ = started.pid;
    fcntl(err_.get(), F_SETFL, O_NONBLOCK);
    return Status::Ok();
  }
  // Closes the child's stdin: a receiver that has not ended yet is stopped.
  void Abandon() { in_.reset(); }
  // Stops the child's process group now (SIGTERM, SIGCONT, then SIGKILL) and reaps it.
  void Stop() {
    if (pid_ <= 0 || ended_) return;
    status_ = base::StopAndReap(pid_, pid_, kReceiverGraceMs);
    ended_ = true;
  }
  // True when the child ended within `timeout_ms` (Wait then returns at once).
  bool EndsWithin(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (pid_ > 0 && !ended_) {
      DrainErr();
      pid_t done = waitpid(pid_, &status_, WNOHANG);
      if (done == pid_) {
        ended_ = true;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      usleep(20000);
    }
    return true;
  }
  // The first line of stdout; "" when the child ended, `timeout_ms` passed or the run was
  // interrupted first.
  std::string FirstLine(int timeout_ms) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (line.find('\n') == std::string::npos) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0 || Interrupted()) return "";
      pollfd fds[2] = {{out_.get(), POLLIN, 0}, {InterruptFd(), POLLIN, 0}};
      if (poll(fds, fds[1].fd >= 0 ? 2 : 1, left) <= 0) continue;
      if (fds[0].revents == 0) continue;
      char c[256];
      ssize_t got = read(out_.get(), c, sizeof c);
      if (got <= 0) return "";
      line.append(c, static_cast<size_t>(got));
    }
    return line.substr(0, line.find('\n'));
  }
  // Waits for the child (stopping it when the run is interrupted); its exit code and stderr.
  StageResult Wait() {
    StageResult result;
    while (pid_ > 0 && !ended_) {
      if (Interrupted()) {
        Abandon();
        Stop();
        break;
      }
      EndsWithin(200);
    }
    DrainErr();
    result.err = err_text_;
    if (pid_ > 0) {
      pid_ = -1;
      result.exit_code = base::ExitCodeOf(status_);
    }
    return result;
  }

 private:
  void DrainErr() {
    char buffer[4096];
    ssize_t got;
    while (err_.valid() && (got = read(err_.get(), buffer, sizeof buffer)) > 0) {
      if (err_text_.size() < 65536) err_text_.append(buffer, static_cast<size_t>(got));
    }
  }

  pid_t pid_ = -1;
  bool ended_ = false;  // reaped
  int status_ = 0;
  UniqueFd in_, out_, err_;
  std::string err_text_;
};

class EngineMover : public StreamMover {
 public:
  EngineMover(CommandRunner& source, CommandRunner& target, TransportOptions options,
              std::unique_ptr<StreamMover> pipe)
      : source_(source), target_(target), options_(std::move(options)), pipe_(std::move(pipe)) {}

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
  std::string Engine(const CommandRunner& host) const {
    if (host.IsRemote())
      return options_.remote_engine.empty() ? "zsend-engine" : options_.remote_engine;
    return options_.local_engine;
  }

  // Both hosts' engines checked against the engine contract (engine_probe.h), once per run.
  EngineCheck CheckedEngines() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!probed_) {
      engines_ = CheckEngines({{&source_, Engine(source_)}, {&target_, Engine(target_)}});
      probed_ = true;
    }
    return engines_;
  }

  // Field `index` of $SSH_CONNECTION on a remote host (0: the ssh client's address, 2: the
  // address the host was reached at), in the form --connect takes; "" when unknown.
  static std::string SshConnectionAddress(CommandRunner& host, size_t index) {
    Result<CommandOutput> env =
        host.Run({{"sh", "-c", "echo $SSH_CONNECTION"}, Effect::kReadOnly, ""});
    if (!env.ok() || !env->ok()) return "";
    std::istringstream fields(env->out);
    std::string field;
    for (size_t i = 0; i <= index; ++i) {
      if (!(fields >> field)) return "";
    }
    return field.find(':') == std::string::npos ? field : "[" + field + "]";
  }

  // The address the source connects to (asked once per run).
  std::string TargetHostForSource() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (target_address_.empty()) target_address_ = FindTargetHostForSource();
    return target_address_;
  }
  // "[v6]:port" or "v4:port".
  static std::string JoinHostPort(const std::string& host, const std::string& port) {
    return host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port;
  }
  // The receiver's --listen: the sender's address for the target when it is known to be the
  // target's own, so the one-shot port is not offered on every interface.
  std::string ReceiverListenAddress() {
    (void)TargetHostForSource();  // sets target_bind_
    std::lock_guard<std::mutex> lock(mutex_);
    return target_bind_.empty() ? "0" : JoinHostPort(target_bind_, "0");
  }
  std::string FindTargetHostForSource() {
    if (target_.IsRemote()) {
      // From here, the target is where our ssh session arrived: the address ssh resolved,
      // also for a Host alias of ~/.ssh/config, which the engine could not resolve.
      if (!source_.IsRemote()) {
        std::string reached = SshConnectionAddress(target_, 2);
        if (!reached.empty()) {
          target_bind_ = reached;  // an address of the target's own: sshd accepted on it
          return reached;
        }
      }
      auto* ssh = dynamic_cast<SshRunner*>(&target_.Unwrapped());
      if (ssh) return HostOfDestination(ssh->options().destination);
      return HostOfDestination(target_.HostLabel());
    }
    if (!source_.IsRemote()) {
      target_bind_ = "127.0.0.1";
      return "127.0.0.1";
    }
    // The source reaches us at the address its ssh session came from.
    std::string client = SshConnectionAddress(source_, 0);
    return client.empty() ? "127.0.0.1" : client;
  }

  StreamResult MoveTcp(const StreamCommand& command) {
    StreamResult result;
    result.transport = "tcp";
    // A fresh sender key on the source host, in a private directory.
    const std::string engine = Engine(source_);
    Result<CommandOutput> made =
        source_.Run({{"sh", "-c", kKeygenScript, "sh", engine}, Effect::kReadOnly, ""});
    if (!made.ok() || !made->ok()) {
      result.status =
          made.ok() ? CommandFailed(source_, {{engine, "keygen"}, Effect::kReadOnly, ""}, *made)
                    : made.status();
      return result;
    }
    // Marker lines, not "the first line" (far_side.h); a directory is removed only when it
    // is one kKeygenScript made.
    Result<FarKey> far_key = ParseKeygenOutput(made->out);
    if (!far_key.ok()) {
      result.status = far_key.status().WithContext(source_.HostLabel());
      return result;
    }
    const std::string key_dir = far_key->dir;
    const std::string pub = far_key->pub;
    struct Cleanup {
      CommandRunner& host;
      std::string dir;
      ~Cleanup() {
        if (!IsOurKeyDir(dir)) return;
        Command remove{{"rm", "-rf", "--", dir}, Effect::kReadOnly, ""};
        remove.cleanup = true;
        (void)host.Run(remove);
      }
    } cleanup{source_, key_dir};

    std::vector<std::string> recv = {"sh",
                                     "-c",
                                     kStopOnStdinEof,
                                     "sh",
                                     Engine(target_),
                                     "recv",
                                     "--listen",
                                     ReceiverListenAddress(),
                                     "--once",
                                     "--announce",
                                     "-q",
                                     "--timeout",
                                     Seconds(options_.timeout_seconds),
                                     "--authorize",
                                     pub,
                                     "--exec",
                                     ShellJoin(command.recv_argv)};
    Result<std::vector<std::string>> recv_argv = target_.StreamArgv(recv);
    if (!recv_argv.ok()) {
      result.status = recv_argv.status();
      return result;
    }
    AnnouncingChild receiver;
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
    std::string address = JoinHostPort(TargetHostForSource(), std::to_string(announce->port));
    std::vector<std::string> send = {engine,
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
                                     Seconds(options_.timeout_seconds),
                                     "--json-stats",
                                     key_dir + "/stats.json"};
    if (!options_.rate_limit.empty()) send.insert(send.end(), {"-r", options_.rate_limit});
    if (!options_.codec.empty()) send.insert(send.end(), {"--codec", options_.codec});
    Result<std::vector<std::string>> send_argv = source_.StreamArgv(send);
    if (!send_argv.ok()) {
      result.status = send_argv.status();
      return result;
    }
    Result<ChainResult> sent = RunProcessChain({{*send_argv, false}});
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
    // Not removed on its own: the key directory's cleanup takes it (one ssh round trip less).
    nlohmann::json stats = ReadStats(source_, key_dir + "/stats.json", /*remove=*/false);
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
    const std::string timeout = Seconds(options_.timeout_seconds);
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
    if (push && !options_.codec.empty()) argv.insert(argv.end(), {"--codec", options_.codec});
    argv.insert(argv.end(), {"--", "-q", "--timeout", timeout, "--exec", ShellJoin(far_argv)});
    if (pull && !options_.codec.empty()) argv.insert(argv.end(), {"--codec", options_.codec});
    Result<ChainResult> ran = RunProcessChain({{argv, false}});
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
  LocalRunner local_;
  std::atomic<int> stats_counter_{0};
  TransportOptions options_;
  std::unique_ptr<StreamMover> pipe_;
  std::mutex mutex_;
  bool probed_ = false;         // guarded by mutex_
  EngineCheck engines_;         // guarded by mutex_
  std::string target_address_;  // guarded by mutex_
  // The address the tcp receiver binds to where the sender's address for it is known to be
  // the target's own (loopback, or where the run's ssh session arrived); empty: all of them.
  std::string target_bind_;  // guarded by mutex_
};

}  // namespace

std::string HostOfDestination(const std::string& destination) {
  size_t at = destination.rfind('@');
  return at == std::string::npos ? destination : destination.substr(at + 1);
}

std::unique_ptr<StreamMover> MakeEngineMover(CommandRunner& source, CommandRunner& target,
                                             const TransportOptions& options,
                                             std::unique_ptr<StreamMover> pipe) {
  return std::make_unique<EngineMover>(source, target, options, std::move(pipe));
}

}  // namespace zsend::orchestrator
