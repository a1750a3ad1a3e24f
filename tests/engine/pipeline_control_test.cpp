// Pipeline control: the watchdog (including interrupting a thread blocked in read()/write()),
// stop requests, block transforms on worker threads, the stream digest and rate limits.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "engine/ring/fd_stream.h"
#include "engine/ring/pipeline.h"
#include "tests/support/test_streams.h"

namespace zsend {
namespace {

using test::CollectingSink;
using test::GeneratedBytes;
using test::GeneratedSource;
using Clock = std::chrono::steady_clock;

constexpr size_t kBlock = 64 << 10;

PipelineOptions SmallPipeline(size_t blocks = 8) {
  PipelineOptions options;
  options.ring.block_size = kBlock;
  options.ring.memory = blocks * kBlock;
  return options;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A pipe whose ends stay open for the test's lifetime; nobody reads or writes unless told.
struct IdlePipe {
  int fds[2] = {-1, -1};
  IdlePipe() { EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0); }
  ~IdlePipe() {
    for (int fd : fds) close(fd);
  }
};

TEST(PipelineWatchdog, FiresWhileTheSourceBlocksInRead) {
  for (IoBackend backend : {IoBackend::kUring, IoBackend::kSyscalls}) {
    SCOPED_TRACE(IoBackendName(backend));
    IdlePipe pipe;  // the write end stays open, so read() blocks forever
    FdSource source(pipe.fds[0], "input pipe", {.backend = backend}, UniqueFd());
    CollectingSink sink;
    PipelineOptions options = SmallPipeline();
    options.watchdog_seconds = 0.3;
    const auto start = Clock::now();
    PipelineResult r = Pipeline(options).Run(source, sink);
    const double seconds = SecondsSince(start);
    EXPECT_EQ(r.failed_stage, PipelineStage::kWatchdog) << PipelineStageName(r.failed_stage);
    EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
    EXPECT_NE(r.status.message().find("the input sent nothing"), std::string::npos)
        << r.status.message();
    EXPECT_FALSE(sink.finished());
    // Not a benchmark: only proves that Run() got the reader out of read() instead of hanging.
    EXPECT_LT(seconds, 10.0);
  }
}

TEST(PipelineWatchdog, FiresWhileTheSinkBlocksInWrite) {
  for (IoBackend backend : {IoBackend::kUring, IoBackend::kSyscalls}) {
    SCOPED_TRACE(IoBackendName(backend));
    IdlePipe pipe;  // the read end stays open and unread, so write() blocks once the pipe is full
    GeneratedSource source({.endless = true});
    FdSink sink(pipe.fds[1], "output pipe", {.backend = backend}, UniqueFd());
    PipelineOptions options = SmallPipeline();
    options.watchdog_seconds = 0.3;
    const auto start = Clock::now();
    PipelineResult r = Pipeline(options).Run(source, sink);
    EXPECT_EQ(r.failed_stage, PipelineStage::kWatchdog) << PipelineStageName(r.failed_stage);
    EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
    EXPECT_NE(r.status.message().find("the output accepted nothing"), std::string::npos)
        << r.status.message();
    EXPECT_LT(SecondsSince(start), 10.0);
  }
}

// The transfer sender's watchdog: only a stalled input counts (the link has its own idle
// timeout), so an output that takes nothing for longer than the watchdog does not trip it
// (the run is ended by a stop request instead), while a silent input still does.
TEST(PipelineWatchdog, InputOnlyIgnoresABlockedOutputButNotASilentInput) {
  {
    IdlePipe pipe;
    GeneratedSource source({.endless = true});
    FdSink sink(pipe.fds[1], "output pipe", {.backend = IoBackend::kSyscalls}, UniqueFd());
    PipelineOptions options = SmallPipeline();
    options.watchdog_seconds = 0.3;
    options.watchdog_scope = PipelineOptions::WatchdogScope::kInput;
    const auto start = Clock::now();
    options.stop_requested = [&] { return SecondsSince(start) > 1.5; };
    PipelineResult r = Pipeline(options).Run(source, sink);
    EXPECT_EQ(r.failed_stage, PipelineStage::kStopped) << PipelineStageName(r.failed_stage);
  }
  {
    IdlePipe pipe;
    FdSource source(pipe.fds[0], "input pipe", {.backend = IoBackend::kSyscalls}, UniqueFd());
    CollectingSink sink;
    PipelineOptions options = SmallPipeline();
    options.watchdog_seconds = 0.3;
    options.watchdog_scope = PipelineOptions::WatchdogScope::kInput;
    PipelineResult r = Pipeline(options).Run(source, sink);
    EXPECT_EQ(r.failed_stage, PipelineStage::kWatchdog) << PipelineStageName(r.failed_stage);
    EXPECT_NE(r.status.message().find("the input sent nothing"), std::string::npos)
        << r.status.message();
  }
}

// The transfer receiver's watchdog: only a stalled output counts, so a silent input (a slow
// link) does not trip it, while an output that takes nothing still does.
TEST(PipelineWatchdog, OutputOnlyIgnoresASilentInputButNotABlockedOutput) {
  {
    IdlePipe pipe;
    FdSource source(pipe.fds[0], "input pipe", {.backend = IoBackend::kSyscalls}, UniqueFd());
    CollectingSink sink;
    PipelineOptions options = SmallPipeline();
    options.watchdog_seconds = 0.3;
    options.watchdog_scope = PipelineOptions::WatchdogScope::kOutput;
    const auto start = Clock::now();
    options.stop_requested = [&] { return SecondsSince(start) > 1.5; };
    PipelineResult r = Pipeline(options).Run(source, sink);
    EXPECT_EQ(r.failed_stage, PipelineStage::kStopped) << PipelineStageName(r.failed_stage);
  }
  {
    IdlePipe pipe;
    GeneratedSource source({.endless = true});
    FdSink sink(pipe.fds[1], "output pipe", {.backend = IoBackend::kSyscalls}, UniqueFd());
    PipelineOptions options = SmallPipeline();
    options.watchdog_seconds = 0.3;
    options.watchdog_scope = PipelineOptions::WatchdogScope::kOutput;
    PipelineResult r = Pipeline(options).Run(source, sink);
    EXPECT_EQ(r.failed_stage, PipelineStage::kWatchdog) << PipelineStageName(r.failed_stage);
    EXPECT_NE(r.status.message().find("the output accepted nothing"), std::string::npos)
        << r.status.message();
  }
}

TEST(PipelineStop, StopRequestEndsAnEndlessStreamAsStopped) {
  GeneratedSource source({.endless = true});
  CollectingSink sink({.keep = false});
  PipelineOptions options = SmallPipeline();
  options.stop_requested = [&] { return sink.received() > (4u << 20); };
  PipelineResult r = Pipeline(options).Run(source, sink);
  EXPECT_EQ(r.failed_stage, PipelineStage::kStopped) << PipelineStageName(r.failed_stage);
  EXPECT_EQ(r.status.code(), StatusCode::kCancelled);
  EXPECT_GT(sink.received(), 4u << 20);
  EXPECT_FALSE(sink.finished());
}

// XORs every byte with a key that depends on the block's position in the stream, sleeping a
// random while first so that workers finish out of order.
class XorTransform : public BlockTransform {
 public:
  explicit XorTransform(int fail_at_sequence = -1) : fail_at_sequence_(fail_at_sequence) {}
  Status Apply(Block& block, int worker) override {
    if (worker < 0 || worker >= 4) bad_worker_index_ = true;
    if (static_cast<int64_t>(block.sequence) == fail_at_sequence_) {
      return Internal("transform failed on purpose");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(
        std::hash<uint64_t>{}(block.sequence * 7919 + static_cast<uint64_t>(worker)) % 1500));
    for (size_t i = 0; i < block.size; ++i) block.data[i] ^= Key(block.sequence);
    block.out = block.data;
    block.out_size = block.size;
    return Status::Ok();
  }
  static std::byte Key(uint64_t sequence) {
    return std::byte{static_cast<uint8_t>(sequence * 37 + 1)};
  }
  bool bad_worker_index() const { return bad_worker_index_; }

