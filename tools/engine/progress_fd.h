// ProgressFd: the machine-readable progress of `--progress-fd N` (send, recv, buffer): one
// engine_contract progress line per update on descriptor N, for the program that started the
// engine (zsend draws its terminal progress from them). The human progress line on stderr is
// separate and unchanged.
//
// Write errors are ignored (a reader that went away must not fail the transfer; SIGPIPE is
// ignored by the engine). Used from the pipeline's monitor thread, then once at the end.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace zsend::tool {

// The interval of progress updates when --progress-fd is given (a few a second).
inline constexpr double kProgressFdInterval = 0.25;

// OK when `fd` is an open descriptor; else a usage error naming --progress-fd.
Status CheckProgressFd(int fd);

class ProgressFd {
 public:
  explicit ProgressFd(int fd) : fd_(fd) {}
  bool enabled() const { return fd_ >= 0; }
  void Write(uint64_t stream_bytes, double seconds) const;

 private:
  int fd_;
};

}  // namespace zsend::tool
