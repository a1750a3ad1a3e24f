// Stage benchmarks for `zsend-engine bench`: how fast this host runs each stage of a transfer
// on its own (pipe reads, each codec at a few levels, frame sealing with both bulk ciphers) and
// the whole send/recv path over loopback.
//
// Every measurement repeats its work until `seconds` have passed (at least one pass), so a
// caller bounds each stage. Figures are bytes of the uncompressed stream per second on one
// thread unless said otherwise. Functions are independent and thread-compatible; they allocate
// their own buffers and own nothing afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/codec/bench_advice.h"
#include "engine/codec/codec.h"
#include "engine/wire/frame.h"

namespace zsend {

// A mixed sample standing in for a zfs send stream: text-like compressible records, runs of
// zeros and incompressible random bytes, in about equal parts, interleaved per 64 KiB.
std::vector<std::byte> MakeSyntheticSample(size_t size);
// Up to `max_size` bytes of `path`; kInvalidArgument for an empty file.
Result<std::vector<std::byte>> LoadSample(const std::string& path, size_t max_size);

// The codec choices bench measures: none, lz4, zstd:1, zstd:3, zstd:9, gzip:1, gzip:6.
std::vector<CodecSpec> BenchCodecSpecs();

Result<CodecFigure> BenchCodec(const CodecSpec& spec, const std::vector<std::byte>& sample,
                               size_t block_size, double seconds);
// Seals 1 MiB frames with `cipher` under a random key (the real FrameCipher path).
Result<double> BenchSeal(BulkCipher cipher, double seconds);
// Moves bytes through a pipe from a writer thread and returns the reader's rate.
Result<double> BenchPipeRead(double seconds);
// Measures all of the above; `progress` (may be null) is told each stage's name first.
Result<CpuFigures> BenchCpu(const std::vector<std::byte>& sample, double seconds,
                            void (*progress)(const std::string& stage) = nullptr);

struct LoopbackFigure {
  double rate = 0;  // stream bytes/s through send -> socketpair -> recv, both in this process
  uint64_t bytes = 0;
  double seconds = 0;
  std::string cipher;
};
// Runs RunSendTransfer and RunReceiveTransfer (the real transfer code) over a socketpair with
// a fresh session key, feeding the sample repeatedly for `seconds`.
Result<LoopbackFigure> BenchLoopbackTransfer(const std::vector<std::byte>& sample, double seconds,
                                             int workers);

}  // namespace zsend
