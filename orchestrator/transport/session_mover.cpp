#include "orchestrator/transport/session_mover.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/engine_contract.h"
#include "base/subprocess.h"
#include "orchestrator/run/run_interrupt.h"
#include "orchestrator/transport/announcing_child.h"
#include "orchestrator/transport/engine_probe.h"
#include "orchestrator/transport/far_side.h"
#include "orchestrator/transport/tcp_addresses.h"

namespace zsend::orchestrator {
namespace {

namespace contract = engine_contract;

// `zsend-engine session` on the near host (here, or through ssh on a remote source): requests
// written to its stdin, result lines read from its stdout by a thread of ours and handed to the
// Move() waiting for that id. It outlives the --jobs worker that started it (no parent-death
// signal) and ends when its stdin closes.
class SessionProcess {
 public:
  ~SessionProcess() { End(); }

  Status Start(const std::vector<std::string>& argv) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      return ErrnoStatus("pipe", errno);
    }
    UniqueFd in_read(in[0]), out_write(out[1]), err_write(err[1]);
    in_.reset(in[1]);
    UniqueFd out_read(out[0]), err_read(err[0]);
    base::SpawnOptions spawn;
    spawn.stdin_fd = in_read.get();
    spawn.stdout_fd = out_write.get();
    spawn.stderr_fd = err_write.get();
    spawn.parent_death_signal = 0;
    base::SpawnResult started = base::Spawn(argv, spawn);
    if (started.fork_errno != 0) return ErrnoStatus("fork", started.fork_errno);
    if (started.exec_errno != 0) return ErrnoStatus("cannot run " + argv[0], started.exec_errno);
    pid_ = started.pid;
    reader_ = std::thread([this, fd = std::move(out_read)] { ReadResults(fd.get()); });
    err_reader_ = std::thread([this, fd = std::move(err_read)] {
      char buffer[4096];
      ssize_t got;
      while ((got = read(fd.get(), buffer, sizeof buffer)) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        err_.append(buffer, static_cast<size_t>(got));
        if (err_.size() > 16384) err_.erase(0, err_.size() - 16384);
      }
    });
    return Status::Ok();
  }

  // Sends one request and waits for its result; an error when the session ended first.
  Result<nlohmann::json> Request(const nlohmann::json& request) {
    const std::string id = request["id"].get<std::string>();
    std::string line = request.dump() + "\n";
    std::unique_lock<std::mutex> lock(mu_);
    // Not sent: kFailedPrecondition, so the caller knows nothing moved.
    if (!in_.valid() || ended_) return FailedPrecondition("the engine session has ended");
    // Writes are small (one line) and the session reads stdin all the time; a session that
    // died is an EPIPE here, never a SIGPIPE that ends zsend.
    SigpipeBlock no_sigpipe;
    for (size_t done = 0; done < line.size();) {
      ssize_t n = write(in_.get(), line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 && done == 0) return FailedPrecondition("the engine session has ended");
      if (n <= 0) return Unavailable("the engine session ended while it was sent a request");
      done += static_cast<size_t>(n);
    }
    while (!results_.count(id) && !ended_) {
      if (Interrupted()) return InterruptedStatus("the engine session's transfer was stopped");
      answered_.wait_for(lock, std::chrono::milliseconds(200));
    }
    if (!results_.count(id)) {
      return Unavailable("the engine session ended before the stream did: " + LastErrLine());
    }
    nlohmann::json result = std::move(results_[id]);
    results_.erase(id);
    return result;
  }

  bool ended() {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_;
  }

