#include "orchestrator/host/process_chain.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "base/subprocess.h"
#include "base/unique_fd.h"
#include "orchestrator/run/run_interrupt.h"

namespace zsend::orchestrator {
namespace {

constexpr size_t kCaptureLimit = 64 * 1024;

}  // namespace

int ChainResult::FirstFailed() const {
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].exit_code != 0) return static_cast<int>(i);
  }
  return -1;
}

Result<ChainResult> RunProcessChain(const std::vector<ChainStage>& stages, double tail_seconds,
                                    const std::function<bool()>& partner_ended) {
  if (stages.empty()) return InvalidArgument("RunProcessChain: no stages");
  if (Interrupted()) return InterruptedStatus("the transfer did not start");
  auto start = std::chrono::steady_clock::now();
  UniqueFd null_in(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_in.valid()) return ErrnoStatus("open /dev/null", errno);

  // captures[i]: the read end of stage i's stderr; captures[n]: the last stage's stdout;
  // captures[n + 1 + i]: stage i's descriptor 3 (on_fd3_line).
  const size_t n = stages.size();
  ChainResult result;
  result.stages.resize(n);
  std::vector<UniqueFd> captures(2 * n + 1);
  std::vector<std::string> fd3_lines(n);  // a line not yet ended, per stage
  std::vector<pid_t> pids(n, -1);
  std::vector<bool> reaped(n, false);
  pid_t group = 0;        // the first stage's pid: every stage joins its process group
  UniqueFd previous_out;  // read end feeding the next stage
  Status failure;
  for (size_t i = 0; i < n && failure.ok(); ++i) {
    int pipe_out[2];
    if (pipe2(pipe_out, O_CLOEXEC) != 0) {
      failure = ErrnoStatus("pipe", errno);
      break;
    }
    UniqueFd out_read(pipe_out[0]), out_write(pipe_out[1]);
    int pipe_err[2];
    if (pipe2(pipe_err, O_CLOEXEC) != 0) {
      failure = ErrnoStatus("pipe", errno);
      break;
    }
    UniqueFd err_read(pipe_err[0]), err_write(pipe_err[1]);
    UniqueFd fd3_read, fd3_write;
    if (stages[i].on_fd3_line) {
      int pipe_fd3[2];
      if (pipe2(pipe_fd3, O_CLOEXEC) != 0) {
        failure = ErrnoStatus("pipe", errno);
        break;
      }
      fd3_read.reset(pipe_fd3[0]);
      fd3_write.reset(pipe_fd3[1]);
    }
    base::SpawnOptions spawn;
    spawn.stdin_fd = i == 0 ? null_in.get() : previous_out.get();
    spawn.stdout_fd = out_write.get();
    spawn.stderr_fd = stages[i].stderr_to_terminal ? -1 : err_write.get();
    spawn.process_group = group;
    spawn.fd3 = fd3_write.valid() ? fd3_write.get() : -1;
    base::SpawnResult started = base::Spawn(stages[i].argv, spawn);
    if (started.fork_errno != 0) {
      failure = ErrnoStatus("fork", started.fork_errno);
      break;
    }
    if (started.exec_errno != 0) {
      // Reported like a shell would: exit 127 with the reason on the stage's stderr.
      result.stages[i].exit_code = 127;
      result.stages[i].err =
          "cannot run " + stages[i].argv[0] + ": " + std::strerror(started.exec_errno) + "\n";
      reaped[i] = true;
    } else {
      pids[i] = started.pid;
      if (group == 0) group = started.pid;
    }
    if (!stages[i].stderr_to_terminal) captures[i] = std::move(err_read);
    captures[n + 1 + i] = std::move(fd3_read);
    previous_out = std::move(out_read);
  }
  if (failure.ok()) captures[n] = std::move(previous_out);
  previous_out.reset();
  null_in.reset();

  std::vector<std::string*> sinks;
  for (size_t i = 0; i < n; ++i) sinks.push_back(&result.stages[i].err);
  sinks.push_back(&result.out);
  const int interrupt_fd = InterruptFd();
  // Once a stage failed the others get kChainGraceMs to end on their own (EOF, EPIPE, their
  // own error); a stage that does not (stopped, hung on a far host) is stopped with its group.
  std::optional<std::chrono::steady_clock::time_point> failed_at;
  bool stopped = false;
  std::optional<std::chrono::steady_clock::time_point> tail_from;
  if (!failure.ok()) failed_at = std::chrono::steady_clock::now() - std::chrono::hours(1);
  for (;;) {
    bool all_reaped = true;
    for (size_t i = 0; i < n; ++i) {
      if (reaped[i] || pids[i] <= 0) continue;
      int status = 0;
      pid_t done = waitpid(pids[i], &status, WNOHANG);
      if (done == pids[i]) {
        reaped[i] = true;
        result.stages[i].exit_code = base::ExitCodeOf(status);
        if (result.stages[i].exit_code != 0 && !failed_at) {
          failed_at = std::chrono::steady_clock::now();
        }
      } else {
        all_reaped = false;
      }
    }
    if (!failed_at && !all_reaped && partner_ended && partner_ended()) {
      failed_at = std::chrono::steady_clock::now();
    }
    std::vector<pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i < captures.size(); ++i) {
      if (captures[i].valid()) {
        fds.push_back({captures[i].get(), POLLIN, 0});
        which.push_back(i);
      }
    }
    // Every stage ended: what is still open belongs to a daemonised grandchild; take what is
    // there and stop.
    if (all_reaped && fds.empty()) break;
    if (all_reaped) {
      for (size_t k = 0; k < fds.size(); ++k) fcntl(fds[k].fd, F_SETFL, O_NONBLOCK);
    }
    // The stream is all written (every stage but the last ended with 0): the last one gets
    // tail_seconds to end.
    if (!tail_from && tail_seconds > 0 && n >= 2 && !reaped[n - 1]) {
      bool upstream_done = true;
      for (size_t i = 0; i + 1 < n; ++i) {
        upstream_done = upstream_done && reaped[i] && result.stages[i].exit_code == 0;
      }
      if (upstream_done) tail_from = std::chrono::steady_clock::now();
    }
    if (!stopped && tail_from && !failed_at &&
        std::chrono::steady_clock::now() - *tail_from >=
            std::chrono::milliseconds(static_cast<int64_t>(tail_seconds * 1000))) {
      result.stalled = stages[n - 1].argv[0] + " did not end within " +
                       std::to_string(static_cast<int64_t>(tail_seconds)) +
                       " s after its whole input arrived; stopped it (--timeout)";
      failed_at = std::chrono::steady_clock::now() - std::chrono::hours(1);
    }
    if (!stopped && group > 0) {
      const bool interrupted = Interrupted();
      const bool overdue = failed_at && std::chrono::steady_clock::now() - *failed_at >=
                                            std::chrono::milliseconds(kChainGraceMs);
      if (interrupted || overdue) {
        result.interrupted = interrupted;
        stopped = true;
        base::KillGroup(group, SIGTERM);
        failed_at = std::chrono::steady_clock::now();  // SIGKILL after another grace period
      }
    } else if (stopped && group > 0 &&
               std::chrono::steady_clock::now() - *failed_at >= std::chrono::milliseconds(2000)) {
      kill(-group, SIGKILL);
    }
    if (!all_reaped && interrupt_fd >= 0 && !stopped) fds.push_back({interrupt_fd, POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), all_reaped ? 0 : 100);
    if (ready < 0 && errno != EINTR) break;
    bool any_data = false;
    for (size_t k = 0; k < which.size(); ++k) {
      if (fds[k].revents == 0 && !all_reaped) continue;
      char buffer[8192];
      ssize_t got = read(fds[k].fd, buffer, sizeof buffer);
      if (got > 0 && which[k] > n) {
        const size_t stage = which[k] - n - 1;
        std::string& pending = fd3_lines[stage];
        pending.append(buffer, static_cast<size_t>(got));
        for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
          stages[stage].on_fd3_line(pending.substr(0, end));
          pending.erase(0, end + 1);
        }
        if (pending.size() > kCaptureLimit) pending.clear();  // not lines: dropped
      } else if (got > 0) {
        any_data = true;
        std::string& sink = *sinks[which[k]];
        size_t room = sink.size() < kCaptureLimit ? kCaptureLimit - sink.size() : 0;
        sink.append(buffer, std::min(room, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN) || all_reaped) {
        captures[which[k]].reset();
      }
    }
    (void)any_data;
  }
  if (!failure.ok()) return failure;
  if (result.interrupted) return InterruptedStatus("the transfer was stopped");
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace zsend::orchestrator
