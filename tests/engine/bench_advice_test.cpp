// Recommend() (engine/codec/bench_advice.h) on made-up CPU figures, and the CPU figures' text form.
#include "engine/codec/bench_advice.h"

#include <gtest/gtest.h>

#include "tools/engine/bench/link_bench.h"

namespace zsend {
namespace {

CpuFigures Figures() {
  CpuFigures cpu;
  cpu.cores = 4;
  cpu.pipe_read_rate = 3e9;
  cpu.seal_aes_rate = cpu.seal_chacha_rate = 1e9;
  cpu.codecs = {{"none", 1.0, 20e9, 20e9},
                {"lz4", 2.0, 500e6, 1e9},
                {"zstd:3", 3.0, 300e6, 1e9},
                {"zstd:9", 3.5, 40e6, 1e9}};
  return cpu;
}

double RatioOf(const Advice& a) {
  for (const CodecExpectation& e : a.choices) {
    if (e.spec == a.codec) return e.ratio;
  }
  return 0;
}

TEST(BenchAdvice, SlowLinkGetsAStrongerCodecThanAFastOne) {
  const CpuFigures cpu = Figures();
  const Advice slow = Recommend(cpu, cpu, 1e6, 0.05);
  const Advice fast = Recommend(cpu, cpu, 5e9, 0.0001);
  EXPECT_EQ(slow.codec, "zstd:9");  // 4 threads x 40 MB/s beats 1 MB/s x 3.5
  EXPECT_EQ(slow.limit, "link");
  EXPECT_DOUBLE_EQ(slow.expected_rate, 3.5e6);
  EXPECT_EQ(fast.codec, "none");
  EXPECT_GT(RatioOf(slow), RatioOf(fast));
  ASSERT_EQ(slow.choices.size(), 4u);
}

TEST(BenchAdvice, ExpectedRateIsTheLeastOfCpuAndLink) {
  CpuFigures cpu = Figures();
  cpu.cores = 1;
  const Advice a = Recommend(cpu, cpu, 100e6, 0.001);
  for (const CodecExpectation& e : a.choices) {
    EXPECT_LE(e.stream_rate, 100e6 * e.ratio * (1 + 1e-9)) << e.spec;
    if (e.spec == "zstd:9") {
      // one thread: 1 / (1/40M + 1/(3.5 * 1G)) stream bytes/s, below the link's 350 MB/s
      EXPECT_NEAR(e.stream_rate, 1.0 / (1.0 / 40e6 + 1.0 / 3.5e9), 1.0);
      EXPECT_EQ(e.limit, "sender cpu");
    }
  }
}

TEST(BenchAdvice, MemoryCoversTheBandwidthDelayProduct) {
  const CpuFigures cpu = Figures();
  const double link = 100e6, rtt = 0.2;  // 20 MB in flight
  const Advice a = Recommend(cpu, cpu, link, rtt);
  EXPECT_GE(static_cast<double>(a.memory), 4 * link * rtt);
  EXPECT_GE(a.memory, 8 * a.block_size);
  EXPECT_LE(a.memory, 1ull << 30);
  EXPECT_GE(a.threads, 1);
  EXPECT_LE(a.threads, cpu.cores);
}

TEST(BenchAdvice, CpuFiguresSurviveTheirTextForm) {
  const CpuFigures cpu = Figures();
  Result<CpuFigures> back = DecodeCpuFigures(EncodeCpuFigures(cpu));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->cores, 4);
  ASSERT_EQ(back->codecs.size(), 4u);
  EXPECT_EQ(back->codecs[3].spec, "zstd:9");
  EXPECT_DOUBLE_EQ(back->codecs[3].ratio, 3.5);
  EXPECT_FALSE(DecodeCpuFigures("cores 2\n").ok());  // no codecs
  EXPECT_FALSE(DecodeCpuFigures("cores x\ncodec none 1 1 1\n").ok());
}

}  // namespace
}  // namespace zsend
