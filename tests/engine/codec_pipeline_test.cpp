// Parallel compression and decompression through the real Pipeline (several workers, small
// blocks). The suite name starts with Pipeline so CI also runs it under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/codec/codec_stage.h"
#include "engine/ring/pipeline.h"
#include "tests/support/codec_data.h"

namespace zsend {
namespace {

using test::CompressibleData;
using test::MemorySource;
using test::RandomData;
using test::StringSink;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

struct CodecRun {
  PipelineResult result;
  std::string output;
  CodecStats stats;
};

PipelineOptions SmallRing(size_t block_size = 64 << 10, size_t blocks = 16) {
  PipelineOptions options;
  options.ring.block_size = block_size;
  options.ring.memory = block_size * blocks;
  return options;
}

CodecRun RunStage(CodecStageOptions codec, const std::string& input, ByteSink& sink,
                  PipelineOptions options = SmallRing()) {
  CodecRun run;
  Result<std::unique_ptr<CodecStage>> stage = CodecStage::Create(codec, options);
  EXPECT_TRUE(stage.ok()) << stage.status().message();
  if (!stage.ok()) return run;
  MemorySource source(input, 10000);
  run.result = Pipeline(options).Run(source, (*stage)->WrapSink(sink));
  run.stats = (*stage)->stats();
  return run;
}

CodecRun Compress(const std::string& spec, const std::string& input, int threads = 3,
                  PipelineOptions options = SmallRing()) {
  CodecStageOptions codec;
  codec.spec = *ParseCodecSpec(spec);
  codec.threads = threads;
  StringSink sink;
  CodecRun run = RunStage(codec, input, sink, options);
  run.output = sink.data();
  return run;
}

CodecRun Decompress(const std::string& input, int threads = 3,
                    PipelineOptions options = SmallRing()) {
  CodecStageOptions codec;
  codec.mode = CodecStageOptions::Mode::kDecompress;
  codec.threads = threads;
  StringSink sink;
  CodecRun run = RunStage(codec, input, sink, options);
  run.output = sink.data();
  return run;
}

class PipelineCodecRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(PipelineCodecRoundTrip, ManyBlocksComeBackInOrder) {
  const std::string input =
      CompressibleData(3 << 20) + RandomData(300000) + std::string(70000, 'z');
  for (size_t size : {size_t{0}, size_t{1}, size_t{64 << 10}, input.size()}) {
    SCOPED_TRACE(testing::Message() << "size " << size);
    const std::string in = input.substr(0, size);
    CodecRun packed = Compress(GetParam(), in);
    ASSERT_TRUE(packed.result.status.ok()) << packed.result.status.message();
    EXPECT_EQ(packed.stats.raw_bytes, in.size());
    EXPECT_EQ(packed.stats.coded_bytes, size == 0 ? 0 : packed.output.size());
    if (std::string(GetParam()) == "none") {
      EXPECT_TRUE(packed.output == in);
      continue;
    }
    ASSERT_FALSE(packed.output.empty());  // even an empty stream gets one frame
    CodecRun unpacked = Decompress(packed.output);
    ASSERT_TRUE(unpacked.result.status.ok()) << unpacked.result.status.message();
    EXPECT_TRUE(unpacked.output == in);
    EXPECT_TRUE(unpacked.stats.parallel);
    EXPECT_EQ(unpacked.stats.raw_bytes, in.size());
    if (size == input.size()) {
      EXPECT_LT(packed.output.size(), in.size());
      EXPECT_GT(unpacked.stats.blocks, 40u);  // one frame per 64 KiB block
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PipelineCodecSpecs, PipelineCodecRoundTrip,
                         ::testing::Values("zstd", "zstd:-5", "zstd:6", "gzip:1", "gzip:6", "lz4",
                                           "none", "auto"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (c == ':') c = '_';
                             if (c == '-') c = 'm';
                           }
                           return name;
                         });

TEST(PipelineCodec, RandomDataGrowsAtMostHalfAPercent) {
  const std::string in = RandomData(2 << 20, 11);
  for (const char* spec : {"zstd", "zstd:19", "gzip:9", "lz4", "auto"}) {
    SCOPED_TRACE(spec);
    CodecRun packed = Compress(spec, in);
    ASSERT_TRUE(packed.result.status.ok()) << packed.result.status.message();
    EXPECT_LE(static_cast<double>(packed.output.size()), 1.005 * static_cast<double>(in.size()));
    if (std::string(spec) != "lz4") {
      EXPECT_EQ(packed.stats.stored_blocks, packed.stats.blocks);
    }
    CodecRun unpacked = Decompress(packed.output);
    ASSERT_TRUE(unpacked.result.status.ok()) << unpacked.result.status.message();
    EXPECT_TRUE(unpacked.output == in);
  }
}

TEST(PipelineCodec, FramesLargerThanABlockDecodeOnOneThread) {
  const std::string in = CompressibleData(1 << 20, 5);
  // Compressed with 1 MiB blocks, decoded with 64 KiB blocks: frames do not fit a block.
  CodecRun packed = Compress("zstd", in, 2, SmallRing(1 << 20, 4));
  ASSERT_TRUE(packed.result.status.ok());
  CodecRun unpacked = Decompress(packed.output);
  ASSERT_TRUE(unpacked.result.status.ok()) << unpacked.result.status.message();
  EXPECT_FALSE(unpacked.stats.parallel);
  EXPECT_TRUE(unpacked.output == in);
}

// A damaged or cut stream fails with kDataLoss, and what was written is a prefix of the
// original: no garbage passes as good data.
void ExpectCleanFailure(const std::string& bad, const std::string& original) {
  CodecRun run = Decompress(bad);
  ASSERT_FALSE(run.result.status.ok());
  EXPECT_EQ(run.result.status.code(), StatusCode::kDataLoss) << run.result.status.message();
  EXPECT_LE(run.output.size(), original.size());
  EXPECT_TRUE(original.compare(0, run.output.size(), run.output) == 0)
      << "wrote bytes that are not the original's";
}

TEST(PipelineCodec, CorruptOrTruncatedStreamsFailCleanly) {
  const std::string in = CompressibleData(1 << 20, 9);
  for (const char* spec : {"zstd", "gzip:1", "lz4"}) {
    SCOPED_TRACE(spec);
    const std::string packed = Compress(spec, in).output;
    for (size_t cut : {packed.size() / 3, packed.size() - 1, size_t{3}}) {
      ExpectCleanFailure(packed.substr(0, cut), in);
    }
    for (size_t pos : {size_t{0}, size_t{20}, packed.size() / 2, packed.size() - 3}) {
      std::string bad = packed;
      bad[pos] = static_cast<char>(bad[pos] ^ 0x41);
      ExpectCleanFailure(bad, in);
    }
    ExpectCleanFailure(packed + "trailing junk", in);
  }
  ExpectCleanFailure("plain text is not compressed", "");
}

TEST(PipelineCodec, MixedFormatsDecodeFrameByFrame) {
  const std::string a = CompressibleData(200000, 1), b = CompressibleData(100000, 2);
  const std::string packed =
      Compress("zstd", a).output + Compress("gzip:1", b).output + Compress("lz4", a).output;
  CodecRun run = Decompress(packed);
  ASSERT_TRUE(run.result.status.ok()) << run.result.status.message();
  EXPECT_TRUE(run.output == a + b + a);
}

// An endless compressible source that stops once `stop` says so (or after `limit` bytes or
// 30 seconds, so a controller that never decides fails the test instead of hanging it).
class UntilSource : public ByteSource {
 public:
  UntilSource(std::function<bool()> stop, uint64_t limit)
      : data_(CompressibleData(1 << 20, 3)), stop_(std::move(stop)), limit_(limit) {}
  Result<size_t> Read(std::byte* buf, size_t len) override {
    if (sent_ >= limit_ || stop_() || std::chrono::steady_clock::now() > deadline_) {
      return size_t{0};
    }
    const size_t at = sent_ % data_.size();
    const size_t n = std::min(len, data_.size() - at);
    std::copy_n(data_.data() + at, n, reinterpret_cast<char*>(buf));
    sent_ += n;
    return n;
  }
  std::string Describe() const override { return "generated"; }

