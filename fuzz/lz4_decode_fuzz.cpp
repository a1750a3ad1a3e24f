// libFuzzer target: the lz4 decoder (probe, whole frame, stream, and the decompress stage).
#include "fuzz/decode_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return zsend::fuzz::DecodeOne(zsend::CodecFormat::kLz4, data, size);
}