 private:
  int64_t fail_at_sequence_;
  std::atomic<bool> bad_worker_index_{false};
};

TEST(PipelineTransform, AppliedToEveryBlockInOrderWithSeveralWorkers) {
  constexpr uint64_t kSize = 60 * kBlock + 123;
  GeneratedSource source({.size = kSize, .seed = 9});
  CollectingSink sink;
  XorTransform transform;
  PipelineOptions options = SmallPipeline();
  options.transform = &transform;
  options.workers = 4;
  PipelineResult r = Pipeline(options).Run(source, sink);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(sink.data().size(), kSize);
  // Every block boundary is a multiple of kBlock here: the reader fills whole blocks.
  std::string expected = GeneratedBytes(9, kSize);
  for (uint64_t i = 0; i < kSize; ++i) {
    expected[i] =
        static_cast<char>(static_cast<std::byte>(expected[i]) ^ XorTransform::Key(i / kBlock));
  }
  EXPECT_TRUE(sink.data() == expected) << "transformed output differs";
  EXPECT_FALSE(transform.bad_worker_index());
}

TEST(PipelineTransform, TransformErrorIsTheTransformStage) {
  GeneratedSource source({.size = 60 * kBlock});
  CollectingSink sink;
  XorTransform transform(/*fail_at_sequence=*/5);
  PipelineOptions options = SmallPipeline();
  options.transform = &transform;
  options.workers = 3;
  PipelineResult r = Pipeline(options).Run(source, sink);
  EXPECT_EQ(r.failed_stage, PipelineStage::kTransform) << PipelineStageName(r.failed_stage);
  EXPECT_EQ(r.status.message(), "transform failed on purpose");
  EXPECT_LE(sink.received(), 5 * kBlock);
  EXPECT_FALSE(sink.finished());
}

std::string OpenSslSha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr), 1);
  std::string hex;
  char byte[3];
  for (unsigned i = 0; i < len; ++i) {
    snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

TEST(PipelineDigest, Sha256OfTheInputMatchesOpenSsl) {
  for (uint64_t size : {uint64_t{0}, uint64_t{3 * kBlock + 5}}) {
    GeneratedSource source({.size = size, .seed = 11, .max_read = 5000});
    CollectingSink sink({.keep = false});
    PipelineOptions options = SmallPipeline();
    options.digest = "sha256";
    PipelineResult r = Pipeline(options).Run(source, sink);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.digest_hex, OpenSslSha256Hex(GeneratedBytes(11, size))) << size << " bytes";
  }
}

