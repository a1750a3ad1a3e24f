// RateLimiter: paces one stage (the reader or the writer) to an average number of bytes/second.
//
// The limiter keeps the cumulative count of bytes since the first call and sleeps whenever that
// count runs ahead of rate x elapsed time by more than one chunk. Long-run accuracy is therefore
// independent of chunk sizes; callers move at most MaxChunk() bytes per call so short runs are
// smooth too. One thread. Sleeps end early (kCancelled) when the thread is interrupted.
#pragma once

#include <algorithm>
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
  // A reader paces for the piece it asks for, and a read from a pipe often returns less (a
  // `zfs send` child writes in small pieces): the `bytes` it paced for but did not move no
  // longer count against the rate. Without this a producer's short reads were charged in full
  // and `-r 40M --exec 'zfs send ...'` ran at a ninth of its rate.
  void Refund(size_t bytes) { moved_ -= std::min<uint64_t>(bytes, moved_); }
  // Bytes counted against the rate so far.
  uint64_t charged() const { return moved_; }

 private:
  using Clock = std::chrono::steady_clock;
  uint64_t rate_;
  bool started_ = false;
  Clock::time_point start_;
  uint64_t moved_ = 0;
};

}  // namespace zsend
