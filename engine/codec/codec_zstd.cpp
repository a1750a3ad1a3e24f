// zstd: each block one zstd frame with its content size and checksum; Store() writes a frame
// of raw blocks by hand (the format is simple: a header, 3-byte block headers and the low 32
// bits of the content's XXH64 as checksum, so a damaged stored block is caught too).
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_decompressBound
#include <xxhash.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstring>

#include "engine/codec/codec.h"
#include "engine/codec/codec_bytes.h"

namespace zsend {
namespace {

constexpr size_t kRawBlockMax = 128 * 1024;  // ZSTD_BLOCKSIZE_MAX
constexpr size_t kRawHeader = 4 + 1 + 8;     // magic, descriptor, 8-byte content size
constexpr size_t kChecksum = 4;

Status ZstdError(const char* what, size_t code) {
  return DataLoss(std::string("corrupt zstd data: ") + what + ": " + ZSTD_getErrorName(code));
}

class ZstdStreamDecoder : public StreamDecoder {
 public:
  ZstdStreamDecoder() : dctx_(ZSTD_createDCtx()) {}
  ~ZstdStreamDecoder() override { ZSTD_freeDCtx(dctx_); }
  Status Decode(StreamBuffers& b) override {
    ZSTD_inBuffer in{b.in, b.in_size, b.in_pos};
    ZSTD_outBuffer out{b.out, b.out_size, b.out_pos};
    while (in.pos < in.size && out.pos < out.size) {
      size_t ret = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(ret)) return ZstdError("stream", ret);
      at_frame_end_ = ret == 0;
    }
    // A finished frame may still hold output to flush even when no input is left.
    while (in.pos == in.size && out.pos < out.size && !at_frame_end_) {
      const size_t before = out.pos;
      size_t ret = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(ret)) return ZstdError("stream", ret);
      at_frame_end_ = ret == 0;
      if (out.pos == before) break;
    }
    b.in_pos = in.pos;
    b.out_pos = out.pos;
    return Status::Ok();
  }
  bool AtFrameEnd() const override { return at_frame_end_; }

 private:
  ZSTD_DCtx* dctx_;
  bool at_frame_end_ = true;
};

class ZstdCodec : public Codec {
 public:
  explicit ZstdCodec(int level) : cctx_(ZSTD_createCCtx()), dctx_(ZSTD_createDCtx()) {
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    set_level(level);
  }
  ~ZstdCodec() override {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
  }
  CodecFormat format() const override { return CodecFormat::kZstd; }
  int level() const override { return level_; }
  void set_level(int level) override {
    const LevelRange range = LevelRangeOf(CodecFormat::kZstd);
    level = std::clamp(level, range.min, range.max);
    if (level == level_) return;
    level_ = level;
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
  }

  size_t MaxCompressedSize(size_t size) const override {
    const size_t raw = kRawHeader + 3 * (size / kRawBlockMax + 1) + size + kChecksum;
    return std::max(ZSTD_compressBound(size), raw);
  }

  Result<size_t> Compress(const std::byte* src, size_t size, std::byte* dst,
                          size_t capacity) override {
    size_t n = ZSTD_compress2(cctx_, dst, capacity, src, size);
    if (ZSTD_isError(n)) return Internal(std::string("zstd compress: ") + ZSTD_getErrorName(n));
    return n;
  }

  Result<size_t> Store(const std::byte* src, size_t size, std::byte* dst,
                       size_t capacity) override {
    if (capacity < MaxCompressedSize(size)) return Internal("zstd store: buffer too small");
    std::byte* p = dst;
    codec_bytes::Store32(p, ZSTD_MAGICNUMBER);
    p[4] = std::byte{0xE4};  // 8-byte content size, single segment, checksum, no dictionary
    codec_bytes::Store64(p + 5, size);
    p += kRawHeader;
    size_t done = 0;
    do {
      const size_t chunk = std::min(kRawBlockMax, size - done);
      const bool last = done + chunk == size;
      codec_bytes::Store24(p, static_cast<uint32_t>(chunk << 3) | (last ? 1u : 0u));
      if (chunk > 0) std::memcpy(p + 3, src + done, chunk);
      p += 3 + chunk;
      done += chunk;
    } while (done < size);
    codec_bytes::Store32(p, static_cast<uint32_t>(XXH64(src, size, 0)));
    p += kChecksum;
    return static_cast<size_t>(p - dst);
  }

  FrameProbe Probe(const std::byte* data, size_t size) const override {
    FrameProbe probe;
    const size_t frame = ZSTD_findFrameCompressedSize(data, size);
    if (ZSTD_isError(frame)) {
      if (ZSTD_getErrorCode(frame) == ZSTD_error_srcSize_wrong) {
        probe.kind = FrameProbe::Kind::kNeedMore;
      } else {
        probe.error = std::string("corrupt zstd frame: ") + ZSTD_getErrorName(frame);
      }
      return probe;
    }
    unsigned long long content = ZSTD_getFrameContentSize(data, frame);
    if (content == ZSTD_CONTENTSIZE_ERROR) {
      probe.error = "corrupt zstd frame header";
      return probe;
    }
    if (content == ZSTD_CONTENTSIZE_UNKNOWN) {
      content = ZSTD_decompressBound(data, frame);
      if (content == ZSTD_CONTENTSIZE_ERROR) {
        probe.error = "corrupt zstd frame";
        return probe;
      }
    }
    probe.kind = FrameProbe::Kind::kComplete;
    probe.compressed_size = frame;
    probe.max_content_size = content;
    return probe;
  }

  Result<size_t> DecompressFrame(const std::byte* src, size_t size, std::byte* dst,
                                 size_t capacity) override {
    if (size == 0) return DataLoss("corrupt zstd data: an empty frame");
    size_t n = ZSTD_decompressDCtx(dctx_, dst, capacity, src, size);
    if (ZSTD_isError(n)) return ZstdError("frame", n);
    return n;
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() override {
    return std::make_unique<ZstdStreamDecoder>();
  }

 private:
  ZSTD_CCtx* cctx_;
  ZSTD_DCtx* dctx_;
  int level_ = 0;
};

}  // namespace

std::unique_ptr<Codec> MakeZstdCodec(int level) {
  return std::make_unique<ZstdCodec>(level);
}

}  // namespace zsend
