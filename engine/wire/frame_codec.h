// Compression of data frames (the codec slot of SealTransform / OpenTransform).
//
// The sender compresses each block's payload into one codec frame (codec.h) and keeps it only
// when it is smaller than the raw payload; the frame header then says "compressed" and which
// codec (wire id = CodecFormat value: 1 zstd, 2 gzip, 3 lz4). The receiver decodes any of them,
// whatever the sender chose, into at most the session's block size. With "auto" the zstd level
// comes from an AdaptiveController (adaptive_codec.h) fed by the transfer while it runs; its
// "none" rung sends blocks raw.
//
// One FrameCompressor / FrameDecompressor per worker thread; the shared level is an atomic.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "base/status.h"
#include "engine/codec/codec.h"

namespace zsend {

class FrameCompressor {
 public:
  // `level`: the adaptive level shared by all workers (auto only), else null.
  static Result<std::unique_ptr<FrameCompressor>> Create(const CodecSpec& spec, size_t block_size,
                                                         const std::atomic<int>* level);
  // Compresses payload[0, n) in place when that shrinks it; returns the payload's new size and
  // sets `compressed` and `codec_id`.
  Result<size_t> Apply(std::byte* payload, size_t n, bool* compressed, uint8_t* codec_id);
  uint64_t busy_ns() const { return busy_ns_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<Codec> codec_;  // null: never compress
  const std::atomic<int>* level_ = nullptr;
  std::vector<std::byte> scratch_;
  std::atomic<uint64_t> busy_ns_{0};
};

class FrameDecompressor {
 public:
  explicit FrameDecompressor(size_t block_size) : scratch_(block_size) {}
  // Decodes the codec frame payload[0, n) (codec `codec_id`) in place; returns the raw size.
  // kDataLoss for an unknown codec, a corrupt frame or more than the block size of output.
  Result<size_t> Apply(std::byte* payload, size_t n, uint8_t codec_id);

 private:
  std::unique_ptr<Codec> codecs_[4];
  std::vector<std::byte> scratch_;
};

}  // namespace zsend
