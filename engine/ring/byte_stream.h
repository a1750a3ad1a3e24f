// ByteSource and ByteSink: the two ends every engine pipeline runs between.
//
// A source hands out bytes until it reports the end of the stream; a sink takes bytes and, on
// Finish(), makes them durable or signals the end to its peer. Implementations wrap a file
// descriptor (pipes, files, TCP sockets) or a transport. A source or sink is used by one thread
// at a time; a blocked call returns kCancelled when that thread is interrupted (interrupt.h).
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace zsend {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `len` bytes into `buf`; 0 means the end of the stream.
  virtual Result<size_t> Read(std::byte* buf, size_t len) = 0;
  // Waits up to `timeout_ms` for Read() to have something (data, the end or an error) without
  // blocking on it; false when the time passed first. Sources that cannot tell return true.
  virtual bool WaitReadable(int timeout_ms) {
    (void)timeout_ms;
    return true;
  }
  // A short name for messages: "stdin", "file /x", "tcp 127.0.0.1:9000".
  virtual std::string Describe() const = 0;
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all `len` bytes or fails.
  virtual Status Write(const std::byte* buf, size_t len) = 0;
  // Called once after the last Write() of a successful stream: flush, fsync, half-close.
  virtual Status Finish() { return Status::Ok(); }
  virtual std::string Describe() const = 0;
};

}  // namespace zsend
