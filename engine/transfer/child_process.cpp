#include "engine/transfer/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/subprocess.h"
#include "engine/ring/interrupt.h"

extern char** environ;

namespace zsend {
namespace {

// How long a child told to stop (Kill) may take before it is killed with SIGKILL.
constexpr int kKillGraceMs = 10000;

constexpr size_t kTailBytes = 4096;

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                          Pipe pipe, bool echo_stderr) {
  int data[2], err[2];
  if (pipe2(data, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd data_read(data[0]), data_write(data[1]);
  if (pipe2(err, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd err_read(err[0]), err_write(err[1]);
  UniqueFd null_fd(open("/dev/null", O_RDWR | O_CLOEXEC));

  // base::Spawn: default signal dispositions and an empty mask (we ignore SIGPIPE and block
  // signals in threads), no inherited descriptors, and a parent-death signal: a `zfs recv`
  // never outlives an engine killed with SIGKILL. The child stays in our process group, so the
  // orchestrator stopping the engine's group stops it too.
  base::SpawnOptions spawn;
  spawn.stdin_fd = pipe == Pipe::kStdout ? null_fd.get() : data_read.get();
  spawn.stdout_fd = pipe == Pipe::kStdout ? data_write.get() : null_fd.get();
  spawn.stderr_fd = err_write.get();
  spawn.process_group = -1;
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  for (const std::string& a : argv) child->display_ += (child->display_.empty() ? "" : " ") + a;
  child->display_ = "'" + child->display_ + "'";
  base::SpawnResult started = base::Spawn(argv, spawn);
  int rc = started.fork_errno != 0 ? started.fork_errno : started.exec_errno;
  if (!started.ok()) {
    child->pid_ = -1;
    return Status(rc == ENOENT ? StatusCode::kNotFound : StatusCode::kFailedPrecondition,
                  "cannot run " + child->display_ + ": " + std::strerror(rc));
  }
  child->pid_ = started.pid;
  child->pipe_ = pipe == Pipe::kStdout ? std::move(data_read) : std::move(data_write);
  err_write.reset();
  int err_fd = err_read.release();
  child->stderr_thread_ =
      std::thread([c = child.get(), err_fd, echo_stderr] { c->DrainStderr(err_fd, echo_stderr); });
  return child;
}

void ChildProcess::DrainStderr(int fd, bool echo) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (echo) (void)!::write(STDERR_FILENO, buf, static_cast<size_t>(n));
    std::lock_guard lock(mu_);
    tail_.append(buf, static_cast<size_t>(n));
    if (tail_.size() > 2 * kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
  }
  ::close(fd);
}

ChildProcess::~ChildProcess() {
  pipe_.reset();
  if (pid_ > 0 && !waited_) {
    Kill();
    Wait();
  }
  if (stderr_thread_.joinable()) stderr_thread_.join();
}

void ChildProcess::Kill() {
  std::lock_guard lock(mu_);
  if (pid_ > 0 && !waited_ && !killed_) {
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);  // a stopped child acts on SIGTERM only once continued
    killed_ = true;
  }
}

int ChildProcess::Wait() {
  if (waited_ || pid_ <= 0) return exit_code_;
  int status = 0;
  bool killed;
  {
    std::lock_guard lock(mu_);
    killed = killed_;
  }
  bool reaped = false;
  if (killed) {
    // A child told to stop gets kKillGraceMs to do so (a zfs recv aborting), then SIGKILL.
    for (int ms = 0; ms < kKillGraceMs && !reaped; ms += 20) {
      reaped = waitpid(pid_, &status, WNOHANG) == pid_;
      if (!reaped) usleep(20000);
    }
    if (!reaped) ::kill(pid_, SIGKILL);
  }
  while (!reaped && waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  {
    std::lock_guard lock(mu_);
    waited_ = true;
  }
  // The stderr pipe ends when the child (and anything it started) has closed it.
  if (stderr_thread_.joinable()) stderr_thread_.join();
  return exit_code_;
}

std::string ChildProcess::stderr_tail() const {
  std::lock_guard lock(mu_);
  std::string tail = tail_.size() > kTailBytes ? tail_.substr(tail_.size() - kTailBytes) : tail_;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  return tail;
}

std::string DescribeExit(int exit_code, const std::string& stderr_tail) {
  std::string text = exit_code > 128 ? "was killed by signal " + std::to_string(exit_code - 128)
                                     : "exited with " + std::to_string(exit_code);
  if (!stderr_tail.empty()) {
    std::string last = stderr_tail;
    for (char& c : last) {
      if (c == '\n') c = ' ';
    }
    if (last.size() > 1000) last = "..." + last.substr(last.size() - 1000);
    text += ": " + last;
  }
  return text;
}

Result<size_t> ChildSource::Read(std::byte* buf, size_t len) {
  for (;;) {
    ssize_t n = ::read(child_->pipe_fd(), buf, len);
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno == EINTR) {
      if (ThisThreadInterrupted()) return Cancelled("reading from the producer was interrupted");
      continue;
    }
    if (n < 0) return ErrnoStatus("reading from producer " + child_->display(), errno);
    // End of its output: only a clean exit makes it the end of the stream.
    const int code = child_->Wait();
    if (code != 0) {
      return Aborted("producer " + child_->display() + " " +
                     DescribeExit(code, child_->stderr_tail()));
    }
    return size_t{0};
  }
}

Status ChildSink::Write(const std::byte* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::write(child_->pipe_fd(), buf + done, len - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      if (ThisThreadInterrupted()) return Cancelled("writing to the consumer was interrupted");
      continue;
    }
    const int err = errno;
    child_->ClosePipe();
    const int code = child_->Wait();
    return Aborted("consumer " + child_->display() + " " +
                   (code == 0 ? std::string("stopped reading: ") + std::strerror(err)
                              : DescribeExit(code, child_->stderr_tail())));
  }
  return Status::Ok();
}

Status ChildSink::Finish() {
  child_->ClosePipe();
  const int code = child_->Wait();
  if (code != 0) {
    return Aborted("consumer " + child_->display() + " " +
                   DescribeExit(code, child_->stderr_tail()));
  }
  return Status::Ok();
}

}  // namespace zsend
