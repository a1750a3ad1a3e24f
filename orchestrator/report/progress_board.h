// ProgressBoard: the progress display of `zsend backup` on stderr, one line per running
// transfer and a total line:
//
//   tank/home      12.5 MiB  1.0 MiB/s  0:12
//   tank/vm/disk0   3.0 MiB  1.0 MiB/s  45%  ETA 0:04
//   total  1 of 3 datasets done  40.2 MiB  2.0 MiB/s  0:31
//
// Two modes. kTerminal redraws the block in place (ANSI: cursor up and clear line per line
// drawn before, lines cut to the terminal width so none wraps), at most every
// kTerminalInterval. kLines (--progress on a stderr that is not a terminal: a log) writes the
// block as plain lines, at most every kLinesInterval, never an escape sequence. Print() puts a
// log line above the block: the block is cleared, the line written, the block drawn again, so
// log lines are never garbled. Finish() clears the block (the results follow).
//
// The clock is injected (seconds, monotonic), so the formatting and the throttle are tested
// without waiting. Thread-safe: every method takes the board's mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/transport/transfer_progress.h"

namespace zsend::orchestrator {

// One running transfer, as the board knows it.
struct TransferLine {
  std::string label;
  uint64_t bytes = 0;
  double seconds = 0;           // since the transfer started (the engine's clock)
  uint64_t expected_bytes = 0;  // 0: unknown (no percent, no ETA)
};

struct ProgressTotals {
  int done = 0;      // datasets whose transfers ended
  int expected = 0;  // datasets the run transfers (0: not known yet)
  uint64_t bytes = 0;
  double seconds = 0;  // since the first transfer started
};

// The block's lines, without newlines (the label column padded to the longest label, at most
// 40 wide).
std::vector<std::string> FormatProgressBlock(const std::vector<TransferLine>& running,
                                             const ProgressTotals& totals);

class ProgressBoard : public TransferProgress {
 public:
  enum class Mode { kTerminal, kLines };
  static constexpr double kTerminalInterval = 0.3;
  static constexpr double kLinesInterval = 5.0;

  // `width`: the terminal's columns (kTerminal cuts lines to width - 1); `now` the clock.
  ProgressBoard(std::ostream& out, Mode mode, int width = 80,
                std::function<double()> now = SteadySeconds);
  // Print() lines go to `log` instead of `out` (the same file: --syslog tees `log` into syslog,
  // while the block itself stays out of it).
  void SetLogStream(std::ostream* log) { log_ = log; }
  ~ProgressBoard() override { Finish(); }

  void Expect(int datasets) override;
  int Begin(const std::string& label, uint64_t expected_bytes) override;
  void Update(int id, uint64_t stream_bytes, double seconds) override;
  void End(int id) override;
  void Print(const std::string& line) override;
  // Clears the block (kTerminal); nothing is drawn after.
  void Finish();

  static double SteadySeconds();

 private:
  void DrawIfDue();   // mutex_ held
  void Draw();        // mutex_ held
  void ClearBlock();  // mutex_ held

  std::ostream& out_;
  std::ostream* log_ = nullptr;  // Print()'s lines; null: out_
  const Mode mode_;
  const int width_;
  const std::function<double()> now_;
  std::mutex mutex_;
  std::map<int, TransferLine> running_;  // guarded by mutex_ (id order: start order)
  std::set<std::string> ended_;          // guarded by mutex_: labels whose transfer ended
  uint64_t ended_bytes_ = 0;             // guarded by mutex_
  int expected_ = 0;                     // guarded by mutex_
  int next_id_ = 0;                      // guarded by mutex_
  double started_ = -1;                  // guarded by mutex_: the first Begin
  double last_draw_ = -1;                // guarded by mutex_
  int drawn_lines_ = 0;                  // guarded by mutex_: lines of the block on screen
  bool finished_ = false;                // guarded by mutex_
};

}  // namespace zsend::orchestrator
