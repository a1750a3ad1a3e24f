// FdSource and FdSink: byte streams over a file descriptor, by plain system calls or io_uring.
//
// IoBackend::kAuto tries io_uring and falls back to read()/write() at run time when io_uring is
// missing or refused (seccomp in containers, kernel.io_uring_disabled). Pipes are grown to the
// block size with F_SETPIPE_SZ, which cuts the number of wake-ups per MiB by up to 16x. A
// regular file sink is fsync'ed by Finish(), so a full disk is reported before anyone says OK.
#pragma once

#include <liburing.h>

#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "engine/ring/byte_stream.h"

namespace zsend {

enum class IoBackend { kAuto, kUring, kSyscalls };

// Parses "auto", "uring", "syscalls".
Result<IoBackend> ParseIoBackend(const std::string& text);
const char* IoBackendName(IoBackend backend);

struct FdStreamOptions {
  IoBackend backend = IoBackend::kAuto;
  size_t pipe_size = 1 << 20;  // F_SETPIPE_SZ target for pipes; 0 leaves pipes alone
  bool sync_on_finish = true;  // fsync regular files in Finish()
};

// One io_uring instance used synchronously by one thread: submit one request, wait for it.
class UringChannel {
 public:
  // Null when io_uring is unavailable or refused.
  static std::unique_ptr<UringChannel> TryCreate();
  ~UringChannel();
  // Like read(2)/write(2): bytes moved, or -errno.
  int Read(int fd, void* buf, unsigned len);
  int Write(int fd, const void* buf, unsigned len);

 private:
  UringChannel() = default;
  int Complete();
  io_uring ring_{};
  bool initialized_ = false;  // io_uring_queue_init succeeded
};

class FdStream {
 public:
  // `owned` may hold `fd` (closed on destruction); stdin/stdout are passed borrowed.
  FdStream(int fd, std::string name, const FdStreamOptions& options, UniqueFd owned);
  // "uring" or "syscalls": what this stream really uses after any fallback.
  const char* backend() const { return uring_ ? "uring" : "syscalls"; }
  int fd() const { return fd_; }

 protected:
  int fd_;
  std::string name_;
  FdStreamOptions options_;
  UniqueFd owned_;
  std::unique_ptr<UringChannel> uring_;
};

class FdSource : public ByteSource, public FdStream {
 public:
  using FdStream::FdStream;
  Result<size_t> Read(std::byte* buf, size_t len) override;
  bool WaitReadable(int timeout_ms) override;
  std::string Describe() const override { return name_; }
};

class FdSink : public ByteSink, public FdStream {
 public:
  using FdStream::FdStream;
  Status Write(const std::byte* buf, size_t len) override;
  Status Finish() override;
  std::string Describe() const override { return name_; }
};

}  // namespace zsend
