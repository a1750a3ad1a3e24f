// gzip: each block one gzip member compressed with libdeflate (about twice zlib's speed at the
// same level and ratio on zfs send streams; see docs/codecs.md). Our members carry their own
// size in a gzip FEXTRA subfield 'ZS' (as BGZF does with 'BC'), so the decoder can split them
// without inflating; gunzip ignores the subfield. Members without it (gzip, pigz) are decoded
// as a stream with zlib, since libdeflate has no streaming API.
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>

#include "engine/codec/codec.h"
#include "engine/codec/codec_bytes.h"

namespace zsend {
namespace {

constexpr size_t kHeader = 20;  // 10 fixed + XLEN(2) + subfield 'Z','S', LEN=4, size(4)
constexpr size_t kTrailer = 8;  // CRC32, ISIZE
constexpr std::byte kFlagExtra{0x04};

class GzipStreamDecoder : public StreamDecoder {
 public:
  GzipStreamDecoder() { ok_ = inflateInit2(&z_, 15 + 16) == Z_OK; }
  ~GzipStreamDecoder() override { inflateEnd(&z_); }
  Status Decode(StreamBuffers& b) override {
    if (!ok_) return Internal("zlib: inflateInit2 failed");
    while (b.out_pos < b.out_size && (b.in_pos < b.in_size || !at_frame_end_)) {
      if (at_frame_end_ && b.in_pos < b.in_size) {
        inflateReset(&z_);
        at_frame_end_ = false;
      }
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(b.in + b.in_pos));
      z_.avail_in = static_cast<uInt>(std::min<size_t>(b.in_size - b.in_pos, 1u << 30));
      z_.next_out = reinterpret_cast<Bytef*>(b.out + b.out_pos);
      z_.avail_out = static_cast<uInt>(std::min<size_t>(b.out_size - b.out_pos, 1u << 30));
      const uInt in_before = z_.avail_in, out_before = z_.avail_out;
      int ret = inflate(&z_, Z_NO_FLUSH);
      b.in_pos += in_before - z_.avail_in;
      b.out_pos += out_before - z_.avail_out;
      if (ret == Z_STREAM_END) {
        at_frame_end_ = true;
        continue;
      }
      if (ret == Z_BUF_ERROR) break;  // needs more input (or more room)
      if (ret != Z_OK) {
        return DataLoss(std::string("corrupt gzip data: ") + (z_.msg ? z_.msg : "inflate error"));
      }
    }
    return Status::Ok();
  }
  bool AtFrameEnd() const override { return at_frame_end_; }

 private:
  z_stream z_{};
  bool ok_ = false;
  bool at_frame_end_ = true;
};

class GzipCodec : public Codec {
 public:
  explicit GzipCodec(int level) : decompressor_(libdeflate_alloc_decompressor()) {
    set_level(level);
  }
  ~GzipCodec() override {
    if (compressor_ != nullptr) libdeflate_free_compressor(compressor_);
    if (store_compressor_ != nullptr) libdeflate_free_compressor(store_compressor_);
    libdeflate_free_decompressor(decompressor_);
  }
  CodecFormat format() const override { return CodecFormat::kGzip; }
  int level() const override { return level_; }
  void set_level(int level) override {
    const LevelRange range = LevelRangeOf(CodecFormat::kGzip);
    level = std::clamp(level, range.min, range.max);
    if (level == level_ && compressor_ != nullptr) return;
    level_ = level;
    if (compressor_ != nullptr) libdeflate_free_compressor(compressor_);
    compressor_ = libdeflate_alloc_compressor(level_);
  }

  size_t MaxCompressedSize(size_t size) const override {
    // Stored deflate blocks cost 5 bytes per 65535; libdeflate's bound covers that too.
    const size_t stored = size + 5 * (size / 65535 + 1);
    return kHeader + kTrailer + std::max(stored, libdeflate_deflate_compress_bound(nullptr, size));
  }

  Result<size_t> Compress(const std::byte* src, size_t size, std::byte* dst,
                          size_t capacity) override {
    return Member(compressor_, src, size, dst, capacity);
  }

  Result<size_t> Store(const std::byte* src, size_t size, std::byte* dst,
                       size_t capacity) override {
    if (store_compressor_ == nullptr) store_compressor_ = libdeflate_alloc_compressor(0);
    return Member(store_compressor_, src, size, dst, capacity);
  }

