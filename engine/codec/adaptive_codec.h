// AdaptiveController: the brain of --compress auto. It picks the zstd level for the next blocks
// from two signals measured over each interval (docs/codecs.md explains the design):
//
//   output_backlog  share of the ring holding compressed blocks that wait for the writer: high
//                   when the output (the link) is the bottleneck;
//   workers_busy    share of the interval the compression workers spent compressing: high when
//                   the CPU is the bottleneck;
//   output_blocked  share of the interval the writer spent blocked inside the sink's Write():
//                   tells a slow link (high) from a writer starved of CPU (low) when both of
//                   the others are high.
//
// Output-bound (a backlog the writer is blocked on) with idle workers: one rung up the ladder (more
// compression, fewer bytes to send). Busy workers with an empty backlog, or with a backlog the
// writer is not blocked on (it lacks CPU, not link): one rung down. Anything else: hold. Signals
// are smoothed (EMA); a move needs the same verdict on `confirm` consecutive intervals, a further
// move in the same direction only one (momentum), and a move that reverses the previous one
// doubles the requirement (up to `max_confirm`), so a steady link settles on one level or
// alternates slowly between two neighbours.
//
// The ladder: none (stored zstd frames), zstd -5, -3, -1, 1, 2, 3, 4, 5, 6, 9. Every rung writes
// zstd frames, so the output stays one standard zstd stream whatever the controller does.
//
// Thread-safety: none; the owner serializes calls (CompressStage holds a mutex).
#pragma once

#include <string>
#include <vector>

namespace zsend {

struct AdaptiveOptions {
  double interval_seconds = 0.25;  // how often the signals are sampled
  int start_level = 1;             // zstd level to begin with
  int confirm = 2;                 // intervals a verdict must persist before a move
  int max_confirm = 6;             // the cap after repeated reversals
};

struct AdaptiveSignals {
  double seconds = 0;         // since the start, for the record
  double output_backlog = 0;  // 0..1
  double workers_busy = 0;    // 0..1
  double output_blocked = 0;  // 0..1
};

struct AdaptiveDecision {
  double seconds = 0;
  int from_level = 0;
  int to_level = 0;
  double output_backlog = 0;  // smoothed values that triggered the move
  double workers_busy = 0;
  double output_blocked = 0;
};

class AdaptiveController {
 public:
  static constexpr int kStored = -100;  // the "none" rung: stored zstd frames

  explicit AdaptiveController(const AdaptiveOptions& options);

  // Takes one interval's signals; returns the level for the next blocks.
  int Observe(const AdaptiveSignals& signals);
  int level() const { return kLadder[rung_]; }
  const std::vector<AdaptiveDecision>& decisions() const { return decisions_; }
  const AdaptiveOptions& options() const { return options_; }

  // "none", "zstd:-3", "zstd:6".
  static std::string LevelName(int level);
  static constexpr int kLadder[] = {kStored, -5, -3, -1, 1, 2, 3, 4, 5, 6, 9};
  static constexpr int kRungs = sizeof(kLadder) / sizeof(kLadder[0]);

 private:
  AdaptiveOptions options_;
  int rung_ = 0;
  bool primed_ = false;
  double backlog_ = 0;  // smoothed
  double busy_ = 0;     // smoothed
  double blocked_ = 0;  // smoothed
  int pending_ = 0;     // direction of the verdict being confirmed (-1, 0, +1)
  int streak_ = 0;      // consecutive intervals with that verdict
  int required_ = 2;    // intervals needed for the next move
  int last_move_ = 0;   // direction of the last move
  std::vector<AdaptiveDecision> decisions_;
};

}  // namespace zsend