  // Closes its stdin (the session finishes and exits), waits, or stops it after a grace (at
  // once when the run was interrupted).
  int End() {
    if (pid_ <= 0) return exit_code_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_.reset();
    }
    int status = 0;
    bool exited = false;
    // An interrupted run does not wait for streams still moving.
    for (int i = 0; i < 250 && !exited && !Interrupted(); ++i) {  // 5 s
      exited = waitpid(pid_, &status, WNOHANG) == pid_;
      if (!exited) usleep(20000);
    }
    if (!exited) status = base::StopAndReap(pid_, pid_, kReceiverGraceMs);
    exit_code_ = base::ExitCodeOf(status);
    pid_ = -1;
    if (reader_.joinable()) reader_.join();
    if (err_reader_.joinable()) err_reader_.join();
    return exit_code_;
  }

 private:
  void ReadResults(int fd) {
    std::string pending;
    char buffer[4096];
    ssize_t got;
    while ((got = read(fd, buffer, sizeof buffer)) > 0) {
      pending.append(buffer, static_cast<size_t>(got));
      for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
        nlohmann::json result = nlohmann::json::parse(pending.substr(0, end), nullptr, false);
        pending.erase(0, end + 1);
        if (!result.is_object() || !result.contains("id") || !result["id"].is_string()) continue;
        const std::string id = result["id"].get<std::string>();
        std::lock_guard<std::mutex> lock(mu_);
        results_[id] = std::move(result);
        answered_.notify_all();
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    answered_.notify_all();
  }
  std::string LastErrLine() {  // mu_ held
    std::string text = err_;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    size_t start = text.rfind('\n');
    return start == std::string::npos ? text : text.substr(start + 1);
  }

  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::thread reader_, err_reader_;
  std::mutex mu_;
  std::condition_variable answered_;
  UniqueFd in_;                                    // guarded by mu_
  std::map<std::string, nlohmann::json> results_;  // guarded by mu_
  bool ended_ = false;                             // guarded by mu_
  std::string err_;                                // guarded by mu_
};

// One engine session: the key directory on the near host, the far serve, the near session.
struct EngineSession {
  bool lost = false;    // guarded by the mover's mutex
  bool worked = false;  // guarded by the mover's mutex: a stream started on it
  int users = 0;        // guarded by the mover's mutex: Move() calls using it now
  std::string key_dir;
  std::mutex far_mu;  // AnnouncingChild is one thread's at a time
  AnnouncingChild far;
  SessionProcess near;
};

class SessionMover : public StreamMover {
 public:
  SessionMover(CommandRunner& source, CommandRunner& target, TransportOptions options,
               std::unique_ptr<StreamMover> fallback)
      : pull_(SessionIsPull(source, target)),
        near_(pull_ ? target : source),
        far_(pull_ ? source : target),
        addresses_(near_, far_),
        options_(std::move(options)),
        fallback_(std::move(fallback)) {}

  ~SessionMover() override {
    std::lock_guard<std::mutex> lock(mu_);
    Close(std::move(session_));
  }