  FrameProbe Probe(const std::byte* data, size_t size) const override {
    FrameProbe probe;
    if (size < 12) {
      probe.kind = FrameProbe::Kind::kNeedMore;
      if (size >= 3 && (data[0] != std::byte{0x1f} || data[1] != std::byte{0x8b} ||
                        data[2] != std::byte{0x08})) {
        probe.kind = FrameProbe::Kind::kCorrupt;
        probe.error = "not a gzip member";
      }
      return probe;
    }
    if (data[0] != std::byte{0x1f} || data[1] != std::byte{0x8b} || data[2] != std::byte{0x08} ||
        (data[3] & std::byte{0xE0}) != std::byte{0}) {
      probe.error = "corrupt gzip member header";
      return probe;
    }
    probe.kind = FrameProbe::Kind::kUnsplittable;  // unless it carries our size subfield
    if ((data[3] & kFlagExtra) == std::byte{0}) return probe;
    const size_t xlen = codec_bytes::Load16(data + 10);
    if (size < 12 + xlen) {
      probe.kind = FrameProbe::Kind::kNeedMore;
      return probe;
    }
    for (size_t pos = 12; pos + 4 <= 12 + xlen;) {
      const size_t len = codec_bytes::Load16(data + pos + 2);
      if (data[pos] == std::byte{'Z'} && data[pos + 1] == std::byte{'S'} && len == 4 &&
          pos + 8 <= 12 + xlen) {
        const size_t member = codec_bytes::Load32(data + pos + 4);
        if (member < 12 + xlen + kTrailer + 2) {
          probe.kind = FrameProbe::Kind::kCorrupt;
          probe.error = "corrupt gzip member size field";
        } else if (size < member) {
          probe.kind = FrameProbe::Kind::kNeedMore;
        } else {
          probe.kind = FrameProbe::Kind::kComplete;
          probe.compressed_size = member;
          probe.max_content_size = codec_bytes::Load32(data + member - 4);
        }
        return probe;
      }
      pos += 4 + len;
    }
    return probe;
  }

  Result<size_t> DecompressFrame(const std::byte* src, size_t size, std::byte* dst,
                                 size_t capacity) override {
    size_t used = 0, produced = 0;
    libdeflate_result r =
        libdeflate_gzip_decompress_ex(decompressor_, src, size, dst, capacity, &used, &produced);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
      return DataLoss("corrupt gzip member: it decodes to more than its recorded size");
    }
    if (r != LIBDEFLATE_SUCCESS) return DataLoss("corrupt gzip member (bad deflate data or CRC)");
    if (used != size) return DataLoss("corrupt gzip member: its size field is wrong");
    return produced;
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() override {
    return std::make_unique<GzipStreamDecoder>();
  }

 private:
  Result<size_t> Member(libdeflate_compressor* c, const std::byte* src, size_t size, std::byte* dst,
                        size_t capacity) {
    if (c == nullptr) return Internal("libdeflate: cannot allocate a compressor");
    if (capacity < kHeader + kTrailer) return Internal("gzip: output buffer too small");
    const std::byte header[12] = {std::byte{0x1f}, std::byte{0x8b}, std::byte{0x08}, kFlagExtra,
                                  std::byte{0},    std::byte{0},    std::byte{0},    std::byte{0},
                                  std::byte{0},    std::byte{3},    std::byte{8},    std::byte{0}};
    std::copy(std::begin(header), std::end(header), dst);
    dst[12] = std::byte{'Z'};
    dst[13] = std::byte{'S'};
    codec_bytes::Store16(dst + 14, 4);
    const size_t deflated =
        libdeflate_deflate_compress(c, src, size, dst + kHeader, capacity - kHeader - kTrailer);
    if (deflated == 0) return Internal("libdeflate: output buffer too small");
    const size_t member = kHeader + deflated + kTrailer;
    codec_bytes::Store32(dst + 16, static_cast<uint32_t>(member));
    codec_bytes::Store32(dst + kHeader + deflated, libdeflate_crc32(0, src, size));
    codec_bytes::Store32(dst + kHeader + deflated + 4, static_cast<uint32_t>(size));
    return member;
  }

  libdeflate_compressor* compressor_ = nullptr;
  libdeflate_compressor* store_compressor_ = nullptr;
  libdeflate_decompressor* decompressor_;
  int level_ = 0;
};

}  // namespace

std::unique_ptr<Codec> MakeGzipCodec(int level) {
  return std::make_unique<GzipCodec>(level);
}

}  // namespace zsend
