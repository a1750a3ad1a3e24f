// Codec unit tests: spec parsing, format detection, and per codec round trips (whole frames,
// stored frames, streaming decode) and corruption handling.
#include "engine/codec/codec.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/codec_data.h"

namespace zsend {
namespace {

using test::Bytes;
using test::CompressibleData;
using test::RandomData;

TEST(CodecSpec, ParsesNamesAndLevels) {
  EXPECT_EQ(ParseCodecSpec("zstd")->level, 1);
  EXPECT_EQ(ParseCodecSpec("zstd:3")->level, 3);
  EXPECT_EQ(ParseCodecSpec("zstd:-5")->level, -5);
  EXPECT_EQ(ParseCodecSpec("zstd:19")->level, 19);
  EXPECT_EQ(ParseCodecSpec("gzip:6")->format, CodecFormat::kGzip);
  EXPECT_EQ(ParseCodecSpec("zlib:6")->format, CodecFormat::kGzip);
  EXPECT_EQ(ParseCodecSpec("gzip")->level, 6);
  EXPECT_EQ(ParseCodecSpec("lz4")->format, CodecFormat::kLz4);
  EXPECT_EQ(ParseCodecSpec("none")->format, CodecFormat::kNone);
  EXPECT_TRUE(ParseCodecSpec("auto")->adaptive);
  EXPECT_EQ(CodecSpecName(*ParseCodecSpec("zstd:-3")), "zstd:-3");
  EXPECT_EQ(CodecSpecName(*ParseCodecSpec("zlib:2")), "gzip:2");
}

TEST(CodecSpec, RejectsBadSpecsListingTheValidOnes) {
  for (const char* bad : {"zstd:20", "zstd:-6", "gzip:0", "gzip:10", "lz4:3", "auto:1", "brotli",
                          "zstd:", "zstd:x", "zstd:3x", ""}) {
    Result<CodecSpec> spec = ParseCodecSpec(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find("valid: none, auto, zstd"), std::string::npos);
    EXPECT_EQ(spec.status().message().find('\n'), std::string::npos);
  }
}

TEST(CodecDetect, RecognisesMagicBytes) {
  const unsigned char zstd[] = {0x28, 0xb5, 0x2f, 0xfd}, gzip[] = {0x1f, 0x8b, 8, 0},
                      lz4[] = {0x04, 0x22, 0x4d, 0x18}, text[] = {'a', 'b', 'c', 'd'};
  EXPECT_EQ(DetectFormat(reinterpret_cast<const std::byte*>(zstd), 4), CodecFormat::kZstd);
  EXPECT_EQ(DetectFormat(reinterpret_cast<const std::byte*>(gzip), 4), CodecFormat::kGzip);
  EXPECT_EQ(DetectFormat(reinterpret_cast<const std::byte*>(lz4), 4), CodecFormat::kLz4);
  EXPECT_EQ(DetectFormat(reinterpret_cast<const std::byte*>(text), 4), CodecFormat::kNone);
  EXPECT_EQ(DetectFormat(reinterpret_cast<const std::byte*>(zstd), 3), CodecFormat::kNone);
}

struct CodecCase {
  CodecFormat format;
  int level;
};

class CodecRoundTrip : public ::testing::TestWithParam<CodecCase> {
 protected:
  std::unique_ptr<Codec> codec_ = std::move(MakeCodec(GetParam().format, GetParam().level).value());

