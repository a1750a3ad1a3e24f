// Format detection and the codec factory (spec parsing: base/codec_spec.h).
#include "engine/codec/codec.h"
#include "engine/codec/codec_bytes.h"

namespace zsend {
CodecFormat DetectFormat(const std::byte* data, size_t size) {
  if (size >= 2 && data[0] == std::byte{0x1f} && data[1] == std::byte{0x8b}) {
    return CodecFormat::kGzip;
  }
  if (size < 4) return CodecFormat::kNone;
  const uint32_t magic = codec_bytes::Load32(data);
  if (magic == 0xFD2FB528u) return CodecFormat::kZstd;
  if (magic == 0x184D2204u) return CodecFormat::kLz4;
  if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) return CodecFormat::kZstd;  // skippable frame
  return CodecFormat::kNone;
}

Result<std::unique_ptr<Codec>> MakeCodec(CodecFormat format, int level) {
  switch (format) {
    case CodecFormat::kZstd:
      return MakeZstdCodec(level);
    case CodecFormat::kGzip:
      return MakeGzipCodec(level);
    case CodecFormat::kLz4:
      return MakeLz4Codec(level);
    case CodecFormat::kNone:
      return MakeNoneCodec();
  }
  return Internal("unknown codec format");
}

}  // namespace zsend
