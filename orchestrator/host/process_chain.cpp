#include "orchestrator/host/process_chain.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "base/unique_fd.h"

namespace zsend::orchestrator {
namespace {

constexpr size_t kCaptureLimit = 64 * 1024;

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Starts one stage with the given descriptors as fd 0, 1 and 2 (-1 for 2: inherit).
pid_t StartStage(const std::vector<std::string>& argv, int in, int out, int err) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  dup2(in, 0);
  dup2(out, 1);
  if (err >= 0) dup2(err, 2);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  execvp(args[0], args.data());
  std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
  _exit(127);
}

}  // namespace

int ChainResult::FirstFailed() const {
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].exit_code != 0) return static_cast<int>(i);
  }
  return -1;
}

Result<ChainResult> RunProcessChain(const std::vector<ChainStage>& stages) {
  if (stages.empty()) return InvalidArgument("RunProcessChain: no stages");
  auto start = std::chrono::steady_clock::now();
  UniqueFd null_in(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_in.valid()) return ErrnoStatus("open /dev/null", errno);

  // captures[i]: the read end of stage i's stderr; captures[n]: the last stage's stdout.
  const size_t n = stages.size();
  std::vector<UniqueFd> captures(n + 1);
  std::vector<pid_t> pids(n, -1);
  UniqueFd previous_out;  // read end feeding the next stage
  Status failure;
  for (size_t i = 0; i < n && failure.ok(); ++i) {
    int pipe_out[2];
    if (pipe2(pipe_out, O_CLOEXEC) != 0) {
      failure = ErrnoStatus("pipe", errno);
      break;
    }
    UniqueFd out_read(pipe_out[0]), out_write(pipe_out[1]);
    UniqueFd err_read, err_write;
    if (!stages[i].stderr_to_terminal) {
      int pipe_err[2];
      if (pipe2(pipe_err, O_CLOEXEC) != 0) {
        failure = ErrnoStatus("pipe", errno);
        break;
      }
      err_read.reset(pipe_err[0]);
      err_write.reset(pipe_err[1]);
    }
    int in = i == 0 ? null_in.get() : previous_out.get();
    pids[i] = StartStage(stages[i].argv, in, out_write.get(), err_write.get());
    if (pids[i] < 0) {
      failure = ErrnoStatus("fork", errno);
      break;
    }
    captures[i] = std::move(err_read);
    previous_out = std::move(out_read);
  }
  if (failure.ok()) captures[n] = std::move(previous_out);
  previous_out.reset();
  null_in.reset();

  ChainResult result;
  result.stages.resize(n);
  std::vector<std::string*> sinks;
  for (size_t i = 0; i < n; ++i) sinks.push_back(&result.stages[i].err);
  sinks.push_back(&result.out);
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i <= n; ++i) {
      if (captures[i].valid()) {
        fds.push_back({captures[i].get(), POLLIN, 0});
        which.push_back(i);
      }
    }
    if (fds.empty()) break;
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      char buffer[8192];
      ssize_t got = read(fds[k].fd, buffer, sizeof buffer);
      if (got > 0) {
        std::string& sink = *sinks[which[k]];
        size_t room = sink.size() < kCaptureLimit ? kCaptureLimit - sink.size() : 0;
        sink.append(buffer, std::min(room, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        captures[which[k]].reset();
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (pids[i] <= 0) continue;
    int status = 0;
    while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {
    }
    result.stages[i].exit_code = ExitCodeOf(status);
  }
  if (!failure.ok()) return failure;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace zsend::orchestrator
