#include "engine/ring/fd_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "engine/ring/interrupt.h"

namespace zsend {

Result<IoBackend> ParseIoBackend(const std::string& text) {
  if (text == "auto") return IoBackend::kAuto;
  if (text == "uring" || text == "io_uring") return IoBackend::kUring;
  if (text == "syscalls") return IoBackend::kSyscalls;
  return InvalidArgument("--io takes auto, uring or syscalls, got '" + text + "'");
}

const char* IoBackendName(IoBackend backend) {
  switch (backend) {
    case IoBackend::kAuto:
      return "auto";
    case IoBackend::kUring:
      return "uring";
    case IoBackend::kSyscalls:
      return "syscalls";
  }
  return "?";
}

std::unique_ptr<UringChannel> UringChannel::TryCreate() {
  std::unique_ptr<UringChannel> channel(new UringChannel());
  if (io_uring_queue_init(4, &channel->ring_, 0) != 0) return nullptr;
  channel->initialized_ = true;
  return channel;
}

UringChannel::~UringChannel() {
  // A ring that failed to initialize holds ring_fd 0: exiting it would close stdin.
  if (initialized_) io_uring_queue_exit(&ring_);
}

// Submits the prepared request (user_data 1) and waits for it. When the thread is interrupted
// while waiting, the request is cancelled and its completion reaped before returning, so no
// read or write can land in a buffer after the caller has moved on.
int UringChannel::Complete() {
  int rc = io_uring_submit(&ring_);
  if (rc < 0) return rc;
  bool cancelling = false;
  int op_result = 0;
  bool op_done = false;
  bool cancel_done = false;
  while (!op_done || (cancelling && !cancel_done)) {
    io_uring_cqe* cqe = nullptr;
    rc = io_uring_wait_cqe(&ring_, &cqe);
    if (rc == -EINTR) {
      if (ThisThreadInterrupted() && !cancelling) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        io_uring_prep_cancel64(sqe, 1, 0);
        io_uring_sqe_set_data64(sqe, 2);
        io_uring_submit(&ring_);
        cancelling = true;
      }
      continue;
    }
    if (rc < 0) return rc;
    if (io_uring_cqe_get_data64(cqe) == 1) {
      op_result = cqe->res;
      op_done = true;
    } else {
      cancel_done = true;
    }
    io_uring_cqe_seen(&ring_, cqe);
  }
  return cancelling ? -EINTR : op_result;
}

int UringChannel::Read(int fd, void* buf, unsigned len) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  io_uring_prep_read(sqe, fd, buf, len, static_cast<__u64>(-1));
  io_uring_sqe_set_data64(sqe, 1);
  return Complete();
}

int UringChannel::Write(int fd, const void* buf, unsigned len) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  io_uring_prep_write(sqe, fd, buf, len, static_cast<__u64>(-1));
  io_uring_sqe_set_data64(sqe, 1);
  return Complete();
}

FdStream::FdStream(int fd, std::string name, const FdStreamOptions& options, UniqueFd owned)
    : fd_(fd), name_(std::move(name)), options_(options), owned_(std::move(owned)) {
  InstallInterruptHandler();
  struct stat st {};
  if (options_.pipe_size > 0 && fstat(fd_, &st) == 0 && S_ISFIFO(st.st_mode)) {
    // Best effort: the limit is /proc/sys/fs/pipe-max-size for unprivileged users.
    if (fcntl(fd_, F_GETPIPE_SZ) < static_cast<int>(options_.pipe_size)) {
      fcntl(fd_, F_SETPIPE_SZ, static_cast<int>(options_.pipe_size));
    }
  }
  if (options_.backend != IoBackend::kSyscalls) uring_ = UringChannel::TryCreate();
}

Result<size_t> FdSource::Read(std::byte* buf, size_t len) {
  const unsigned chunk = static_cast<unsigned>(std::min<size_t>(len, 1u << 30));
  for (;;) {
    if (ThisThreadInterrupted()) return Cancelled("interrupted");
    ssize_t n = uring_ ? uring_->Read(fd_, buf, chunk) : ::read(fd_, buf, chunk);
    if (!uring_ && n < 0) n = -errno;
    if (n >= 0) return static_cast<size_t>(n);
    if (n == -EINTR || n == -EAGAIN) continue;
    return ErrnoStatus("read error on " + name_, static_cast<int>(-n));
  }
}

bool FdSource::WaitReadable(int timeout_ms) {
  pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
  // EINTR (an interrupt) and errors count as readable: the next Read() reports them.
  return ::poll(&p, 1, timeout_ms) != 0;
}

Status FdSink::Write(const std::byte* buf, size_t len) {
  while (len > 0) {
    if (ThisThreadInterrupted()) return Cancelled("interrupted");
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(len, 1u << 30));
    ssize_t n = uring_ ? uring_->Write(fd_, buf, chunk) : ::write(fd_, buf, chunk);
    if (!uring_ && n < 0) n = -errno;
    if (n == -EINTR || n == -EAGAIN) continue;
    if (n < 0) {
      if (n == -EPIPE) {
        return Status(StatusCode::kAborted,
                      "write error on " + name_ + ": broken pipe (the reader exited early)");
      }
      return ErrnoStatus("write error on " + name_, static_cast<int>(-n));
    }
    if (n == 0) return ErrnoStatus("write error on " + name_, EIO);
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FdSink::Finish() {
  struct stat st {};
  if (options_.sync_on_finish && fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    if (fsync(fd_) != 0) return ErrnoStatus("cannot flush " + name_ + " to disk", errno);
  }
  if (owned_.valid()) {
    int fd = owned_.release();
    if (::close(fd) != 0 && errno != EINTR) return ErrnoStatus("cannot close " + name_, errno);
  }
  return Status::Ok();
}

}  // namespace zsend
