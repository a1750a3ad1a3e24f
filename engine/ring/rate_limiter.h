// RateLimiter: paces one stage (the reader or the writer) to an average number of bytes/second.
//
// The limiter keeps the cumulative count of bytes since the first call and sleeps whenever that
// count runs ahead of rate x elapsed time by more than one chunk. Long-run accuracy is therefore
// independent of chunk sizes; callers move at most MaxChunk() bytes per call so short runs are
// smooth too. One thread. Sleeps end early (kCancelled) when the thread is interrupted.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/status.h"

namespace zsend {

class RateLimiter {
 public:
  // `bytes_per_second` 0 means unlimited.
  explicit RateLimiter(uint64_t bytes_per_second) : rate_(bytes_per_second) {}

  bool limited() const { return rate_ > 0; }
  // Largest piece to move at once: a twentieth of a second's worth, at least 4 KiB.
  size_t MaxChunk(size_t wanted) const;
  // Call before moving `bytes`: sleeps until they fit the rate.
  Status Pace(size_t bytes);

 private:
  using Clock = std::chrono::steady_clock;
  uint64_t rate_;
  bool started_ = false;
  Clock::time_point start_;
  uint64_t moved_ = 0;
};

}  // namespace zsend