TEST(PipelineDigest, UnknownDigestFailsBeforeAnyByteMoves) {
  GeneratedSource source({.size = 100});
  CollectingSink sink;
  PipelineOptions options = SmallPipeline();
  options.digest = "crc7";
  PipelineResult r = Pipeline(options).Run(source, sink);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(source.produced(), 0u);
}

// Rates are checked within 10% of the limit over about 1 s, as the issue asks.
constexpr uint64_t kRate = 8 << 20;
constexpr uint64_t kRatedSize = 8 << 20;

void ExpectWithinTenPercent(double seconds) {
  const double expected = static_cast<double>(kRatedSize) / static_cast<double>(kRate);
  EXPECT_GE(seconds, 0.9 * expected);
  EXPECT_LE(seconds, 1.1 * expected);
}

TEST(PipelineRate, ReadRateLimit) {
  GeneratedSource source({.size = kRatedSize, .seed = 2});
  CollectingSink sink({.keep = false, .verify_seed = 2});
  PipelineOptions options = SmallPipeline();
  options.read_rate = kRate;
  const auto start = Clock::now();
  PipelineResult r = Pipeline(options).Run(source, sink);
  const double seconds = SecondsSince(start);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(sink.received(), kRatedSize);
  EXPECT_EQ(sink.mismatches(), 0u);
  ExpectWithinTenPercent(seconds);
  EXPECT_GT(r.ring.consumer_wait_seconds, 0.0) << "the writer should wait for the slow reader";
}

TEST(PipelineRate, WriteRateLimit) {
  GeneratedSource source({.size = kRatedSize, .seed = 4});
  CollectingSink sink({.keep = false, .verify_seed = 4});
  PipelineOptions options = SmallPipeline();
  options.write_rate = kRate;
  const auto start = Clock::now();
  PipelineResult r = Pipeline(options).Run(source, sink);
  const double seconds = SecondsSince(start);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(sink.received(), kRatedSize);
  EXPECT_EQ(sink.mismatches(), 0u);
  ExpectWithinTenPercent(seconds);
  EXPECT_GT(r.ring.producer_wait_seconds, 0.0) << "the reader should wait for the slow writer";
}

}  // namespace
}  // namespace zsend
