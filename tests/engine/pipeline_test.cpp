// Pipeline: byte-exact copies (in memory and over real pipes), stalls, failure attribution,
// watchdog and stop, block transforms, the digest and rate limits.
#include "engine/ring/pipeline.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "engine/ring/fd_stream.h"
#include "tests/support/test_streams.h"

namespace zsend {
namespace {

using test::CollectingSink;
using test::GeneratedBytes;
using test::GeneratedSource;

constexpr size_t kBlock = 64 << 10;

PipelineOptions SmallPipeline(size_t blocks = 8) {
  PipelineOptions options;
  options.ring.block_size = kBlock;
  options.ring.memory = blocks * kBlock;
  return options;
}

std::string StageName(const PipelineResult& r) {
  return PipelineStageName(r.failed_stage);
}

TEST(PipelineCopy, ByteExactForEmptyTinyAndUnalignedSizes) {
  const uint64_t sizes[] = {0, 1, kBlock - 1, kBlock, kBlock + 1, 3 * kBlock + 17, 40 * kBlock + 5};
  for (uint64_t size : sizes) {
    for (size_t max_read : {size_t{1000}, size_t{1} << 30}) {
      SCOPED_TRACE("size " + std::to_string(size) + ", reads of " + std::to_string(max_read));
      GeneratedSource source({.size = size, .seed = size + 1, .max_read = max_read});
      CollectingSink sink;
      PipelineResult r = Pipeline(SmallPipeline()).Run(source, sink);
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
      EXPECT_EQ(StageName(r), "none");
      EXPECT_TRUE(sink.data() == GeneratedBytes(size + 1, size)) << "output differs";
      EXPECT_EQ(r.bytes_in, size);
      EXPECT_EQ(r.bytes_out, size);
      EXPECT_TRUE(sink.finished());
    }
  }
}

TEST(PipelineCopy, ManyBlocksThroughASmallRing) {
  constexpr uint64_t kSize = 64ull << 20;  // 1024 blocks through a ring of 4
  GeneratedSource source({.size = kSize, .seed = 7});
  CollectingSink sink({.keep = false, .verify_seed = 7});
  PipelineResult r = Pipeline(SmallPipeline(4)).Run(source, sink);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(sink.received(), kSize);
  EXPECT_EQ(sink.mismatches(), 0u);
  EXPECT_LE(r.ring.peak_blocks_used, 4u);
  EXPECT_EQ(r.ring.blocks_total, 4u);
}

// Feeds `data` into a pipe's write end and collects everything from another pipe's read end.
struct PipeHarness {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  std::string collected;
  std::thread feeder, drainer;

  explicit PipeHarness(const std::string& data) {
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    feeder = std::thread([this, data] {
      size_t done = 0;
      while (done < data.size()) {
        ssize_t n = write(in[1], data.data() + done, data.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      close(in[1]);
    });
    drainer = std::thread([this] {
      char buf[65536];
      ssize_t n;
      while ((n = read(out[0], buf, sizeof buf)) > 0) collected.append(buf, static_cast<size_t>(n));
      close(out[0]);
    });
  }
  void Join() {
    feeder.join();
    drainer.join();
  }
};

TEST(PipelineCopy, RealPipesWithBothIoBackends) {
  // If the pipeline fails early, the feeder must get EPIPE rather than kill the test binary.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &previous), 0);
  for (IoBackend backend : {IoBackend::kUring, IoBackend::kSyscalls}) {
    for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{5 * kBlock + 3}, uint64_t{9} << 20}) {
      SCOPED_TRACE(std::string(IoBackendName(backend)) + ", " + std::to_string(size) + " bytes");
      const std::string data = GeneratedBytes(3, size);
      PipeHarness pipes(data);
      {
        FdStreamOptions fd_options{.backend = backend};
        FdSource source(pipes.in[0], "input pipe", fd_options, UniqueFd(pipes.in[0]));
        FdSink sink(pipes.out[1], "output pipe", fd_options, UniqueFd(pipes.out[1]));
        PipelineResult r = Pipeline(SmallPipeline()).Run(source, sink);
        EXPECT_TRUE(r.status.ok()) << r.status.ToString();
        EXPECT_EQ(r.bytes_out, size);
      }  // closes the output pipe: the drainer sees the end
      pipes.Join();
      EXPECT_TRUE(pipes.collected == data) << "output differs";
    }
  }
  sigaction(SIGPIPE, &previous, nullptr);
}

TEST(PipelineStalls, SlowConsumerMakesTheProducerWait) {
  constexpr uint64_t kSize = 32 * kBlock + 11;
  GeneratedSource source({.size = kSize, .seed = 5});
  CollectingSink sink(
      {.keep = false, .sleep_per_write = std::chrono::milliseconds(4), .verify_seed = 5});
  PipelineResult r = Pipeline(SmallPipeline(4)).Run(source, sink);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(sink.received(), kSize);
  EXPECT_EQ(sink.mismatches(), 0u);
  EXPECT_GT(r.ring.producer_wait_seconds, 0.0);
  EXPECT_EQ(r.ring.peak_blocks_used, 4u) << "a slow consumer should fill the ring";
}

TEST(PipelineStalls, SlowProducerMakesTheConsumerWait) {
  constexpr uint64_t kSize = 32 * kBlock + 11;
  GeneratedSource source({.size = kSize,
                          .seed = 6,
                          .max_read = kBlock / 2,
                          .sleep_per_read = std::chrono::milliseconds(2)});
  CollectingSink sink({.keep = false, .verify_seed = 6});
  PipelineResult r = Pipeline(SmallPipeline(4)).Run(source, sink);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(sink.received(), kSize);
  EXPECT_EQ(sink.mismatches(), 0u);
  EXPECT_GT(r.ring.consumer_wait_seconds, 0.0);
}

TEST(PipelineFailure, SourceErrorIsTheInputStageAndTheSinkIsNotFinished) {
  GeneratedSource source({.size = 10 * kBlock, .max_read = 4096, .fail_after = 3 * kBlock + 5});
  CollectingSink sink;
  PipelineResult r = Pipeline(SmallPipeline()).Run(source, sink);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.failed_stage, PipelineStage::kInput) << StageName(r);
  EXPECT_EQ(r.status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.status.message(), "test source failed on purpose");
  EXPECT_FALSE(sink.finished()) << "a cut stream must not be finished as if complete";
  EXPECT_LE(sink.received(), 3 * kBlock + 5);
  EXPECT_TRUE(r.digest_hex.empty());
}

TEST(PipelineFailure, SinkErrorIsTheOutputStage) {
  GeneratedSource source({.size = 10 * kBlock});
  CollectingSink sink({.fail_after = 2 * kBlock});
  PipelineResult r = Pipeline(SmallPipeline()).Run(source, sink);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.failed_stage, PipelineStage::kOutput) << StageName(r);
  EXPECT_EQ(r.status.message(), "test sink failed on purpose");
  EXPECT_FALSE(sink.finished());
}