  std::string Encode(const std::string& in, bool store) {
    std::string out(codec_->MaxCompressedSize(in.size()), '\0');
    auto* dst = reinterpret_cast<std::byte*>(out.data());
    Result<size_t> n = store ? codec_->Store(Bytes(in), in.size(), dst, out.size())
                             : codec_->Compress(Bytes(in), in.size(), dst, out.size());
    EXPECT_TRUE(n.ok()) << n.status().message();
    out.resize(n.ok() ? *n : 0);
    return out;
  }
  Result<std::string> DecodeFrame(const std::string& frame, size_t capacity) {
    std::string out(capacity, '\0');
    Result<size_t> n = codec_->DecompressFrame(Bytes(frame), frame.size(),
                                               reinterpret_cast<std::byte*>(out.data()), capacity);
    if (!n.ok()) return n.status();
    out.resize(*n);
    return out;
  }
  // Decodes a concatenation with the stream decoder, feeding `chunk` bytes at a time.
  Result<std::string> DecodeStream(const std::string& stream, size_t chunk) {
    std::unique_ptr<StreamDecoder> decoder = codec_->NewStreamDecoder();
    std::string out;
    std::vector<std::byte> buf(50000);
    for (size_t fed = 0; fed < stream.size() || !decoder->AtFrameEnd();) {
      StreamBuffers b;
      b.in = Bytes(stream) + fed;
      b.in_size = std::min(chunk, stream.size() - fed);
      b.out = buf.data();
      b.out_size = buf.size();
      ZSEND_RETURN_IF_ERROR(decoder->Decode(b));
      out.append(reinterpret_cast<const char*>(buf.data()), b.out_pos);
      fed += b.in_pos;
      if (b.in_pos == 0 && b.out_pos == 0) {
        if (fed == stream.size()) return DataLoss("stream ends inside a frame");
        return DataLoss("no progress");
      }
    }
    return out;
  }
};

TEST_P(CodecRoundTrip, FramesDecodeToTheInput) {
  const std::vector<std::string> inputs = {
      "",
      "x",
      CompressibleData(100),
      CompressibleData(131071),
      CompressibleData(131072),
      CompressibleData(131073),
      std::string(1 << 20, '\0'),
      CompressibleData(1 << 20),
      RandomData(65536),
      RandomData((1 << 20) + 1),
  };
  for (bool store : {false, true}) {
    std::string concatenation, expected;
    for (const std::string& in : inputs) {
      SCOPED_TRACE(testing::Message() << "size " << in.size() << " store " << store);
      const std::string frame = Encode(in, store);
      ASSERT_LE(frame.size(), codec_->MaxCompressedSize(in.size()));
      ASSERT_EQ(DetectFormat(Bytes(frame), frame.size()), GetParam().format);
      FrameProbe probe = codec_->Probe(Bytes(frame), frame.size());
      ASSERT_EQ(probe.kind, FrameProbe::Kind::kComplete) << probe.error;
      EXPECT_EQ(probe.compressed_size, frame.size());
      EXPECT_EQ(probe.max_content_size, in.size());  // our frames record the exact size
      Result<std::string> back = DecodeFrame(frame, in.size());
      ASSERT_TRUE(back.ok()) << back.status().message();
      EXPECT_TRUE(*back == in);
      concatenation += frame;
      expected += in;
    }
    Result<std::string> streamed = DecodeStream(concatenation, 7777);
    ASSERT_TRUE(streamed.ok()) << streamed.status().message();
    EXPECT_TRUE(*streamed == expected);
  }
}

TEST_P(CodecRoundTrip, StoredRandomDataGrowsAtMostHalfAPercent) {
  const std::string in = RandomData(1 << 20, 7);
  EXPECT_LE(static_cast<double>(Encode(in, true).size()), 1.005 * static_cast<double>(in.size()));
  EXPECT_LE(static_cast<double>(Encode(in, false).size()), 1.005 * static_cast<double>(in.size()));
}

TEST_P(CodecRoundTrip, ProbeOfAPrefixNeverClaimsAWholeFrame) {
  for (bool store : {false, true}) {
    const std::string frame = Encode(CompressibleData(300000, 3), store);
    for (size_t cut = 0; cut < frame.size(); cut += 1 + cut / 3) {
      FrameProbe probe = codec_->Probe(Bytes(frame), cut);
      EXPECT_NE(probe.kind, FrameProbe::Kind::kComplete) << "cut at " << cut;
      Result<std::string> partial = DecodeFrame(frame.substr(0, cut), 400000);
      EXPECT_FALSE(partial.ok()) << "a frame cut at " << cut << " decoded";
    }
  }
}

TEST_P(CodecRoundTrip, DamagedFramesFailOrDecodeExactly) {
  for (bool store : {false, true}) {
    const std::string in = CompressibleData(200000, 4);
    const std::string frame = Encode(in, store);
    int failures = 0;
    for (size_t pos = 0; pos < frame.size(); pos += 1 + frame.size() / 97) {
      std::string bad = frame;
      bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
      FrameProbe probe = codec_->Probe(Bytes(bad), bad.size());
      if (probe.kind != FrameProbe::Kind::kComplete) {
        ++failures;
        continue;
      }
      Result<std::string> back = DecodeFrame(bad.substr(0, probe.compressed_size),
                                             std::max<size_t>(probe.max_content_size, 1));
      if (!back.ok()) {
        EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
        ++failures;
      } else {
        // Only bytes that do not matter (a gzip timestamp, say) may change unnoticed.
        EXPECT_TRUE(*back == in) << "flipped byte " << pos << " decoded to different data";
      }
      Result<std::string> streamed = DecodeStream(bad, 4096);
      EXPECT_TRUE(!streamed.ok() || *streamed == in) << "stream with byte " << pos << " flipped";
    }
    EXPECT_GT(failures, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    CodecFormats, CodecRoundTrip,
    ::testing::Values(CodecCase{CodecFormat::kZstd, 1}, CodecCase{CodecFormat::kZstd, -5},
                      CodecCase{CodecFormat::kZstd, 9}, CodecCase{CodecFormat::kGzip, 1},
                      CodecCase{CodecFormat::kGzip, 9}, CodecCase{CodecFormat::kLz4, 0}),
    [](const auto& param_info) {
      std::string name = CodecFormatName(param_info.param.format);
      return name + "_" + (param_info.param.level < 0 ? "m" : "") +
             std::to_string(std::abs(param_info.param.level));
    });

TEST(CodecNone, PassesBytesThrough) {
  auto codec = std::move(MakeCodec(CodecFormat::kNone, 0).value());
  const std::string in = CompressibleData(1000);
  std::string out(codec->MaxCompressedSize(in.size()), '\0');
  Result<size_t> n =
      codec->Compress(Bytes(in), in.size(), reinterpret_cast<std::byte*>(out.data()), out.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(out.substr(0, *n), in);
}

}  // namespace
}  // namespace zsend
