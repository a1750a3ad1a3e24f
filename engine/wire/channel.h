// Channel: the two byte directions a zsend session runs over: one TCP socket (both directions on
// one fd) or a pair of pipes (ssh's stdin/stdout, or our own stdin/stdout with --stdio).
//
// Reads and writes wait in poll() with a short tick so that Stop() (from any thread) or an
// interrupt (interrupt.h) ends a blocked call within about 100 ms with kCancelled. The fds are
// switched to non-blocking mode. One reader thread and one writer thread may use a Channel at
// the same time; writers must serialize among themselves (FrameWriter does).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"

namespace zsend {

class Channel {
 public:
  // A socket: `fd` serves both directions.
  Channel(UniqueFd fd, std::string name);
  // Pipes: `read_fd` for incoming bytes, `write_fd` for outgoing ones.
  Channel(UniqueFd read_fd, UniqueFd write_fd, std::string name);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Exactly `n` bytes. kUnavailable when the peer closed the stream first ("connection closed
  // by the peer", with `*got` bytes read before), kCancelled on Stop() or an interrupt.
  Status ReadExact(void* buf, size_t n, size_t* got = nullptr);
  // At least one byte, or 0 when the peer closed the stream.
  Result<size_t> ReadSome(void* buf, size_t n);
  Status WriteAll(const void* buf, size_t n);
  // An idle timeout, not a deadline for a whole frame: a read fails with kDeadlineExceeded
  // once no byte arrived for `seconds` (counted from now and from each byte read), a write once
  // none could be written for `seconds` (counted from the start of WriteAll and from each byte
  // written). So a slow link that keeps moving bytes never times out, a stalled one does, in
  // either direction. 0 turns it off.
  void SetDeadline(double seconds);
  // Ends every blocked and later call with kCancelled.
  void Stop() { stopped_.store(true, std::memory_order_release); }
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Closes the outgoing direction (FIN on a socket, EOF on a pipe).
  void CloseWrite();
  const std::string& name() const { return name_; }

 private:
  Status Wait(int fd, short events);

  UniqueFd read_owned_, write_owned_;
  int read_fd_, write_fd_;
  bool socket_;
  std::string name_;
  std::atomic<bool> stopped_{false};
  void Progress(std::atomic<int64_t>& deadline);

  std::atomic<int64_t> idle_ns_{0};            // 0 = no timeout
  std::atomic<int64_t> read_deadline_ns_{0};   // steady_clock, 0 = none
  std::atomic<int64_t> write_deadline_ns_{0};  // steady_clock, 0 = none
};

}  // namespace zsend