// Workers scramble each block (XOR) and finish out of order; the writer's ordered transform must
// see every block in sequence, after its worker, and its unscrambled copy is what gets written.
class Scramble : public BlockTransform {
 public:
  Status Apply(Block& block, int worker) override {
    if (block.sequence % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
    for (size_t i = 0; i < block.size; ++i) block.data[i] ^= std::byte{0x5a};
    block.out_flags = static_cast<uint32_t>(worker) + 1;  // marks "a worker ran"
    return Status::Ok();
  }
};
class Unscramble : public OrderedTransform {
 public:
  explicit Unscramble(uint64_t fail_at = UINT64_MAX) : fail_at_(fail_at) {}
  Status Apply(Block& block) override {
    if (block.sequence != next_)
      return Internal("block " + std::to_string(block.sequence) + " where " +
                      std::to_string(next_) + " was due");
    if (block.out_flags == 0) return Internal("the ordered transform ran before the worker");
    if (block.sequence == fail_at_) return DataLoss("ordered transform failed on purpose");
    ++next_;
    copy_.assign(block.out, block.out + block.out_size);
    for (std::byte& b : copy_) b ^= std::byte{0x5a};
    block.out = copy_.data();
    return Status::Ok();
  }

 private:
  uint64_t fail_at_;
  uint64_t next_ = 0;
  std::vector<std::byte> copy_;
};

TEST(PipelineOrderedTransform, RunsInSequenceAfterTheWorkersAndMayReplaceTheOutput) {
  constexpr uint64_t kSize = 50 * kBlock + 123;
  GeneratedSource source({.size = kSize, .seed = 9});
  CollectingSink sink;
  Scramble scramble;
  Unscramble unscramble;
  PipelineOptions options = SmallPipeline();
  options.transform = &scramble;
  options.workers = 3;
  options.ordered_transform = &unscramble;
  PipelineResult r = Pipeline(options).Run(source, sink);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(sink.data() == GeneratedBytes(9, kSize)) << "output differs";
  EXPECT_TRUE(sink.finished());
}

TEST(PipelineOrderedTransform, ItsFailureIsTheTransformStageAndTheSinkIsNotFinished) {
  GeneratedSource source({.size = 20 * kBlock, .seed = 10});
  CollectingSink sink;
  Scramble scramble;
  Unscramble unscramble(/*fail_at=*/4);
  PipelineOptions options = SmallPipeline();
  options.transform = &scramble;
  options.workers = 2;
  options.ordered_transform = &unscramble;
  PipelineResult r = Pipeline(options).Run(source, sink);
  EXPECT_EQ(r.failed_stage, PipelineStage::kTransform) << StageName(r);
  EXPECT_EQ(r.status.message(), "ordered transform failed on purpose");
  EXPECT_EQ(sink.received(), 4 * kBlock);
  EXPECT_FALSE(sink.finished());
}

TEST(PipelineFailure, RingThatCannotBeMadeFailsBeforeAnyByteMoves) {
  PipelineOptions options = SmallPipeline();
  options.ring.memory = kBlock;  // one block
  GeneratedSource source({.size = 100});
  CollectingSink sink;
  PipelineResult r = Pipeline(options).Run(source, sink);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(source.produced(), 0u);
  EXPECT_FALSE(sink.finished());
}

}  // namespace
}  // namespace zsend
