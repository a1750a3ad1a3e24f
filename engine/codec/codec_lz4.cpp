// lz4: each block one lz4 frame (independent blocks, content size and content checksum, as the
// lz4 tool writes by default). lz4 frames already store a block uncompressed when compressing
// does not shrink it, so Store() is Compress(). Probe() walks the frame's block size fields.
#include <lz4frame.h>

#include <algorithm>

#include "engine/codec/codec.h"
#include "engine/codec/codec_bytes.h"

namespace zsend {
namespace {

constexpr uint32_t kLz4Magic = 0x184D2204u;

Status Lz4Error(const char* what, size_t code) {
  return DataLoss(std::string("corrupt lz4 data: ") + what + ": " + LZ4F_getErrorName(code));
}

class Lz4StreamDecoder : public StreamDecoder {
 public:
  Lz4StreamDecoder() { LZ4F_createDecompressionContext(&dctx_, LZ4F_VERSION); }
  ~Lz4StreamDecoder() override { LZ4F_freeDecompressionContext(dctx_); }
  Status Decode(StreamBuffers& b) override {
    for (;;) {
      size_t out_room = b.out_size - b.out_pos;
      size_t in_left = b.in_size - b.in_pos;
      if (out_room == 0) break;
      size_t hint =
          LZ4F_decompress(dctx_, b.out + b.out_pos, &out_room, b.in + b.in_pos, &in_left, nullptr);
      if (LZ4F_isError(hint)) return Lz4Error("stream", hint);
      b.in_pos += in_left;
      b.out_pos += out_room;
      if (in_left > 0 || out_room > 0) at_frame_end_ = hint == 0;
      if (in_left == 0 && out_room == 0) break;  // no progress: needs more input
    }
    return Status::Ok();
  }
  bool AtFrameEnd() const override { return at_frame_end_; }

 private:
  LZ4F_dctx* dctx_ = nullptr;
  bool at_frame_end_ = true;
};

class Lz4Codec : public Codec {
 public:
  Lz4Codec() {
    LZ4F_createCompressionContext(&cctx_, LZ4F_VERSION);
    LZ4F_createDecompressionContext(&dctx_, LZ4F_VERSION);
  }
  ~Lz4Codec() override {
    LZ4F_freeCompressionContext(cctx_);
    LZ4F_freeDecompressionContext(dctx_);
  }
  CodecFormat format() const override { return CodecFormat::kLz4; }
  int level() const override { return 0; }
  void set_level(int) override {}

  size_t MaxCompressedSize(size_t size) const override {
    LZ4F_preferences_t prefs = Preferences(size);
    return LZ4F_compressFrameBound(size, &prefs);
  }

  Result<size_t> Compress(const std::byte* src, size_t size, std::byte* dst,
                          size_t capacity) override {
    LZ4F_preferences_t prefs = Preferences(size);
    size_t head = LZ4F_compressBegin(cctx_, dst, capacity, &prefs);
    if (LZ4F_isError(head)) return Internal(std::string("lz4: ") + LZ4F_getErrorName(head));
    size_t body = LZ4F_compressUpdate(cctx_, dst + head, capacity - head, src, size, nullptr);
    if (LZ4F_isError(body)) return Internal(std::string("lz4: ") + LZ4F_getErrorName(body));
    size_t tail = LZ4F_compressEnd(cctx_, dst + head + body, capacity - head - body, nullptr);
    if (LZ4F_isError(tail)) return Internal(std::string("lz4: ") + LZ4F_getErrorName(tail));
    return head + body + tail;
  }

  Result<size_t> Store(const std::byte* src, size_t size, std::byte* dst,
                       size_t capacity) override {
    return Compress(src, size, dst, capacity);
  }

  FrameProbe Probe(const std::byte* data, size_t size) const override {
    FrameProbe probe;
    probe.kind = FrameProbe::Kind::kNeedMore;
    if (size < 4) return probe;
    const uint32_t magic = codec_bytes::Load32(data);
    if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) {  // skippable frame
      if (size < 8) return probe;
      const uint64_t frame = 8ull + codec_bytes::Load32(data + 4);
      if (size < frame) return probe;
      return Complete(frame, 0);
    }
    if (magic != kLz4Magic) return Corrupt("not an lz4 frame");
    if (size < 7) return probe;
    const auto flags = static_cast<uint8_t>(data[4]);
    const auto bd = static_cast<uint8_t>(data[5]);
    if ((flags >> 6) != 1 || (flags & 0x02) != 0 || (bd & 0x8F) != 0 || (bd >> 4) < 4) {
      return Corrupt("corrupt lz4 frame header");
    }
    const bool block_checksum = flags & 0x10, content_size = flags & 0x08,
               content_checksum = flags & 0x04, dict_id = flags & 0x01;
    const uint64_t block_max = 1ull << (8 + 2 * (bd >> 4));
    uint64_t pos = 4 + 2 + (content_size ? 8 : 0) + (dict_id ? 4 : 0) + 1;
    if (size < pos) return probe;
    uint64_t blocks = 0;
    for (;;) {
      if (size < pos + 4) return probe;
      const uint32_t word = codec_bytes::Load32(data + pos);
      pos += 4;
      if (word == 0) break;  // end mark
      const uint32_t block = word & 0x7FFFFFFFu;
      if (block > block_max) return Corrupt("corrupt lz4 block size");
      pos += block + (block_checksum ? 4 : 0);
      ++blocks;
    }
    pos += content_checksum ? 4 : 0;
    if (size < pos) return probe;
    return Complete(pos, content_size ? codec_bytes::Load64(data + 6) : blocks * block_max);
  }

  Result<size_t> DecompressFrame(const std::byte* src, size_t size, std::byte* dst,
                                 size_t capacity) override {
    LZ4F_resetDecompressionContext(dctx_);
    size_t in_pos = 0, out_pos = 0;
    for (;;) {
      size_t in_left = size - in_pos, out_room = capacity - out_pos;
      size_t hint =
          LZ4F_decompress(dctx_, dst + out_pos, &out_room, src + in_pos, &in_left, nullptr);
      if (LZ4F_isError(hint)) return Lz4Error("frame", hint);
      in_pos += in_left;
      out_pos += out_room;
      if (hint == 0) break;
      if (in_left == 0 && out_room == 0) {
        return DataLoss(in_pos == size ? "corrupt lz4 frame: it ends early"
                                       : "corrupt lz4 frame: it decodes to more than a block");
      }
    }
    if (in_pos != size) return DataLoss("corrupt lz4 frame: its size is wrong");
    return out_pos;
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() override {
    return std::make_unique<Lz4StreamDecoder>();
  }

 private:
  static LZ4F_preferences_t Preferences(size_t size) {
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockSizeID = LZ4F_max1MB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.contentSize = size;
    return prefs;
  }
  static FrameProbe Complete(uint64_t frame, uint64_t content) {
    FrameProbe probe;
    probe.kind = FrameProbe::Kind::kComplete;
    probe.compressed_size = frame;
    probe.max_content_size = content;
    return probe;
  }
  static FrameProbe Corrupt(const char* why) {
    FrameProbe probe;
    probe.error = why;
    return probe;
  }

  LZ4F_cctx* cctx_ = nullptr;
  LZ4F_dctx* dctx_ = nullptr;
};

}  // namespace

std::unique_ptr<Codec> MakeLz4Codec(int) {
  return std::make_unique<Lz4Codec>();
}

}  // namespace zsend
