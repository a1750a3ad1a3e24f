// TransferProgress: what the transports tell about the streams they move, for a progress
// display (orchestrator/report/progress_board.h draws one on a terminal).
//
// The local engine of each transfer reports its stream bytes on a descriptor (`--progress-fd`,
// engine_contract.h): the sending engine of a tcp push, the receiving engine of a tcp pull,
// our end of an ssh transfer, the buffer of a pipe. A transfer whose engines both run on other
// hosts reports only its start and end.
//
// Implementations are thread-safe: the --jobs workers call them at once.
#pragma once

#include <cstdint>
#include <string>

#include "base/engine_contract.h"

namespace zsend::orchestrator {

class TransferProgress {
 public:
  virtual ~TransferProgress() = default;
  // The number of datasets the run will transfer (for "N of M").
  virtual void Expect(int datasets) = 0;
  // A stream of `label` (the dataset) starts; `expected_bytes` 0 when its size is not known.
  // Returns the id of the transfer for Update and End.
  virtual int Begin(const std::string& label, uint64_t expected_bytes) = 0;
  virtual void Update(int id, uint64_t stream_bytes, double seconds) = 0;
  virtual void End(int id) = 0;
  // A log line printed above the display, which is redrawn after it.
  virtual void Print(const std::string& line) = 0;
};

// One transfer's Begin..End on a TransferProgress that may be null (no display), fed with the
// engine's progress lines.
class ProgressScope {
 public:
  ProgressScope(TransferProgress* progress, const std::string& label, uint64_t expected_bytes)
      : progress_(progress), id_(progress ? progress->Begin(label, expected_bytes) : -1) {}
  ProgressScope(const ProgressScope&) = delete;
  ProgressScope& operator=(const ProgressScope&) = delete;
  ~ProgressScope() {
    if (progress_) progress_->End(id_);
  }
  bool enabled() const { return progress_ != nullptr; }
  // A line from the engine's --progress-fd; anything else is ignored.
  void Line(const std::string& line) {
    if (!progress_) return;
    Result<engine_contract::ProgressReport> report = engine_contract::ParseProgressLine(line);
    if (report.ok()) progress_->Update(id_, report->stream_bytes, report->seconds);
  }

 private:
  TransferProgress* progress_;
  int id_;
};

}  // namespace zsend::orchestrator
