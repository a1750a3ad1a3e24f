// FrameCompressor / FrameDecompressor: the codec slot of data frames.
#include "engine/wire/frame_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/codec/adaptive_codec.h"

namespace zsend {
namespace {

std::string Compressible(size_t n) {
  std::string s;
  while (s.size() < n) s += "zfs send stream block " + std::to_string(s.size() % 977) + "\n";
  s.resize(n);
  return s;
}

TEST(TransferFrameCodec, EveryCodecRoundTripsInPlace) {
  for (const char* spec_text : {"zstd:3", "lz4", "gzip:1"}) {
    Result<CodecSpec> spec = ParseCodecSpec(spec_text);
    ASSERT_TRUE(spec.ok());
    Result<std::unique_ptr<FrameCompressor>> c = FrameCompressor::Create(*spec, 65536, nullptr);
    ASSERT_TRUE(c.ok()) << c.status().message();
    const std::string original = Compressible(65536);
    std::string buf = original;
    bool compressed = false;
    uint8_t codec = 0;
    Result<size_t> n =
        (*c)->Apply(reinterpret_cast<std::byte*>(buf.data()), buf.size(), &compressed, &codec);
    ASSERT_TRUE(n.ok());
    EXPECT_TRUE(compressed) << spec_text;
    EXPECT_LT(*n, original.size() / 4) << spec_text;
    FrameDecompressor d(65536);
    Result<size_t> raw = d.Apply(reinterpret_cast<std::byte*>(buf.data()), *n, codec);
    ASSERT_TRUE(raw.ok()) << raw.status().message();
    EXPECT_EQ(buf.substr(0, *raw), original) << spec_text;
  }
}

TEST(TransferFrameCodec, IncompressibleBlocksTravelRaw) {
  Result<std::unique_ptr<FrameCompressor>> c =
      FrameCompressor::Create(*ParseCodecSpec("zstd:1"), 4096, nullptr);
  ASSERT_TRUE(c.ok());
  std::string buf(4096, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& ch : buf) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ch = static_cast<char>(x);
  }
  const std::string original = buf;
  bool compressed = true;
  uint8_t codec = 9;
  Result<size_t> n =
      (*c)->Apply(reinterpret_cast<std::byte*>(buf.data()), buf.size(), &compressed, &codec);
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(compressed);
  EXPECT_EQ(codec, 0);
  EXPECT_EQ(*n, original.size());
  EXPECT_EQ(buf, original);
}

TEST(TransferFrameCodec, AdaptiveStoredRungSendsRaw) {
  std::atomic<int> level{AdaptiveController::kStored};
  Result<std::unique_ptr<FrameCompressor>> c =
      FrameCompressor::Create(*ParseCodecSpec("auto"), 8192, &level);
  ASSERT_TRUE(c.ok());
  std::string buf = Compressible(8192);
  bool compressed = true;
  uint8_t codec = 0;
  Result<size_t> n =
      (*c)->Apply(reinterpret_cast<std::byte*>(buf.data()), buf.size(), &compressed, &codec);
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(compressed);
  level.store(3);
  n = (*c)->Apply(reinterpret_cast<std::byte*>(buf.data()), buf.size(), &compressed, &codec);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(compressed);
  EXPECT_EQ(codec, static_cast<uint8_t>(CodecFormat::kZstd));
}

TEST(TransferFrameCodec, CorruptOrOversizedOrUnknownFramesAreDataLoss) {
  Result<std::unique_ptr<FrameCompressor>> c =
      FrameCompressor::Create(*ParseCodecSpec("zstd:1"), 65536, nullptr);
  ASSERT_TRUE(c.ok());
  std::string buf = Compressible(65536);
  bool compressed = false;
  uint8_t codec = 0;
  Result<size_t> n =
      (*c)->Apply(reinterpret_cast<std::byte*>(buf.data()), buf.size(), &compressed, &codec);
  ASSERT_TRUE(n.ok() && compressed);
  // Decodes to more than the receiver's block size.
  FrameDecompressor small(4096);
  std::string copy = buf;
  EXPECT_EQ(small.Apply(reinterpret_cast<std::byte*>(copy.data()), *n, codec).status().code(),
            StatusCode::kDataLoss);
  FrameDecompressor d(65536);
  copy = buf;
  EXPECT_EQ(d.Apply(reinterpret_cast<std::byte*>(copy.data()), *n, 7).status().code(),
            StatusCode::kDataLoss);
  copy = buf;
  copy[*n / 2] ^= 0x55;
  copy[*n / 2 + 1] ^= 0x55;
  EXPECT_FALSE(d.Apply(reinterpret_cast<std::byte*>(copy.data()), *n, codec).ok());
}

}  // namespace
}  // namespace zsend
