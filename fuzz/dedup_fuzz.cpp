// libFuzzer target: the receiver's dedup decoder (engine/codec/dedup.h) on hostile blocks. The
// input is cut into blocks by a leading length byte pair; each block is expanded against the
// history built so far, and whatever decodes is appended, as the receiver does. Nothing may crash,
// read outside the window or write past the block.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/codec/dedup.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zsend;
  constexpr size_t kBlock = 4096;
  DedupHistory history(8192, kBlock);
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  size_t at = 0;
  while (size - at >= 2) {
    const size_t n = std::min<size_t>((size_t{data[at]} << 8) | data[at + 1], size - at - 2);
    at += 2;
    Result<std::span<const std::byte>> raw = history.Expand(bytes + at, n);
    if (raw.ok()) {
      history.Append(raw->data(), raw->size());
    } else {
      history.Append(bytes + at, std::min(n, kBlock));  // a raw block, as a frame without refs
    }
    at += n;
  }
  return 0;
}