  StreamResult Move(const StreamCommand& command) override {
    for (int attempt = 0;; ++attempt) {
      std::shared_ptr<EngineSession> session;
      std::string why;
      {
        std::lock_guard<std::mutex> lock(mu_);
        why = Current();
        session = session_;
        if (session) ++session->users;
      }
      if (!why.empty()) {
        StreamResult result = fallback_->Move(command);
        if (result.fallback.empty()) result.fallback = "no engine session (" + why + ")";
        return result;
      }
      bool lost = false;
      StreamResult result = MoveOver(*session, command, &lost);
      bool never_worked = false;
      std::string unusable;
      std::shared_ptr<EngineSession> retired;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (result.data_moved) session->worked = true;
        // The last stream of a session already replaced closes it.
        if (--session->users == 0 && session != session_) retired = session;
        if (lost) {
          session->lost = true;
          // A session whose links never carried a stream (no direct path to the far serve)
          // is not tried again: the run goes on per stream, with that transport's fallbacks.
          never_worked = !session->worked;
          if (never_worked && unusable_.empty()) {
            unusable_ = "the engine session never connected: " + result.status.message();
          }
          unusable = unusable_;
        }
      }
      Close(std::move(retired));
      if (never_worked && !result.data_moved) {
        StreamResult fallback = fallback_->Move(command);
        if (fallback.fallback.empty()) fallback.fallback = "no engine session (" + unusable + ")";
        return fallback;
      }
      // The serving engine refused this stream's receive (a setting it does not serve, such as
      // a --set-properties mountpoint): that one stream goes by itself, as before sessions.
      if (result.refused) {
        StreamResult alone = fallback_->Move(command);
        if (alone.fallback.empty()) {
          alone.fallback = "the engine session refused it (" + result.status.message() + ")";
        }
        return alone;
      }
      // A stream the lost session never started moved nothing: once more on a fresh session.
      if (!lost || result.data_moved || attempt > 0 ||
          result.status.code() == StatusCode::kCancelled) {
        return result;
      }
    }
  }

  int sessions_started() const override { return started_.load(); }

 private:
  std::string Engine(const CommandRunner& host) const { return EngineProgram(host, options_); }

  // The session to use, started (or, lost, replaced once per run) as needed; or why there is
  // none, and the run moves its streams without one. mu_ held.
  std::string Current() {
    if (!unusable_.empty()) return unusable_;
    if (session_ && !session_->lost) return "";
    if (session_ && ++restarts_ > 1) {
      unusable_ = "the engine session was lost twice";
      return unusable_;
    }
    // A lost session still moving streams on its other links is left to finish them: the last
    // of them closes it (Move). One nobody uses is closed now.
    if (session_ && session_->users == 0) Close(std::move(session_));
    session_.reset();
    Result<std::shared_ptr<EngineSession>> started = Start();
    if (!started.ok()) {
      unusable_ = started.status().message();
      return unusable_;
    }
    session_ = *started;
    ++started_;
    return "";
  }

  Result<std::shared_ptr<EngineSession>> Start() {
    auto session = std::make_shared<EngineSession>();
    const std::string engine = Engine(near_);
    // This build's engine runs the near side of a push or pull; a remote source's engine (remote
    // to remote) is asked first, since a session that cannot start there would only show when
    // its first stream was already under way.
    if (near_.IsRemote()) {
      EngineCheck check = CheckEngines({{&near_, engine, contract::kCommandSession}});
      if (!check.ok()) return FailedPrecondition(check.problem + "; " + check.fix);
    }
    Result<FarKey> key = MakeKey(near_, engine);
    if (!key.ok()) return key.status();
    session->key_dir = key->dir;
    // Until the near session owns it (below), a failed start removes the key here.
    struct KeyGuard {
      CommandRunner& host;
      std::string dir;
      ~KeyGuard() {
        if (!dir.empty()) RemoveKeyDir(host, dir);
      }
    } key_guard{near_, key->dir};
    const std::string connections = std::to_string(std::max(1, options_.connections));
    const std::string timeout = EngineSeconds(options_.timeout_seconds);
    std::vector<std::string> serve = {"sh", "-c", kStopOnStdinEof, "sh", Engine(far_), "serve"};
    serve.insert(serve.end(), {"--listen", addresses_.ReceiverListenAddress(), "--announce", "-q"});
    serve.insert(serve.end(), {"--timeout", timeout, "--authorize", key->pub});
    serve.insert(serve.end(), {"--connections", connections, "-m", options_.memory});
    // The sending side compresses and paces: the far serve on a pull, the near session on a push.
    std::vector<std::string> sending;
    if (!options_.rate_limit.empty()) sending.insert(sending.end(), {"-r", options_.rate_limit});
    if (!options_.codec.empty()) sending.insert(sending.end(), {"--codec", options_.codec});
    if (pull_) serve.insert(serve.end(), sending.begin(), sending.end());
    for (const std::string& root : options_.session_roots) {
      serve.insert(serve.end(), {pull_ ? "--source-root" : "--target-root", root});
    }
    Result<std::vector<std::string>> serve_argv = far_.StreamArgv(serve);
    if (!serve_argv.ok()) return serve_argv.status();
    ZSEND_RETURN_IF_ERROR(session->far.Start(*serve_argv, 0));
    Result<Announce> announce = ParseAnnounce(session->far.FirstLine(kAnnounceTimeoutMs));
    if (!announce.ok()) {
      session->far.Abandon();
      StageResult ended = session->far.Wait();
      return Unavailable("zsend-engine serve on " + far_.HostLabel() + " " +
                         announce.status().message() + ": " +
                         ended.err.substr(0, ended.err.find('\n')));
    }
    // The key directory goes when the session ends, whatever ends it (kSendRemovingKeyDir): a
    // zsend killed mid-run leaves no key on the near host, remote or not.
    std::vector<std::string> near = {
        "sh",
        "-c",
        kSendRemovingKeyDir,
        "sh",
        key->dir,
        engine,
        "session",
        pull_ ? "--recv" : "--send",
        "--connect",
        JoinHostPort(addresses_.TargetHostForSource(), std::to_string(announce->port)),
        "--peer",
        announce->pubkey,
        "--key",
        key->dir + "/key",
        "--connections",
        connections,
        "-q",
        "--timeout",
        timeout,
        "-m",
        options_.memory};
    if (!pull_) near.insert(near.end(), sending.begin(), sending.end());
    // Remote to remote, the near side is the source host: the session runs there through its
    // ssh control connection, which carries the request and result lines.
    Result<std::vector<std::string>> near_argv = near_.StreamArgv(near);
    Status started = near_argv.ok() ? session->near.Start(*near_argv) : near_argv.status();
    key_guard.dir.clear();  // Close() removes it from here on
    if (!started.ok()) {
      Close(std::move(session));
      return started;
    }
    return session;
  }

  // `*lost`: the session itself failed (ended, or its link could not be opened again).
  StreamResult MoveOver(EngineSession& session, const StreamCommand& command, bool* lost) {
    StreamResult result;
    result.transport = "tcp";
    result.in_session = true;
    ProgressScope progress(options_.progress, command.label, command.expected_bytes);
    // The near command runs on the near host, the far one on the serving host.
    nlohmann::json request = {{"id", std::to_string(++next_id_)},
                              {"exec", ShellJoin(pull_ ? command.recv_argv : command.send_argv)},
                              {"far", pull_ ? command.send_argv : command.recv_argv}};
    Result<nlohmann::json> answer = session.near.Request(request);
    if (!answer.ok()) {
      const StatusCode code = answer.status().code();
      result.status = answer.status();
      result.data_moved = code != StatusCode::kCancelled && code != StatusCode::kFailedPrecondition;
      *lost = code != StatusCode::kCancelled;
      return result;
    }
    {
      std::lock_guard<std::mutex> far(session.far_mu);
      session.far.EndsWithin(0);  // reads what the far serve said, so its stderr never fills
    }
    const nlohmann::json& a = *answer;
    result.bytes = a.value("stream_bytes", uint64_t{0});
    result.wire_bytes = a.value("wire_bytes", uint64_t{0});
    result.seconds = a.value("seconds", 0.0);
    result.data_moved = a.value("started", true);
    if (progress.enabled()) {
      progress.Line(contract::FormatProgressLine({result.bytes, result.seconds}));
    }
    if (a.value("result", "") == "ok") return result;
    const std::string failure = a.value("failure", "");
    const std::string error = a.value("error", "");
    *lost = failure == "network" || failure == "timeout" || failure == "integrity";
    result.refused = failure == "usage" && !result.data_moved;
    if (failure == "consumer" || failure == "producer") {
      result.failed_command =
          ShellJoin(failure == "consumer" ? command.recv_argv : command.send_argv);
      std::string far = a.value("far_stderr", "");
      result.failed_stderr = far.empty() ? error : far;
    }
    result.status = Aborted("zsend-engine session stream failed (exit " +
                            std::to_string(a.value("exit_code", -1)) + ", " + failure +
                            "): " + error.substr(0, error.find('\n')));
    return result;
  }

  // Ends a session: the near side first (it closes its links, so the far serve exits by itself),
  // then the far side, then the key.
  void Close(std::shared_ptr<EngineSession> session) {
    if (!session) return;
    session->near.End();
    std::lock_guard<std::mutex> far(session->far_mu);
    if (Interrupted() || !session->far.EndsWithin(kReceiverGraceMs)) {
      session->far.Abandon();
      if (!session->far.EndsWithin(kReceiverGraceMs)) session->far.Stop();
    }
    session->far.Wait();
    RemoveKeyDir(near_, session->key_dir);
  }

  const bool pull_;  // the source is the far host (and the target this one)
  CommandRunner& near_;
  CommandRunner& far_;
  TcpAddresses addresses_;  // "source" near, "target" far: the far serve listens
  TransportOptions options_;
  std::unique_ptr<StreamMover> fallback_;
  std::atomic<uint64_t> next_id_{0};
  std::atomic<int> started_{0};
  std::mutex mu_;
  std::shared_ptr<EngineSession> session_;  // guarded by mu_
  std::string unusable_;                    // guarded by mu_: why sessions are not used
  int restarts_ = 0;                        // guarded by mu_
};

}  // namespace

bool SessionIsPull(const CommandRunner& source, const CommandRunner& target) {
  return source.IsRemote() && !target.IsRemote();
}

std::unique_ptr<StreamMover> MakeSessionMover(CommandRunner& source, CommandRunner& target,
                                              const TransportOptions& options,
                                              std::unique_ptr<StreamMover> fallback) {
  return std::make_unique<SessionMover>(source, target, options, std::move(fallback));
}

}  // namespace zsend::orchestrator
