// none: blocks pass unchanged. Used for --compress none and as the identity in tests; it has
// no frames, so it cannot be detected or probed.
#include <cstring>

#include "engine/codec/codec.h"

namespace zsend {
namespace {

class NoneCodec : public Codec {
 public:
  CodecFormat format() const override { return CodecFormat::kNone; }
  int level() const override { return 0; }
  void set_level(int) override {}
  size_t MaxCompressedSize(size_t size) const override { return size; }
  Result<size_t> Compress(const std::byte* src, size_t size, std::byte* dst,
                          size_t capacity) override {
    if (capacity < size) return Internal("none: output buffer too small");
    if (size > 0) std::memcpy(dst, src, size);
    return size;
  }
  Result<size_t> Store(const std::byte* src, size_t size, std::byte* dst,
                       size_t capacity) override {
    return Compress(src, size, dst, capacity);
  }
  FrameProbe Probe(const std::byte*, size_t) const override {
    FrameProbe probe;
    probe.error = "uncompressed data has no frames";
    return probe;
  }
  Result<size_t> DecompressFrame(const std::byte*, size_t, std::byte*, size_t) override {
    return InvalidArgument("uncompressed data has no frames");
  }
  std::unique_ptr<StreamDecoder> NewStreamDecoder() override { return nullptr; }
};

}  // namespace

std::unique_ptr<Codec> MakeNoneCodec() {
  return std::make_unique<NoneCodec>();
}

}  // namespace zsend
