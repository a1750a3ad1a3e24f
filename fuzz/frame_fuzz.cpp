// libFuzzer target: the receiving side's frame parsing on hostile bytes. The input is split
// into frames as a receiver would: a header is decoded (limits checked before the body is
// read), the body opened with a fixed key, and control payloads decoded. Nothing may crash,
// over-read or allocate from an unchecked length.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/wire/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zsend;
  noise::CipherKey key;
  std::memset(key.data(), 0x42, key.size());
  static const BulkCipher kCiphers[] = {BulkCipher::kAesGcm, BulkCipher::kChaChaPoly,
                                        BulkCipher::kNone};
  FrameCipher opener(kCiphers[size % 3], key);
  constexpr uint32_t kMaxBody = 256 * 1024;
  size_t at = 0;
  while (size - at >= kFrameHeaderSize) {
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    std::vector<std::byte> frame(bytes + at, bytes + at + kFrameHeaderSize);
    at += kFrameHeaderSize;
    Result<FrameHeader> header = DecodeFrameHeader(frame.data(), kMaxBody);
    if (!header.ok()) return 0;
    if (size - at < header->length) return 0;  // a receiver would wait for more
    frame.insert(frame.end(), bytes + at, bytes + at + header->length);
    at += header->length;
    Result<size_t> opened = opener.Open(frame.data(), *header);
    // The checksum-only cipher lets the fuzzer reach the payload decoders when it also
    // learns the keyed BLAKE2b; decode the raw payload anyway to exercise them.
    const std::string payload(reinterpret_cast<const char*>(frame.data()) + kFrameHeaderSize,
                              header->length - kFrameTagSize);
    (void)opened;
    (void)DecodeEnd(payload);
    (void)DecodeError(payload);
    (void)DecodeStatus(payload);
  }
  return 0;
}
