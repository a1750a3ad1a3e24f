#include "orchestrator/transport/announcing_child.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "base/subprocess.h"
#include "orchestrator/run/run_interrupt.h"

namespace zsend::orchestrator {

AnnouncingChild::~AnnouncingChild() {
  if (pid_ > 0) {
    Abandon();
    if (!ended_ && !EndsWithin(kReceiverGraceMs)) Stop();
    Wait();
  }
}

Status AnnouncingChild::Start(const std::vector<std::string>& argv, int parent_death_signal) {
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
  spawn.parent_death_signal = parent_death_signal;
  base::SpawnResult started = base::Spawn(argv, spawn);
  if (started.fork_errno != 0) return ErrnoStatus("fork", started.fork_errno);
  if (started.exec_errno != 0) {
    return ErrnoStatus("cannot run " + argv[0], started.exec_errno);
  }
  pid_ = started.pid;
  fcntl(err_.get(), F_SETFL, O_NONBLOCK);
  return Status::Ok();
}

void AnnouncingChild::Stop() {
  if (pid_ <= 0 || ended_) return;
  status_ = base::StopAndReap(pid_, pid_, kReceiverGraceMs);
  ended_ = true;
}

bool AnnouncingChild::EndsWithin(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (pid_ > 0 && !ended_) {
    DrainErr();
    DrainOut();
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

std::string AnnouncingChild::FirstLine(int timeout_ms) {
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
  first_line_read_ = true;
  out_pending_ = line.substr(line.find('\n') + 1);
  fcntl(out_.get(), F_SETFL, O_NONBLOCK);
  return line.substr(0, line.find('\n'));
}

void AnnouncingChild::DrainOut() {
  if (!first_line_read_ || !on_line_ || !out_.valid()) return;
  char buffer[4096];
  ssize_t got;
  while ((got = read(out_.get(), buffer, sizeof buffer)) > 0) {
    out_pending_.append(buffer, static_cast<size_t>(got));
  }
  for (size_t end; (end = out_pending_.find('\n')) != std::string::npos;) {
    on_line_(out_pending_.substr(0, end));
    out_pending_.erase(0, end + 1);
  }
  if (out_pending_.size() > 65536) out_pending_.clear();  // not lines: dropped
}

StageResult AnnouncingChild::Wait() {
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

void AnnouncingChild::DrainErr() {
  char buffer[4096];
  ssize_t got;
  while (err_.valid() && (got = read(err_.get(), buffer, sizeof buffer)) > 0) {
    if (err_text_.size() < 65536) err_text_.append(buffer, static_cast<size_t>(got));
  }
}

}  // namespace zsend::orchestrator
