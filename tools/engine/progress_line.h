// ProgressLine: the one-line status on stderr while a stream moves.
//
//   1.25 GiB  in 812 MiB/s  out 790 MiB/s  buffer 45%  0:12  ETA 0:30
//
// On a terminal the line is redrawn in place (\r); elsewhere (--progress into a log) each
// update is its own line. Used from the pipeline's monitor thread only.
#pragma once

#include <cstdint>
#include <string>

#include "engine/ring/pipeline.h"

namespace zsend::tool {

class ProgressLine {
 public:
  ProgressLine(bool terminal, uint64_t expected_size)
      : terminal_(terminal), expected_size_(expected_size) {}
  // `extra` (codec ratio and level) is appended when not empty.
  void Update(const PipelineProgress& p, const std::string& extra = "");
  // Ends the line on a terminal.
  void Finish();
  // The text of one update (exposed for tests).
  static std::string Format(const PipelineProgress& p, uint64_t expected_size,
                            const std::string& extra = "");

 private:
  bool terminal_;
  uint64_t expected_size_;
  bool drawn_ = false;
};

}  // namespace zsend::tool
