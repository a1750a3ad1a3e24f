#include "transports/fd_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "engine/ring/interrupt.h"

namespace zsend {
namespace {

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

constexpr int kTickMs = 100;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

FdChannel::FdChannel(UniqueFd fd, std::string name)
    : read_owned_(std::move(fd)),
      read_fd_(read_owned_.get()),
      write_fd_(read_owned_.get()),
      socket_(true),
      name_(std::move(name)) {
  SetNonBlocking(read_fd_);
}

FdChannel::FdChannel(UniqueFd read_fd, UniqueFd write_fd, std::string name)
    : read_owned_(std::move(read_fd)),
      write_owned_(std::move(write_fd)),
      read_fd_(read_owned_.get()),
      write_fd_(write_owned_.get()),
      socket_(false),
      name_(std::move(name)) {
  SetNonBlocking(read_fd_);
  SetNonBlocking(write_fd_);
}

Status FdChannel::Wait(int fd, short events) {
  pollfd p{fd, events, 0};
  for (;;) {
    if (stopped() || ThisThreadInterrupted()) return Cancelled(name_ + ": stopped");
    const int64_t deadline = ((events & POLLOUT) ? write_deadline_ns_ : read_deadline_ns_)
                                 .load(std::memory_order_relaxed);
    if (deadline != 0 && NowNs() >= deadline) {
      return DeadlineExceeded(name_ + ((events & POLLOUT) ? ": the peer took no bytes in time"
                                                          : ": the peer sent nothing in time"));
    }
    int rc = poll(&p, 1, kTickMs);
    if (rc > 0) return Status::Ok();
    if (rc < 0 && errno != EINTR) return ErrnoStatus(name_ + ": poll", errno);
  }
}

Result<size_t> FdChannel::ReadSome(void* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(read_fd_, buf, n);
    if (r > 0) Progress(read_deadline_ns_);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno == EAGAIN || errno == EINTR) {
      ZSEND_RETURN_IF_ERROR(Wait(read_fd_, POLLIN));
      continue;
    }
    return Status(StatusCode::kUnavailable, ErrnoStatus(name_ + ": read", errno).message());
  }
}

Status FdChannel::WriteAll(const void* buf, size_t n) {
  const auto* p = static_cast<const char*>(buf);
  size_t done = 0;
  Progress(write_deadline_ns_);
  while (done < n) {
    ssize_t w = socket_ ? ::send(write_fd_, p + done, n - done, MSG_NOSIGNAL)
                        : ::write(write_fd_, p + done, n - done);
    if (w > 0) {
      done += static_cast<size_t>(w);
      Progress(write_deadline_ns_);
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      ZSEND_RETURN_IF_ERROR(Wait(write_fd_, POLLOUT));
      continue;
    }
    return Status(StatusCode::kUnavailable, ErrnoStatus(name_ + ": write", errno).message());
  }
  return Status::Ok();
}

void FdChannel::SetDeadline(double seconds) {
  const int64_t idle = seconds <= 0 ? 0 : static_cast<int64_t>(seconds * 1e9);
  idle_ns_.store(idle, std::memory_order_relaxed);
  read_deadline_ns_.store(idle == 0 ? 0 : NowNs() + idle, std::memory_order_relaxed);
  if (idle == 0) write_deadline_ns_.store(0, std::memory_order_relaxed);
}

void FdChannel::Progress(std::atomic<int64_t>& deadline) {
  const int64_t idle = idle_ns_.load(std::memory_order_relaxed);
  deadline.store(idle == 0 ? 0 : NowNs() + idle, std::memory_order_relaxed);
}

void FdChannel::CloseWrite() {
  if (socket_) {
    ::shutdown(write_fd_, SHUT_WR);
  } else {
    write_owned_.reset();
    write_fd_ = -1;
  }
}

}  // namespace zsend
