// Ring: reservation layout, LIFO reuse, ordering with workers, abort, end of input, the -P/-p
// gates, a concurrency stress test (run under TSan in CI) and the --lock error.
#include "engine/ring/ring.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace zsend {
namespace {

using std::chrono::milliseconds;

size_t PageSize() {
  return static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::unique_ptr<Ring> MakeRing(RingOptions options) {
  Result<std::unique_ptr<Ring>> ring = Ring::Create(options);
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return ring.ok() ? std::move(*ring) : nullptr;
}

RingOptions SmallRing(size_t blocks) {
  RingOptions options;
  options.block_size = PageSize();
  options.memory = blocks * PageSize();
  return options;
}

// Producer side in one call: fills `size` bytes of `value` and commits.
void CommitBlock(Ring& ring, uint8_t value, size_t size) {
  Block* block = ring.AcquireFree();
  ASSERT_NE(block, nullptr);
  std::memset(block->data, value, size);
  block->size = size;
  ring.Commit(block);
}

// Polls `condition` for up to 10 s.
template <typename F>
bool WaitFor(F condition) {
  for (int i = 0; i < 10000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return false;
}

// Gives a thread that is about to block time to get there. Correctness never depends on it.
void LetThreadsBlock() {
  std::this_thread::sleep_for(milliseconds(100));
}

TEST(RingLayout, BlocksArePageAlignedAndBlockSizeRoundsUpToPages) {
  const size_t page = PageSize();
  RingOptions options;
  options.block_size = page + 1;
  options.memory = 10 * page + page / 2;
  std::unique_ptr<Ring> ring = MakeRing(options);
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->block_size(), 2 * page);
  EXPECT_EQ(ring->block_count(), 5u);  // memory rounds down to whole blocks
  std::byte* first = nullptr;
  for (size_t i = 0; i < ring->block_count(); ++i) {
    Block* block = ring->AcquireFree();
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block->data) % page, 0u);
    // A fresh ring hands out its blocks from the start of the reservation upwards.
    if (i == 0) first = block->data;
    EXPECT_EQ(block->data, first + i * ring->block_size());
    EXPECT_EQ(block->capacity, 2 * page);
    block->size = 1;
    ring->Commit(block);
  }
  EXPECT_EQ(ring->blocks_used(), 5u);
}

TEST(RingLayout, FewerThanTwoBlocksIsAClearError) {
  RingOptions options;
  options.block_size = 1 << 20;
  options.memory = (1 << 20) + 4096;
  Result<std::unique_ptr<Ring>> ring = Ring::Create(options);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ring.status().message().find("fewer than 2 blocks"), std::string::npos)
      << ring.status().message();
  EXPECT_NE(ring.status().message().find("--memory"), std::string::npos);

  options.block_size = 0;
  EXPECT_EQ(Ring::Create(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(RingReuse, SmallStreamKeepsReusingTheFirstBlocks) {
  std::unique_ptr<Ring> ring = MakeRing(SmallRing(16));
  ASSERT_NE(ring, nullptr);
  // At most two blocks in flight: only the two lowest blocks of the reservation are ever used.
  Block* first = ring->AcquireFree();
  Block* second = ring->AcquireFree();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->data, first->data + ring->block_size());
  std::set<std::byte*> handed_out{first->data, second->data};
  first->size = second->size = 1;
  ring->Commit(first);
  ring->Commit(second);
  for (int i = 0; i < 200; ++i) {
    Block* drained = ring->AcquireNext();
    ASSERT_NE(drained, nullptr);
    ring->Release(drained);
    Block* filled = ring->AcquireFree();
    ASSERT_NE(filled, nullptr);
    handed_out.insert(filled->data);
    filled->size = 1;
    ring->Commit(filled);
  }
  EXPECT_EQ(handed_out.size(), 2u);
  EXPECT_EQ(ring->stats().peak_blocks_used, 2u);
}

TEST(RingOrder, WorkersFinishingOutOfOrderKeepSequenceOrder) {
  RingOptions options = SmallRing(8);
  options.workers = true;
  std::unique_ptr<Ring> ring = MakeRing(options);
  ASSERT_NE(ring, nullptr);
  constexpr uint32_t kBlocks = 300;
  std::thread producer([&] {
    for (uint32_t i = 0; i < kBlocks; ++i) {
      Block* block = ring->AcquireFree();
      if (block == nullptr) return;
      std::memcpy(block->data, &i, sizeof i);
      block->size = sizeof i;
      ring->Commit(block);
    }
    ring->CloseInput();
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(w);
      while (Block* block = ring->AcquireWork()) {
        // Uneven work so later blocks often finish first.
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
        ring->FinishWork(block);
      }
    });
  }
  std::vector<uint32_t> seen;
  std::vector<uint64_t> sequences;
  while (Block* block = ring->AcquireNext()) {
    uint32_t value = 0;
    std::memcpy(&value, block->out, sizeof value);
    seen.push_back(value);
    sequences.push_back(block->sequence);
    ring->Release(block);
  }
  producer.join();
  for (auto& t : workers) t.join();
  ASSERT_EQ(seen.size(), kBlocks);
  for (uint32_t i = 0; i < kBlocks; ++i) {
    EXPECT_EQ(seen[i], i);
    EXPECT_EQ(sequences[i], i);
  }
  EXPECT_TRUE(ring->status().ok());
}

