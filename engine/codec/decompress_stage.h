// DecompressStage: the decoding CodecStage (see codec_stage.h).
//
// The reader side (Fill) copies input into a ring block and walks it with Codec::Probe() until
// the block holds as many whole frames as fit, both in compressed bytes (the block) and in
// decoded bytes (the block's OutputArena slot); the partial frame at the end is carried over
// to the next block. Each frame's format is detected by its magic bytes, so concatenations of
// zstd, gzip and lz4 frames decode too. Workers (Apply) decode every frame of their block into
// its slot, in parallel; the writer puts blocks back in order.
//
// When the first frame of a block cannot be delimited (a gzip member without our size field, a
// frame larger than a block, or one that may decode to more than a slot), the reader switches
// for good to streaming: it decodes the rest of the input itself with the format's
// StreamDecoder and hands plain blocks to the workers, which pass them through. Streams that
// the standard tools write as one frame take this path.
//
// Errors: bytes that are no known format, a corrupt frame, or an input that ends inside a
// frame fail with kDataLoss naming the input offset; frames before the damage are written.
//
// Thread-safety: Fill() from the reader thread only; Apply() from workers; block kinds are
// handed over through the ring's Commit/AcquireWork (its mutex orders them).
#pragma once

#include <array>
#include <atomic>
#include <mutex>

#include "engine/codec/codec_stage.h"
#include "engine/ring/metered_sink.h"
#include "engine/ring/output_arena.h"

namespace zsend {

class DecompressStage : public CodecStage, public BlockTransform, public BlockReader {
 public:
  static Result<std::unique_ptr<DecompressStage>> Create(const CodecStageOptions& options,
                                                         PipelineOptions& pipeline);
  Result<bool> Fill(ByteSource& source, Block& block) override;
  Status Apply(Block& block, int worker) override;
  ByteSink& WrapSink(ByteSink& sink) override;
  CodecStats stats() const override;

 private:
  enum BlockKind : uint8_t { kFrames, kPlain };
  using CodecSet = std::array<std::unique_ptr<Codec>, 4>;  // by CodecFormat, made on first use

  DecompressStage() = default;
  Result<bool> FillStreaming(ByteSource& source, Block& block);
  Status StartStreaming(CodecFormat format, const std::string& why);
  static Result<Codec*> CodecFor(CodecSet& set, CodecFormat format);
  // "at input byte N"
  std::string Where(size_t offset_in_block) const;

  std::unique_ptr<OutputArena> arena_;
  std::vector<BlockKind> kinds_;   // by Block::index; written by Fill, read by Apply
  std::vector<uint64_t> offsets_;  // by Block::index: input offset of the block's first frame
  std::vector<CodecSet> worker_codecs_;
  MeteredSink sink_;

  // Reader state (reader thread only).
  CodecSet reader_codecs_;
  std::vector<std::byte> carry_;  // input read past the last whole frame
  size_t carry_pos_ = 0;
  uint64_t consumed_ = 0;  // input bytes handed on in earlier blocks
  bool eof_ = false;
  std::unique_ptr<StreamDecoder> stream_;
  CodecFormat stream_format_ = CodecFormat::kNone;

  std::atomic<int> format_seen_{static_cast<int>(CodecFormat::kNone)};
  std::atomic<bool> parallel_{true};
  mutable std::mutex reason_mu_;
  std::string serial_reason_;  // guarded by reason_mu_
  std::atomic<uint64_t> frames_{0}, raw_{0}, coded_{0};
};

}  // namespace zsend
