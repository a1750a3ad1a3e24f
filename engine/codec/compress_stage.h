// CompressStage: the compressing CodecStage (see codec_stage.h). Each worker owns one Codec;
// each block's frame goes to the block's OutputArena slot. With `auto` the workers take the
// level from an AdaptiveController that one of them feeds every interval.
//
// Thread-safety: Apply() from the pipeline's workers; stats() from anywhere.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "engine/codec/codec_stage.h"
#include "engine/ring/metered_sink.h"
#include "engine/ring/output_arena.h"

namespace zsend {

class CompressStage : public CodecStage, public BlockTransform {
 public:
  static Result<std::unique_ptr<CompressStage>> Create(const CodecStageOptions& options,
                                                       PipelineOptions& pipeline);
  Status Apply(Block& block, int worker) override;
  ByteSink& WrapSink(ByteSink& sink) override;
  CodecStats stats() const override;

 private:
  using Clock = std::chrono::steady_clock;
  CompressStage(const CodecStageOptions& options, size_t ring_blocks);
  void MaybeAdapt();

  const CodecStageOptions options_;
  const size_t ring_blocks_;
  std::unique_ptr<OutputArena> arena_;
  std::vector<std::unique_ptr<Codec>> codecs_;  // one per worker
  MeteredSink sink_;
  const Clock::time_point start_ = Clock::now();

  std::atomic<int> level_;
  std::atomic<uint64_t> blocks_{0}, stored_{0}, raw_{0}, coded_{0};
  std::atomic<int64_t> busy_ns_{0};  // summed over workers
  std::atomic<int64_t> next_adapt_ns_{0};

  mutable std::mutex adapt_mu_;
  AdaptiveController controller_;  // guarded by adapt_mu_
  int64_t last_adapt_ns_ = 0;      // guarded by adapt_mu_
  int64_t last_busy_ns_ = 0;       // guarded by adapt_mu_
  int64_t last_write_ns_ = 0;      // guarded by adapt_mu_
};

}  // namespace zsend
