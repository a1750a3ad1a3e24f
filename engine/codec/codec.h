// Codec: one compression format (zstd, gzip, lz4, or none) at one level, working on whole
// blocks in caller-owned buffers.
//
// Every compressed block is one complete, standard frame: a zstd frame, a gzip member or an lz4
// frame, so a concatenation of blocks is a stream that `zstd -d`, `gunzip` and `lz4 -d` read.
// Store() writes the same format's uncompressed form (zstd raw blocks, deflate stored blocks,
// lz4 uncompressed blocks) for data that does not compress; it grows a block by a few bytes.
//
// The decoding side finds frame boundaries with Probe() so that frames can be decoded in
// parallel, and falls back to a StreamDecoder (one thread) when a frame cannot be delimited
// cheaply (a foreign single-member gzip file, a frame larger than a block).
//
// Ownership and thread-safety: a Codec owns its compression/decompression contexts and is used
// by one thread at a time; make one per worker with MakeCodec(). The free functions are
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/codec_spec.h"
#include "base/status.h"

namespace zsend {

// The format whose magic bytes start `data`; kNone when there are fewer than 4 bytes or the
// bytes belong to no supported format. zstd and lz4 skippable frames count as zstd.
CodecFormat DetectFormat(const std::byte* data, size_t size);

// What Probe() found at the start of a buffer.
struct FrameProbe {
  enum class Kind {
    kComplete,      // one whole frame of `compressed_size` bytes is in the buffer
    kNeedMore,      // the frame continues past the end of the buffer
    kUnsplittable,  // a valid frame whose end cannot be found cheaply: decode it as a stream
    kCorrupt,       // not a valid frame; `error` says why
  };
  Kind kind = Kind::kCorrupt;
  size_t compressed_size = 0;
  uint64_t max_content_size = 0;  // decoded size, or an upper bound on it
  std::string error;
};

// Incremental decoding of concatenated frames, for streams Probe() cannot split.
struct StreamBuffers {
  const std::byte* in = nullptr;
  size_t in_size = 0;
  size_t in_pos = 0;
  std::byte* out = nullptr;
  size_t out_size = 0;
  size_t out_pos = 0;
};

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Consumes input and produces output until one of them runs out. Fails (kDataLoss) on
  // corrupt data.
  virtual Status Decode(StreamBuffers& buffers) = 0;
  // True when everything consumed so far ended exactly at the end of a frame (a legal end of
  // the stream).
  virtual bool AtFrameEnd() const = 0;
};

class Codec {
 public:
  virtual ~Codec() = default;
  virtual CodecFormat format() const = 0;
  virtual int level() const = 0;
  // Changes the level for the next Compress(); clamped to LevelRangeOf(format()).
  virtual void set_level(int level) = 0;

  // Bytes Compress() or Store() may need for `size` input bytes.
  virtual size_t MaxCompressedSize(size_t size) const = 0;
  // Writes one complete frame holding src[0, size) into dst (capacity >= MaxCompressedSize).
  virtual Result<size_t> Compress(const std::byte* src, size_t size, std::byte* dst,
                                  size_t capacity) = 0;
  // The same, in the format's uncompressed form.
  virtual Result<size_t> Store(const std::byte* src, size_t size, std::byte* dst,
                               size_t capacity) = 0;

  // Looks for one frame at the start of data[0, size).
  virtual FrameProbe Probe(const std::byte* data, size_t size) const = 0;
  // Decodes exactly one whole frame (as delimited by Probe) into dst; returns the bytes written.
  // Fails with kDataLoss on corrupt data or when dst is too small.
  virtual Result<size_t> DecompressFrame(const std::byte* src, size_t size, std::byte* dst,
                                         size_t capacity) = 0;
  virtual std::unique_ptr<StreamDecoder> NewStreamDecoder() = 0;
};

// A codec for `format` at `level` (clamped to the format's range).
Result<std::unique_ptr<Codec>> MakeCodec(CodecFormat format, int level);

// Per-format constructors (one file each).
std::unique_ptr<Codec> MakeZstdCodec(int level);
std::unique_ptr<Codec> MakeGzipCodec(int level);
std::unique_ptr<Codec> MakeLz4Codec(int level);
std::unique_ptr<Codec> MakeNoneCodec();

}  // namespace zsend
