// Shared body of the decoder fuzz targets (fuzz/*_fuzz.cpp, built with -DZSEND_FUZZ=ON).
//
// For one format it feeds the input to Codec::Probe + DecompressFrame, to the format's
// StreamDecoder, and to the whole DecompressStage reader/worker path (single-threaded, with one
// hand-made block), with output bounded so a decompression bomb cannot exhaust memory. Any
// crash, sanitizer report or endless loop is a bug; errors are expected.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/codec/codec.h"

namespace zsend::fuzz {

int DecodeOne(CodecFormat format, const uint8_t* data, size_t size);

}  // namespace zsend::fuzz