 private:
  std::string data_;
  std::function<bool()> stop_;
  uint64_t limit_;
  uint64_t sent_ = 0;
  std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
};

// Runs `auto` into `sink` until the level satisfies `done` (or a byte limit); returns stats.
CodecStats RunAuto(ByteSink& sink, int start_level,
                   const std::function<bool(const CodecStats&)>& done) {
  CodecStageOptions codec;
  codec.spec = *ParseCodecSpec("auto");
  codec.adaptive.start_level = start_level;
  codec.threads = 2;
  codec.adaptive.interval_seconds = 0.1;
  PipelineOptions options = SmallRing(128 << 10, 16);
  std::unique_ptr<CodecStage> stage = std::move(CodecStage::Create(codec, options).value());
  UntilSource source([&] { return done(stage->stats()); }, 4ull << 30);
  PipelineResult result = Pipeline(options).Run(source, stage->WrapSink(sink));
  EXPECT_TRUE(result.status.ok()) << result.status.message();
  return stage->stats();
}

TEST(PipelineCodecAdaptive, SlowOutputRaisesTheLevel) {
  test::ThrottledSink slow(4e6);  // 4 MB/s
  // Five rungs up from 1: 2, 3, 4, 5, 6.
  CodecStats stats = RunAuto(slow, 1, [](const CodecStats& s) { return s.decisions.size() >= 5; });
  ASSERT_GE(stats.decisions.size(), 5u);
  for (const AdaptiveDecision& d : stats.decisions) EXPECT_GT(d.to_level, d.from_level);
  EXPECT_EQ(stats.level, AdaptiveController::LevelName(stats.decisions.back().to_level));
  EXPECT_GE(stats.decisions.back().to_level, 6);
}

TEST(PipelineCodecAdaptive, FastOutputDropsToAFastLevel) {
  // A sink that takes everything at once: the workers are the bottleneck.
  class NullSink : public ByteSink {
   public:
    Status Write(const std::byte*, size_t) override { return Status::Ok(); }
    std::string Describe() const override { return "null"; }
  } null_sink;
  // Starting at zstd 6 the workers are surely the bottleneck; the controller must come down to a
  // fast level (1 or below). Under a sanitizer our own reader and writer code is several times
  // slower while the (uninstrumented) compressor is not, so below zstd 6 the bottleneck moves
  // to them and the controller rightly holds: there it must still step down at least once.
  const auto started = std::chrono::steady_clock::now();
  CodecStats stats = RunAuto(null_sink, 6, [&](const CodecStats& s) {
    return (!s.decisions.empty() && s.decisions.back().to_level <= 1) ||
           (kSanitized && std::chrono::steady_clock::now() - started > std::chrono::seconds(5));
  });
  ASSERT_FALSE(stats.decisions.empty());
  if (!kSanitized) {
    EXPECT_LE(stats.decisions.back().to_level, 1);
  }
  for (const AdaptiveDecision& d : stats.decisions) EXPECT_LT(d.to_level, d.from_level);
}

}  // namespace
}  // namespace zsend

namespace zsend {
namespace {

TEST(PipelineCodecProgress, ProgressTextShowsSizesRatioAndLevel) {
  CodecStageOptions codec;
  codec.spec = *ParseCodecSpec("zstd:3");
  PipelineOptions options = SmallRing();
  std::unique_ptr<CodecStage> stage = std::move(CodecStage::Create(codec, options).value());
  MemorySource source(CompressibleData(1 << 20));
  StringSink sink;
  ASSERT_TRUE(Pipeline(options).Run(source, stage->WrapSink(sink)).status.ok());
  const std::string text = stage->ProgressText();
  EXPECT_NE(text.find("1.00 MiB raw"), std::string::npos) << text;
  EXPECT_NE(text.find("ratio 0."), std::string::npos) << text;
  EXPECT_NE(text.find("zstd:3"), std::string::npos) << text;
}

}  // namespace
}  // namespace zsend
