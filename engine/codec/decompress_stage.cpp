#include "engine/codec/decompress_stage.h"

#include <algorithm>
#include <cstring>

namespace zsend {
namespace {

constexpr size_t kStreamChunk = 256 * 1024;  // input read at a time when streaming

}  // namespace

Result<std::unique_ptr<DecompressStage>> DecompressStage::Create(const CodecStageOptions& options,
                                                                 PipelineOptions& pipeline) {
  // Decoded blocks fill a slot of the requested block size; the ring blocks that carry the
  // frames get room for the frame overhead of such a block (a stored 1 MiB block is ~1 MiB +
  // 100 bytes), so our own frames of the same -s always fit.
  const size_t slot_bytes = RingBlockBytes(pipeline.ring);
  pipeline.ring.block_size = slot_bytes + slot_bytes / 64 + 64 * 1024;
  const size_t blocks = RingBlockCount(pipeline.ring);
  if (blocks == 0) return InvalidArgument("--block-size must not be zero");
  std::unique_ptr<DecompressStage> stage(new DecompressStage());
  Result<std::unique_ptr<OutputArena>> arena = OutputArena::Create(blocks, slot_bytes);
  if (!arena.ok()) return arena.status();
  stage->arena_ = std::move(*arena);
  stage->kinds_.assign(blocks, kFrames);
  stage->offsets_.assign(blocks, 0);
  const int threads = CodecThreads(options.threads);
  stage->worker_codecs_.resize(threads);
  pipeline.transform = stage.get();
  pipeline.workers = threads;
  pipeline.block_reader = stage.get();
  return stage;
}

ByteSink& DecompressStage::WrapSink(ByteSink& sink) {
  sink_.Attach(&sink);
  return sink_;
}

Result<Codec*> DecompressStage::CodecFor(CodecSet& set, CodecFormat format) {
  auto& slot = set[static_cast<size_t>(format)];
  if (!slot) {
    Result<std::unique_ptr<Codec>> codec = MakeCodec(format, LevelRangeOf(format).default_level);
    if (!codec.ok()) return codec.status();
    slot = std::move(*codec);
  }
  return slot.get();
}

std::string DecompressStage::Where(size_t offset_in_block) const {
  return " at input byte " + std::to_string(consumed_ + offset_in_block);
}

Result<bool> DecompressStage::Fill(ByteSource& source, Block& block) {
  if (stream_) return FillStreaming(source, block);
  std::byte* data = block.data;
  const size_t capacity = block.capacity;
  size_t n = std::min(carry_.size() - carry_pos_, capacity);
  if (n > 0) std::memcpy(data, carry_.data() + carry_pos_, n);
  carry_pos_ += n;
  if (carry_pos_ == carry_.size()) {
    carry_.clear();
    carry_pos_ = 0;
  }
  size_t pos = 0;        // end of the whole frames found so far
  uint64_t content = 0;  // their decoded size (or bound)
  uint64_t frames = 0;
  bool full = false;  // this block takes no more frames
  while (!full) {
    while (pos < n) {
      const CodecFormat format = DetectFormat(data + pos, n - pos);
      if (format == CodecFormat::kNone) {
        if (n - pos < 4 && !eof_) break;  // too short to tell yet
        if (frames > 0) {
          full = true;
          break;
        }
        if (n - pos < 4 && eof_) {
          return DataLoss("compressed input ends with " + std::to_string(n - pos) + " stray bytes" +
                          Where(pos));
        }
        return DataLoss("input is not zstd, gzip or lz4 data" + Where(pos) +
                        "; --decompress reads only those formats");
      }
      format_seen_.store(static_cast<int>(format), std::memory_order_relaxed);
      Result<Codec*> codec = CodecFor(reader_codecs_, format);
      if (!codec.ok()) return codec.status();
      const FrameProbe probe = (*codec)->Probe(data + pos, n - pos);
      if (probe.kind == FrameProbe::Kind::kNeedMore) break;
      if (probe.kind == FrameProbe::Kind::kCorrupt) {
        if (frames > 0) {
          full = true;
          break;
        }
        return DataLoss(probe.error + Where(pos));
      }
      const bool fits = probe.kind == FrameProbe::Kind::kComplete &&
                        content + probe.max_content_size <= arena_->slot_bytes();
      if (!fits) {
        if (frames > 0) {
          full = true;
          break;
        }
        // The first frame cannot go to a worker: decode the rest as a stream.
        carry_.insert(carry_.begin() + static_cast<std::ptrdiff_t>(carry_pos_), data, data + n);
        ZSEND_RETURN_IF_ERROR(
            StartStreaming(format, probe.kind == FrameProbe::Kind::kUnsplittable
                                       ? "a frame without a size field (written by another tool)"
                                       : "a frame that decodes to more than a block (" +
                                             std::to_string(probe.max_content_size) + " bytes)"));
        return FillStreaming(source, block);
      }
      pos += probe.compressed_size;
      content += probe.max_content_size;
      ++frames;
    }
    // Hand whole frames on rather than wait for more input: a slow link still flows, and our
    // frames are block-sized, so a block with one frame is a full job for a worker.
    if (full || frames > 0) break;
    if (n == capacity) {
      // One frame larger than a block.
      const CodecFormat format = DetectFormat(data, n);
      carry_.assign(data, data + n);
      carry_pos_ = 0;
      ZSEND_RETURN_IF_ERROR(StartStreaming(format, "a frame larger than a block"));
      return FillStreaming(source, block);
    }
    if (eof_) {
      if (pos < n) {
        return DataLoss(std::string("compressed input ends inside a ") +
                        CodecFormatName(DetectFormat(data + pos, n - pos)) + " frame" + Where(pos) +
                        " (truncated stream)");
      }
      break;
    }
    Result<size_t> got = source.Read(data + n, capacity - n);
    if (!got.ok()) return got.status();
    if (*got == 0) eof_ = true;
    n += *got;
  }
  // Keep the partial frame for the next block.
  if (pos < n) {
    carry_.insert(carry_.begin() + static_cast<std::ptrdiff_t>(carry_pos_), data + pos, data + n);
  }
  offsets_[block.index] = consumed_;
  consumed_ += pos;
  block.size = pos;
  kinds_[block.index] = kFrames;
  frames_.fetch_add(frames, std::memory_order_relaxed);
  coded_.fetch_add(pos, std::memory_order_relaxed);
  return eof_ && carry_.size() == carry_pos_;
}

Status DecompressStage::StartStreaming(CodecFormat format, const std::string& why) {
  Result<Codec*> codec = CodecFor(reader_codecs_, format);
  if (!codec.ok()) return codec.status();
  stream_ = (*codec)->NewStreamDecoder();
  if (!stream_) return Internal("no stream decoder for " + std::string(CodecFormatName(format)));
  stream_format_ = format;
  {
    std::lock_guard lock(reason_mu_);
    serial_reason_ = why;
  }
  parallel_.store(false, std::memory_order_relaxed);
  return Status::Ok();
}

Result<bool> DecompressStage::FillStreaming(ByteSource& source, Block& block) {
  StreamBuffers b;
  b.out = block.data;
  b.out_size = block.capacity;
  while (b.out_pos < b.out_size) {
    if (carry_pos_ == carry_.size()) {
      if (eof_) break;
      carry_.resize(kStreamChunk);
      carry_pos_ = 0;
      Result<size_t> got = source.Read(carry_.data(), carry_.size());
      if (!got.ok()) return got.status();
      carry_.resize(*got);
      if (*got == 0) {
        eof_ = true;
        break;
      }
    }
    b.in = carry_.data();
    b.in_size = carry_.size();
    b.in_pos = carry_pos_;
    const size_t in_before = b.in_pos, out_before = b.out_pos;
    Status status = stream_->Decode(b);
    if (!status.ok()) return Status(status.code(), status.message() + Where(b.in_pos - carry_pos_));
    consumed_ += b.in_pos - carry_pos_;
    coded_.fetch_add(b.in_pos - carry_pos_, std::memory_order_relaxed);
    carry_pos_ = b.in_pos;
    if (b.in_pos == in_before && b.out_pos == out_before) {
      return DataLoss(std::string("corrupt ") + CodecFormatName(stream_format_) + " data" +
                      Where(0) + ": the decoder makes no progress");
    }
  }
  const bool done = eof_ && carry_pos_ == carry_.size();
  if (done && !stream_->AtFrameEnd()) {
    return DataLoss(std::string("compressed input ends inside a ") +
                    CodecFormatName(stream_format_) + " frame" + Where(0) + " (truncated stream)");
  }
  block.size = b.out_pos;
  kinds_[block.index] = kPlain;
  raw_.fetch_add(b.out_pos, std::memory_order_relaxed);
  return done;
}

Status DecompressStage::Apply(Block& block, int worker) {
  if (block.index >= kinds_.size() || worker < 0 ||
      static_cast<size_t>(worker) >= worker_codecs_.size()) {
    return Internal("decompress: block or worker index out of range");
  }
  if (kinds_[block.index] == kPlain) return Status::Ok();  // out already points at the data
  std::byte* slot = arena_->Slot(block.index);
  size_t pos = 0, out = 0;
  while (pos < block.size) {
    const CodecFormat format = DetectFormat(block.data + pos, block.size - pos);
    Result<Codec*> codec = CodecFor(worker_codecs_[worker], format);
    if (!codec.ok()) return codec.status();
    const FrameProbe probe = (*codec)->Probe(block.data + pos, block.size - pos);
    if (probe.kind != FrameProbe::Kind::kComplete) {
      return Internal("decompress: a frame the reader delimited no longer probes whole");
    }
    Result<size_t> n = (*codec)->DecompressFrame(block.data + pos, probe.compressed_size,
                                                 slot + out, arena_->slot_bytes() - out);
    if (!n.ok()) {
      return Status(n.status().code(), n.status().message() + " in the frame at input byte " +
                                           std::to_string(offsets_[block.index] + pos));
    }
    pos += probe.compressed_size;
    out += *n;
  }
  block.out = slot;
  block.out_size = out;
  raw_.fetch_add(out, std::memory_order_relaxed);
  return Status::Ok();
}

CodecStats DecompressStage::stats() const {
  CodecStats s;
  s.mode = "decompress";
  s.codec = CodecFormatName(static_cast<CodecFormat>(format_seen_.load()));
  s.blocks = frames_.load();
  s.raw_bytes = raw_.load();
  s.coded_bytes = coded_.load();
  s.parallel = parallel_.load();
  std::lock_guard lock(reason_mu_);
  s.serial_reason = serial_reason_;
  return s;
}

}  // namespace zsend
