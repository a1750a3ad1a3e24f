// CodecStage: compression or decompression plugged into a Pipeline.
//
//   compress:    reader -> Ring -> N workers (Codec::Compress into an OutputArena slot per
//                block) -> in-order writer. Each block becomes one standard frame.
//   decompress:  reader cuts the input at frame boundaries (BlockReader) -> N workers decode
//                each block's frames into its slot -> in-order writer. A stream whose frames
//                cannot be delimited cheaply is decoded by the reader thread alone.
//
// Create() fills in the PipelineOptions (transform, workers, block reader, and for decoding a
// block size with room for a frame's overhead) and returns the stage, which must outlive
// Pipeline::Run(). Pass WrapSink(sink) to Run() instead of the sink itself: it measures the
// output for the adaptive level and writes an empty frame for an empty stream, so the standard
// tools accept the output.
//
// Thread-safety: stats() and ProgressText() may be called from any thread while Run() goes on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/codec/adaptive_codec.h"
#include "engine/codec/codec.h"
#include "engine/ring/pipeline.h"

namespace zsend {

struct CodecStageOptions {
  enum class Mode { kCompress, kDecompress };
  Mode mode = Mode::kCompress;
  CodecSpec spec;   // compress only
  int threads = 0;  // 0: one per core
  AdaptiveOptions adaptive;
};

struct CodecStats {
  std::string mode;            // "compress" or "decompress"
  std::string codec;           // spec name, or the detected format when decoding
  uint64_t blocks = 0;         // blocks (compress) or frames decoded in parallel (decompress)
  uint64_t stored_blocks = 0;  // compress: blocks written in the stored (uncompressed) form
  uint64_t raw_bytes = 0;      // uncompressed bytes
  uint64_t coded_bytes = 0;    // compressed bytes
  bool parallel = true;        // decompress: false once it fell back to one thread
  std::string serial_reason;   // and why
  std::string level;           // current level ("zstd:3", "none" for auto's stored rung)
  std::vector<AdaptiveDecision> decisions;  // auto only
};

class CodecStage {
 public:
  static Result<std::unique_ptr<CodecStage>> Create(const CodecStageOptions& options,
                                                    PipelineOptions& pipeline);
  virtual ~CodecStage() = default;
  virtual ByteSink& WrapSink(ByteSink& sink) = 0;
  virtual CodecStats stats() const = 0;
  // "ratio 0.41  zstd:3" for the progress line.
  std::string ProgressText() const;
};

// Threads for `requested` (0: the number of cores).
int CodecThreads(int requested);

}  // namespace zsend
