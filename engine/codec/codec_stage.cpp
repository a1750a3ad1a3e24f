#include "engine/codec/codec_stage.h"

#include <cstdio>
#include <thread>

#include "base/units.h"
#include "engine/codec/compress_stage.h"
#include "engine/codec/decompress_stage.h"

namespace zsend {

int CodecThreads(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

Result<std::unique_ptr<CodecStage>> CodecStage::Create(const CodecStageOptions& options,
                                                       PipelineOptions& pipeline) {
  if (options.mode == CodecStageOptions::Mode::kDecompress) {
    Result<std::unique_ptr<DecompressStage>> stage = DecompressStage::Create(options, pipeline);
    if (!stage.ok()) return stage.status();
    return std::unique_ptr<CodecStage>(std::move(*stage));
  }
  Result<std::unique_ptr<CompressStage>> stage = CompressStage::Create(options, pipeline);
  if (!stage.ok()) return stage.status();
  return std::unique_ptr<CodecStage>(std::move(*stage));
}

std::string CodecStage::ProgressText() const {
  const CodecStats s = stats();
  char ratio[32] = "ratio -";
  if (s.raw_bytes > 0) {
    std::snprintf(ratio, sizeof ratio, "ratio %.2f",
                  static_cast<double>(s.coded_bytes) / static_cast<double>(s.raw_bytes));
  }
  std::string text = FormatBytes(static_cast<double>(s.raw_bytes)) + " raw, " +
                     FormatBytes(static_cast<double>(s.coded_bytes)) + " coded, " + ratio;
  if (!s.level.empty()) text += "  " + s.level;
  if (s.mode == "decompress")
    text += std::string("  ") + s.codec + (s.parallel ? "" : " (1 thread)");
  return text;
}

}  // namespace zsend
