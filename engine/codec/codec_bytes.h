// Little-endian loads and stores for the codecs' frame headers (internal to engine/codec_*).
// Plain functions on caller-owned bytes; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zsend::codec_bytes {

inline uint32_t Load32(const std::byte* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
inline uint16_t Load16(const std::byte* p) {
  return static_cast<uint16_t>(static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8);
}
inline uint64_t Load64(const std::byte* p) {
  return static_cast<uint64_t>(Load32(p)) | static_cast<uint64_t>(Load32(p + 4)) << 32;
}
inline void Store16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v & 0xff);
  p[1] = std::byte(v >> 8);
}
inline void Store24(std::byte* p, uint32_t v) {
  p[0] = std::byte(v & 0xff);
  p[1] = std::byte((v >> 8) & 0xff);
  p[2] = std::byte((v >> 16) & 0xff);
}
inline void Store32(std::byte* p, uint32_t v) {
  Store16(p, static_cast<uint16_t>(v & 0xffff));
  Store16(p + 2, static_cast<uint16_t>(v >> 16));
}
inline void Store64(std::byte* p, uint64_t v) {
  Store32(p, static_cast<uint32_t>(v));
  Store32(p + 4, static_cast<uint32_t>(v >> 32));
}

}  // namespace zsend::codec_bytes
