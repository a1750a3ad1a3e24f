// FdChannel: a Channel (engine/wire/channel.h) over file descriptors: one TCP socket (both
// directions on one fd) or a pair of pipes (ssh's stdin/stdout, or our own stdin/stdout).
//
// Reads and writes wait in poll() with a short tick so that Stop() (from any thread) or an
// interrupt (engine/ring/interrupt.h) ends a blocked call within about 100 ms with kCancelled.
// The fds are switched to non-blocking mode and owned (closed) by the channel.
// Thread-safety: as Channel's.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "base/unique_fd.h"
#include "engine/wire/channel.h"

namespace zsend {

class FdChannel : public Channel {
 public:
  // A socket: `fd` serves both directions.
  FdChannel(UniqueFd fd, std::string name);
  // Pipes: `read_fd` for incoming bytes, `write_fd` for outgoing ones.
  FdChannel(UniqueFd read_fd, UniqueFd write_fd, std::string name);

  Result<size_t> ReadSome(void* buf, size_t n) override;
  Status WriteAll(const void* buf, size_t n) override;
  void CloseWrite() override;
  void Stop() override { stopped_.store(true, std::memory_order_release); }
  bool stopped() const override { return stopped_.load(std::memory_order_acquire); }
  void SetDeadline(double seconds) override;
  const std::string& name() const override { return name_; }

 private:
  Status Wait(int fd, short events);
  void Progress(std::atomic<int64_t>& deadline);

  UniqueFd read_owned_, write_owned_;
  int read_fd_, write_fd_;
  bool socket_;
  std::string name_;
  std::atomic<bool> stopped_{false};
  std::atomic<int64_t> idle_ns_{0};            // 0 = no timeout
  std::atomic<int64_t> read_deadline_ns_{0};   // steady_clock, 0 = none
  std::atomic<int64_t> write_deadline_ns_{0};  // steady_clock, 0 = none
};

}  // namespace zsend