TEST(RingAbort, WakesEveryWaitingRoleAndTheFirstStatusWins) {
  RingOptions options = SmallRing(2);
  options.workers = true;
  std::unique_ptr<Ring> ring = MakeRing(options);
  ASSERT_NE(ring, nullptr);
  CommitBlock(*ring, 1, 10);
  CommitBlock(*ring, 2, 10);
  // This thread holds both blocks in the worker stage: the ring is full, there is no work
  // left and the consumer's next block is not ready, so every other role must wait.
  Block* held1 = ring->AcquireWork();
  Block* held2 = ring->AcquireWork();
  ASSERT_NE(held1, nullptr);
  ASSERT_NE(held2, nullptr);
  auto producer = std::async(std::launch::async, [&] { return ring->AcquireFree(); });
  auto worker = std::async(std::launch::async, [&] { return ring->AcquireWork(); });
  auto consumer = std::async(std::launch::async, [&] { return ring->AcquireNext(); });
  LetThreadsBlock();
  EXPECT_EQ(producer.wait_for(milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(worker.wait_for(milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(consumer.wait_for(milliseconds(0)), std::future_status::timeout);

  ring->Abort(DataLoss("first failure"));
  ring->Abort(Internal("second failure"));
  ASSERT_EQ(producer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_EQ(worker.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_EQ(consumer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(producer.get(), nullptr);
  EXPECT_EQ(worker.get(), nullptr);
  EXPECT_EQ(consumer.get(), nullptr);
  EXPECT_TRUE(ring->aborted());
  EXPECT_EQ(ring->status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ring->status().message(), "first failure");
  // Later calls return at once.
  EXPECT_EQ(ring->AcquireFree(), nullptr);
  EXPECT_EQ(ring->AcquireNext(), nullptr);
}

TEST(RingCloseInput, ConsumerDrainsEverythingThenEnds) {
  std::unique_ptr<Ring> ring = MakeRing(SmallRing(4));
  ASSERT_NE(ring, nullptr);
  CommitBlock(*ring, 'a', 1);
  CommitBlock(*ring, 'b', 2);
  CommitBlock(*ring, 'c', 3);
  ring->CloseInput();
  EXPECT_EQ(ring->AcquireFree(), nullptr);  // no more input after the end
  std::string drained;
  while (Block* block = ring->AcquireNext()) {
    drained.append(reinterpret_cast<const char*>(block->out), block->out_size);
    ring->Release(block);
  }
  EXPECT_EQ(drained, "abbccc");
  EXPECT_TRUE(ring->status().ok());
  EXPECT_FALSE(ring->aborted());
}

TEST(RingCloseInput, WakesAConsumerWaitingOnAnEmptyRing) {
  std::unique_ptr<Ring> ring = MakeRing(SmallRing(4));
  ASSERT_NE(ring, nullptr);
  auto consumer = std::async(std::launch::async, [&] { return ring->AcquireNext(); });
  ASSERT_TRUE(WaitFor([&] { return ring->consumer_starving(); }));
  ring->CloseInput();
  ASSERT_EQ(consumer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(consumer.get(), nullptr);
  EXPECT_GT(ring->stats().consumer_wait_seconds, 0);
}

// Counts blocks a consumer thread drains until the end of the stream (closed on destruction, so
// a failed assertion cannot leave the thread waiting forever).
class CountingConsumer {
 public:
  explicit CountingConsumer(Ring& ring)
      : ring_(ring), thread_([this] {
          while (Block* block = ring_.AcquireNext()) {
            ring_.Release(block);
            drained_.fetch_add(1);
          }
        }) {}
  ~CountingConsumer() {
    ring_.CloseInput();
    thread_.join();
  }
  int drained() const { return drained_.load(); }

 private:
  Ring& ring_;
  std::atomic<int> drained_{0};
  std::thread thread_;
};

TEST(RingGates, ConsumerWaitsForTheStartWriteThreshold) {
  RingOptions options = SmallRing(10);
  options.start_write_percent = 50;  // 5 of 10 blocks
  std::unique_ptr<Ring> ring = MakeRing(options);
  ASSERT_NE(ring, nullptr);
  {
    CountingConsumer consumer(*ring);
    for (int i = 0; i < 4; ++i) CommitBlock(*ring, 0, 100);
    LetThreadsBlock();
    EXPECT_EQ(consumer.drained(), 0) << "consumer started below the -P threshold";
    CommitBlock(*ring, 0, 100);
    ASSERT_TRUE(WaitFor([&] { return consumer.drained() == 5 && ring->consumer_starving(); }));
    // The ring ran empty: the gate closes again until it is half full.
    for (int i = 0; i < 3; ++i) CommitBlock(*ring, 0, 100);
    LetThreadsBlock();
    EXPECT_EQ(consumer.drained(), 5) << "consumer restarted below the -P threshold";
    // The end of the input opens the gate whatever the fill.
    ring->CloseInput();
    EXPECT_TRUE(WaitFor([&] { return consumer.drained() == 8; }));
  }
  EXPECT_EQ(ring->blocks_used(), 0u);
}

TEST(RingGates, ProducerWaitsAfterRunningFullUntilBelowResumeThreshold) {
  RingOptions options = SmallRing(4);
  options.resume_read_percent = 50;  // resume once fewer than 2 of 4 blocks are used
  std::unique_ptr<Ring> ring = MakeRing(options);
  ASSERT_NE(ring, nullptr);
  // Before the ring ever ran full the producer is not gated, even above the threshold.
  for (int i = 0; i < 4; ++i) CommitBlock(*ring, 0, 100);
  EXPECT_EQ(ring->blocks_used(), 4u);

  auto producer = std::async(std::launch::async, [&] { return ring->AcquireFree(); });
  for (int released = 1; released <= 2; ++released) {
    Block* block = ring->AcquireNext();
    ASSERT_NE(block, nullptr);
    ring->Release(block);
    LetThreadsBlock();
    EXPECT_EQ(producer.wait_for(milliseconds(0)), std::future_status::timeout)
        << "producer resumed with " << 4 - released << " of 4 blocks used";
  }
  Block* block = ring->AcquireNext();
  ASSERT_NE(block, nullptr);
  ring->Release(block);  // 1 of 4 used: below 50%
  ASSERT_EQ(producer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Block* resumed = producer.get();
  ASSERT_NE(resumed, nullptr);
  EXPECT_GT(ring->stats().producer_wait_seconds, 0);
  resumed->size = 0;
  ring->Commit(resumed);
}

TEST(RingStress, ProducerWorkersConsumerMoveManyBlocksIntact) {
  RingOptions options = SmallRing(8);
  options.workers = true;
  std::unique_ptr<Ring> ring = MakeRing(options);
  ASSERT_NE(ring, nullptr);
  constexpr uint32_t kBlocks = 5000;
  const size_t capacity = ring->block_size();
  auto byte_at = [](uint32_t block, size_t i) {
    return static_cast<uint8_t>((block * 31 + i * 7) ^ (block >> 3));
  };
  auto size_of = [capacity](uint32_t block) { return 1 + (block * 977) % capacity; };

  std::thread producer([&] {
    for (uint32_t b = 0; b < kBlocks; ++b) {
      Block* block = ring->AcquireFree();
      if (block == nullptr) return;
      block->size = size_of(b);
      auto* bytes = reinterpret_cast<uint8_t*>(block->data);
      for (size_t i = 0; i < block->size; ++i) bytes[i] = byte_at(b, i);
      ring->Commit(block);
    }
    ring->CloseInput();
  });
  // Workers invert every byte in place; the consumer checks the inverted pattern.
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&] {
      while (Block* block = ring->AcquireWork()) {
        auto* bytes = reinterpret_cast<uint8_t*>(block->data);
        for (size_t i = 0; i < block->size; ++i) bytes[i] = static_cast<uint8_t>(~bytes[i]);
        ring->FinishWork(block);
      }
    });
  }
  uint32_t next = 0;
  uint64_t bad_bytes = 0;
  while (Block* block = ring->AcquireNext()) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(block->out);
    if (block->out_size != size_of(next)) ++bad_bytes;
    for (size_t i = 0; i < block->out_size; ++i) {
      if (bytes[i] != static_cast<uint8_t>(~byte_at(next, i))) ++bad_bytes;
    }
    ++next;
    ring->Release(block);
  }
  producer.join();
  for (auto& t : workers) t.join();
  EXPECT_EQ(next, kBlocks);
  EXPECT_EQ(bad_bytes, 0u);
  EXPECT_EQ(ring->blocks_used(), 0u);
  EXPECT_LE(ring->stats().peak_blocks_used, 8u);
}

// Drops CAP_IPC_LOCK from this process, which otherwise lets root lock memory beyond the limit.
bool DropIpcLockCapability() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
  data[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
  return syscall(SYS_capset, &header, data) == 0;
}

// The sanitizer runtimes replace mlock() with a no-op that always succeeds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZSEND_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZSEND_TEST_SANITIZED 1
#endif
#endif
#ifdef ZSEND_TEST_SANITIZED
constexpr bool kMlockIsReal = false;
#else
constexpr bool kMlockIsReal = true;
#endif

TEST(RingLock, MlockOverTheLimitNamesUlimit) {
  if (!kMlockIsReal) GTEST_SKIP() << "mlock() is a no-op under ASan/TSan; runs in the plain build";
  // In a child: the limit and the dropped capability must not leak into other tests.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    struct rlimit limit {
      64 << 10, 64 << 10
    };
    if (setrlimit(RLIMIT_MEMLOCK, &limit) != 0 || !DropIpcLockCapability()) _exit(3);
    RingOptions options;
    options.block_size = 1 << 20;
    options.memory = 16 << 20;
    options.lock = true;
    Result<std::unique_ptr<Ring>> ring = Ring::Create(options);
    std::string report = ring.ok() ? std::string("ok")
                                   : std::string(StatusCodeName(ring.status().code())) + "|" +
                                         ring.status().message();
    if (write(fds[1], report.data(), report.size()) < 0) _exit(4);
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0) << "child could not set up the memlock limit";
  const std::string expected_code = StatusCodeName(StatusCode::kResourceExhausted);
  EXPECT_EQ(report.substr(0, report.find('|')), expected_code) << report;
  EXPECT_NE(report.find("ulimit -l"), std::string::npos) << report;
  EXPECT_NE(report.find("--lock"), std::string::npos) << report;
}

TEST(RingLock, LockWithinTheLimitSucceeds) {
  RingOptions options = SmallRing(4);
  options.lock = true;
  std::unique_ptr<Ring> ring = MakeRing(options);
  ASSERT_NE(ring, nullptr);
  CommitBlock(*ring, 7, 1);
}

}  // namespace
}  // namespace zsend
