// Big-endian integers in byte buffers, as the wire protocol writes them (docs/protocol.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace zsend {

// Writes the low `bytes` bytes of `value` to out[0, bytes), most significant first.
inline void PutBe(std::byte* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out[i] = static_cast<std::byte>(value >> (8 * (bytes - 1 - i)));
  }
}

inline uint64_t GetBe(const std::byte* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

}  // namespace zsend
