#include "engine/wire/frame_codec.h"

#include <chrono>
#include <cstring>

#include "engine/codec/adaptive_codec.h"

namespace zsend {

Result<std::unique_ptr<FrameCompressor>> FrameCompressor::Create(const CodecSpec& spec,
                                                                 size_t block_size,
                                                                 const std::atomic<int>* level) {
  auto c = std::unique_ptr<FrameCompressor>(new FrameCompressor());
  const CodecFormat format = spec.adaptive ? CodecFormat::kZstd : spec.format;
  if (format == CodecFormat::kNone) return c;
  Result<std::unique_ptr<Codec>> codec = MakeCodec(format, spec.adaptive ? 1 : spec.level);
  if (!codec.ok()) return codec.status();
  c->codec_ = std::move(*codec);
  c->level_ = spec.adaptive ? level : nullptr;
  c->scratch_.resize(c->codec_->MaxCompressedSize(block_size));
  return c;
}

Result<size_t> FrameCompressor::Apply(std::byte* payload, size_t n, bool* compressed,
                                      uint8_t* codec_id) {
  *compressed = false;
  *codec_id = 0;
  if (codec_ == nullptr) return n;
  if (level_ != nullptr) {
    const int level = level_->load(std::memory_order_relaxed);
    if (level == AdaptiveController::kStored) return n;
    if (level != codec_->level()) codec_->set_level(level);
  }
  const auto start = std::chrono::steady_clock::now();
  Result<size_t> packed = codec_->Compress(payload, n, scratch_.data(), scratch_.size());
  busy_ns_.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count()),
                     std::memory_order_relaxed);
  if (!packed.ok()) return packed.status();
  if (*packed >= n) return n;  // does not shrink: send it raw
  std::memcpy(payload, scratch_.data(), *packed);
  *compressed = true;
  *codec_id = static_cast<uint8_t>(codec_->format());
  return *packed;
}

Result<size_t> FrameDecompressor::Apply(std::byte* payload, size_t n, uint8_t codec_id) {
  if (codec_id < 1 || codec_id > 3) {
    return DataLoss("data frame names unknown codec " + std::to_string(codec_id));
  }
  std::unique_ptr<Codec>& codec = codecs_[codec_id];
  if (codec == nullptr) {
    Result<std::unique_ptr<Codec>> made = MakeCodec(static_cast<CodecFormat>(codec_id), 1);
    if (!made.ok()) return made.status();
    codec = std::move(*made);
  }
  Result<size_t> raw = codec->DecompressFrame(payload, n, scratch_.data(), scratch_.size());
  if (!raw.ok()) {
    return DataLoss("a compressed data frame does not decode: " + raw.status().message());
  }
  std::memcpy(payload, scratch_.data(), *raw);
  return *raw;
}

}  // namespace zsend
