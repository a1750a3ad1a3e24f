#include "engine/ring/rate_limiter.h"

#include <time.h>

#include <algorithm>
#include <cerrno>

#include "engine/ring/interrupt.h"

namespace zsend {

size_t RateLimiter::MaxChunk(size_t wanted) const {
  if (rate_ == 0) return wanted;
  return std::min<size_t>(wanted, std::max<uint64_t>(4096, rate_ / 20));
}

Status RateLimiter::Pace(size_t bytes) {
  if (rate_ == 0) return Status::Ok();
  if (!started_) {
    started_ = true;
    start_ = Clock::now();
  }
  // The bytes before this call must have taken moved_/rate seconds.
  const double due = static_cast<double>(moved_) / static_cast<double>(rate_);
  moved_ += bytes;
  for (;;) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double wait = due - elapsed;
    if (wait <= 0) return Status::Ok();
    if (ThisThreadInterrupted()) return Cancelled("interrupted");
    timespec ts{static_cast<time_t>(wait),
                static_cast<long>((wait - static_cast<double>(static_cast<time_t>(wait))) * 1e9)};
    nanosleep(&ts, nullptr);  // EINTR: loop and re-check
  }
}

}  // namespace zsend
