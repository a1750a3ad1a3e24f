// Micro-benchmarks of each codec and level on one block size: compression and decompression
// throughput (bytes of uncompressed data per second) and the ratio, one thread.
//
// Sample: the file named by ZSEND_CODEC_SAMPLE (a saved `zfs send` stream, say), else a
// built-in mix of text-like, zero and random data. Only the first 64 MiB are used.
//   ZSEND_CODEC_SAMPLE=/tmp/stream.zfs build/bin/codec_bench --benchmark_filter=zstd
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "engine/codec/codec.h"

namespace zsend {
namespace {

constexpr size_t kBlock = 1 << 20;

std::string MixedSample() {
  std::mt19937_64 rng(1);
  static const char* kWords[] = {"zfs", "send", "pool", "snapshot", "block", "the", "of", "data"};
  std::string s;
  while (s.size() < (24u << 20)) {
    for (int i = 0; i < 50000; ++i) s += std::string(kWords[rng() % 8]) + (rng() % 9 ? " " : "\n");
    s.append(1 << 20, '\0');  // holes and zeroed records
    for (int i = 0; i < (1 << 18); ++i) {
      const uint32_t v = static_cast<uint32_t>(rng());
      s.append(reinterpret_cast<const char*>(&v), 4);  // incompressible (compressed records)
    }
  }
  return s;
}

const std::string& Sample() {
  static const std::string sample = [] {
    std::string s;
    if (const char* path = std::getenv("ZSEND_CODEC_SAMPLE")) {
      std::ifstream f(path, std::ios::binary);
      s.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    if (s.size() < kBlock) s = MixedSample();
    s.resize(std::min<size_t>(s.size() / kBlock * kBlock, 64u << 20));
    return s;
  }();
  return sample;
}

const std::byte* Bytes(const std::string& s) {
  return reinterpret_cast<const std::byte*>(s.data());
}

void BM_Compress(benchmark::State& state, CodecFormat format) {
  const int level = static_cast<int>(state.range(0));
  auto codec = std::move(MakeCodec(format, level).value());
  const std::string& sample = Sample();
  std::vector<std::byte> out(codec->MaxCompressedSize(kBlock));
  size_t offset = 0, raw = 0, coded = 0;
  for (auto _ : state) {
    Result<size_t> n = codec->Compress(Bytes(sample) + offset, kBlock, out.data(), out.size());
    if (!n.ok()) state.SkipWithError(n.status().message().c_str());
    raw += kBlock;
    coded += n.ok() ? *n : 0;
    offset = (offset + kBlock) % sample.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(raw));
  state.counters["ratio"] = static_cast<double>(coded) / static_cast<double>(raw);
}

void BM_Decompress(benchmark::State& state, CodecFormat format) {
  const int level = static_cast<int>(state.range(0));
  auto codec = std::move(MakeCodec(format, level).value());
  const std::string& sample = Sample();
  std::vector<std::string> frames;
  for (size_t offset = 0; offset < sample.size(); offset += kBlock) {
    std::string frame(codec->MaxCompressedSize(kBlock), '\0');
    Result<size_t> n = codec->Compress(Bytes(sample) + offset, kBlock,
                                       reinterpret_cast<std::byte*>(frame.data()), frame.size());
    frame.resize(n.ok() ? *n : 0);
    frames.push_back(std::move(frame));
  }
  std::vector<std::byte> out(kBlock);
  size_t i = 0;
  for (auto _ : state) {
    const std::string& frame = frames[i++ % frames.size()];
    Result<size_t> n = codec->DecompressFrame(Bytes(frame), frame.size(), out.data(), out.size());
    if (!n.ok()) state.SkipWithError(n.status().message().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBlock));
}

BENCHMARK_CAPTURE(BM_Compress, zstd, CodecFormat::kZstd)
    ->Arg(-5)
    ->Arg(-1)
    ->Arg(1)
    ->Arg(3)
    ->Arg(6)
    ->Arg(9)
    ->Arg(19)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Compress, gzip, CodecFormat::kGzip)->Arg(1)->Arg(6)->Arg(9)->UseRealTime();
BENCHMARK_CAPTURE(BM_Compress, lz4, CodecFormat::kLz4)->Arg(0)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decompress, zstd, CodecFormat::kZstd)->Arg(1)->Arg(19)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decompress, gzip, CodecFormat::kGzip)->Arg(1)->Arg(9)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decompress, lz4, CodecFormat::kLz4)->Arg(0)->UseRealTime();

}  // namespace
}  // namespace zsend

BENCHMARK_MAIN();
