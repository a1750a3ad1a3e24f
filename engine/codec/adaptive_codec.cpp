#include "engine/codec/adaptive_codec.h"

#include <algorithm>
#include <cstdlib>

namespace zsend {
namespace {

constexpr double kSmoothing = 0.5;    // weight of the newest sample
constexpr double kBacklogHigh = 0.5;  // output-bound above this
constexpr double kBacklogLow = 0.25;  // not output-bound below this
constexpr double kBusyHigh = 0.85;    // CPU-bound above this
constexpr double kBusyRoom = 0.7;     // workers have room below this
constexpr double kBlockedHigh = 0.5;  // the writer mostly waits on the sink above this
constexpr double kBlockedLow = 0.3;   // the writer hardly waits on the sink below this

}  // namespace

AdaptiveController::AdaptiveController(const AdaptiveOptions& options)
    : options_(options), required_(std::max(1, options.confirm)) {
  // Start on the rung closest to the requested level.
  int best = 0;
  for (int i = 0; i < kRungs; ++i) {
    if (std::abs(kLadder[i] - options.start_level) < std::abs(kLadder[best] - options.start_level))
      best = i;
  }
  rung_ = best;
}

int AdaptiveController::Observe(const AdaptiveSignals& s) {
  if (!primed_) {
    backlog_ = s.output_backlog;
    busy_ = s.workers_busy;
    blocked_ = s.output_blocked;
    primed_ = true;
  } else {
    backlog_ = kSmoothing * s.output_backlog + (1 - kSmoothing) * backlog_;
    busy_ = kSmoothing * s.workers_busy + (1 - kSmoothing) * busy_;
    blocked_ = kSmoothing * s.output_blocked + (1 - kSmoothing) * blocked_;
  }
  int verdict = 0;
  if (backlog_ >= kBacklogHigh && blocked_ >= kBlockedHigh && busy_ <= kBusyRoom &&
      rung_ + 1 < kRungs) {
    verdict = +1;
  } else if (busy_ >= kBusyHigh && (backlog_ <= kBacklogLow || blocked_ <= kBlockedLow) &&
             rung_ > 0) {
    verdict = -1;
  }
  if (verdict == 0) {
    pending_ = 0;
    streak_ = 0;
    return level();
  }
  streak_ = verdict == pending_ ? streak_ + 1 : 1;
  pending_ = verdict;
  // Momentum: one more step the way the last move went needs one interval, so a transfer that
  // starts far from its level gets there in a second or two.
  const int needed = verdict == last_move_ ? 1 : required_;
  if (streak_ < needed) return level();

  const int base = std::max(1, options_.confirm);
  if (last_move_ != 0 && verdict != last_move_) {
    required_ = std::min(required_ * 2, std::max(base, options_.max_confirm));
  } else {
    required_ = base;
  }
  AdaptiveDecision d;
  d.seconds = s.seconds;
  d.from_level = level();
  rung_ += verdict;
  d.to_level = level();
  d.output_backlog = backlog_;
  d.workers_busy = busy_;
  d.output_blocked = blocked_;
  decisions_.push_back(d);
  last_move_ = verdict;
  pending_ = 0;
  streak_ = 0;
  return level();
}

std::string AdaptiveController::LevelName(int level) {
  return level == kStored ? "none" : "zstd:" + std::to_string(level);
}

}  // namespace zsend
