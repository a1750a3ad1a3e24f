// End-to-end: `zsend-engine buffer` run as a real process copies streams byte for byte, through
// files and through pipes, including a stream over 4 GiB that never touches the disk, and keeps
// its resident memory near what it moves rather than what it reserved; the bytes of a quiet peer
// pass at once.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/engine_cli.h"

namespace zsend::test {
namespace {

// Sizes around the edges: nothing, one byte, and sizes that are no block multiple.
const std::vector<size_t> kSizes = {0, 1, 4095, (1u << 20) + 12345, 3 * (1u << 20) - 1};

TEST(EngineBufferCliCopy, FilesAreCopiedByteForByte) {
  TempDir dir;
  PatternStream pattern(1);
  for (size_t size : kSizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string data = pattern.Prefix(size);
    WriteFile(dir.File("in"), data);
    RunResult r = RunEngine(
        {"buffer", "-q", "-s", "64k", "-m", "1M", "-i", dir.File("in"), "-o", dir.File("out")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    const std::string copied = ReadFile(dir.File("out"));
    EXPECT_EQ(copied.size(), size);
    EXPECT_EQ(DigestHex("sha256", copied), DigestHex("sha256", data));
  }
}

TEST(EngineBufferCliCopy, PipesAreCopiedByteForByte) {
  PatternStream pattern(2);
  for (size_t size : kSizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string data = pattern.Prefix(size);
    RunResult r = RunEngine({"buffer", "-q", "-s", "64k", "-m", "1M"}, data);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.size(), size);
    EXPECT_EQ(DigestHex("sha256", r.out), DigestHex("sha256", data));
    EXPECT_EQ(r.err, "") << "-q must print nothing on success";
  }
}

TEST(EngineBufferCliCopy, FileInPipeOutAndPipeInFileOut) {
  TempDir dir;
  PatternStream pattern(3);
  const std::string data = pattern.Prefix((2u << 20) + 777);
  WriteFile(dir.File("in"), data);
  RunResult to_pipe = RunEngine({"buffer", "-q", "-i", dir.File("in")});
  ASSERT_EQ(to_pipe.exit_code, 0) << to_pipe.err;
  EXPECT_EQ(DigestHex("sha256", to_pipe.out), DigestHex("sha256", data));

  RunResult to_file = RunEngine({"buffer", "-q", "-o", dir.File("out")}, data);
  ASSERT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_EQ(DigestHex("sha256", ReadFile(dir.File("out"))), DigestHex("sha256", data));
}

// More than 4 GiB, so any 32-bit size or offset arithmetic would show. The stream is generated
// into the program's stdin and checked as it comes out of stdout; a 64 MiB ring wraps ~65 times.
TEST(EngineBufferCliCopy, StreamOverFourGiBThroughASmallRing) {
  const uint64_t total = (4ull << 30) + 12345;
  PatternStream pattern(4);
  EngineChild child({"buffer", "-q", "-m", "64M", "--hash", "sha256"}, EngineChild::kPipeBoth);
  std::unique_ptr<Digest> sha256 = Digest::Create("sha256").value();
  auto fed = std::async(std::launch::async,
                        [&] { return FeedPattern(child.in_fd, pattern, total, sha256.get()); });
  auto drained =
      std::async(std::launch::async, [&] { return DrainAndCheck(child.out_fd, pattern); });
  const uint64_t sent = fed.get();
  const DrainResult got = drained.get();
  bool timed_out = false;
  RunResult r = child.Wait(60, &timed_out);
  EXPECT_FALSE(timed_out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sent, total);
  EXPECT_EQ(got.bytes, total);
  EXPECT_TRUE(got.matched) << "first wrong byte at offset " << got.first_mismatch;
  // -q silences progress and summary, not the digest that was asked for.
  EXPECT_EQ(r.err, "zsend-engine buffer: sha256 hash: " + sha256->FinishHex() + "\n");
}

// Under AddressSanitizer the engine's heap carries redzones and a quarantine of freed blocks
// (tens of MiB; one CI run peaked at 100.2 MiB against the 100 MiB bound): the RSS bounds
// below double there, still far below the rings' sizes they are about.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssFactor = 2;
#else
constexpr long kRssFactor = 1;
#endif

// The ring is reserved, not committed: a 4 GiB ring moving 10 MiB stays small.
TEST(EngineBufferCliCopy, HugeRingOnSmallStreamCostsLittleMemory) {
  const std::string data = PatternStream(5).Prefix(10u << 20);
  RunResult r = RunEngine({"buffer", "-q", "-m", "4G"}, data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DigestHex("sha256", r.out), DigestHex("sha256", data));
  EXPECT_GT(r.max_rss_kib, 0);
  EXPECT_LT(r.max_rss_kib, kRssFactor * 100 * 1024) << "peak RSS in KiB";
}

// The issue's own line: -m 1G moving 100 MiB stays under 200 MiB of peak RSS.
TEST(EngineBufferCliCopy, OneGiBRingMovingHundredMiBStaysUnder200MiB) {
  const uint64_t total = 100ull << 20;
  PatternStream pattern(6);
  EngineChild child({"buffer", "-q", "-m", "1G"}, EngineChild::kPipeBoth);
  auto fed =
      std::async(std::launch::async, [&] { return FeedPattern(child.in_fd, pattern, total); });
  const DrainResult got = DrainAndCheck(child.out_fd, pattern);
  fed.get();
  bool timed_out = false;
  RunResult r = child.Wait(60, &timed_out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(got.bytes, total);
  EXPECT_TRUE(got.matched);
  EXPECT_GT(r.max_rss_kib, 0);
  EXPECT_LT(r.max_rss_kib, kRssFactor * 200 * 1024) << "peak RSS in KiB";
}

// A peer that writes a few bytes and then waits for the answer (a handshake through `buffer`,
// as over ssh stdio) gets them through without closing its end: the bytes already waiting when
// buffer starts must not stay in a partial block while the reader blocks for more. Before the
// fix about half of the starts held them forever; twelve starts make a pass by luck unlikely.
TEST(EngineBufferCliCopy, BytesOfAQuietPeerPassWhileItsEndStaysOpen) {
  for (const char* rate : {"0", "16k"}) {
    for (int start = 0; start < 6; ++start) {
      SCOPED_TRACE(std::string("rate ") + rate + ", start " + std::to_string(start));
      int in[2], out[2];
      ASSERT_EQ(pipe(in), 0);
      ASSERT_EQ(pipe(out), 0);
      ASSERT_EQ(write(in[1], "hello", 5), 5);
      std::vector<std::string> argv = {
          BinPath("zsend-engine"), "buffer", "-q", "-m", "1M", "-s", "64k"};
      if (std::string(rate) != "0") argv.insert(argv.end(), {"-R", rate});
      SpawnOptions options;
      options.stdin_fd = in[0];
      options.stdout_fd = out[1];
      const pid_t pid = Spawn(argv, options);
      close(in[0]);
      close(out[1]);
      // A liveness bound, not a speed check: the bytes come in milliseconds or never.
      pollfd p{.fd = out[0], .events = POLLIN, .revents = 0};
      int ready = 0;
      do {
        ready = poll(&p, 1, 20000);
      } while (ready < 0 && errno == EINTR);
      char got[8] = {};
      const ssize_t n = ready > 0 ? read(out[0], got, sizeof got) : -1;
      close(in[1]);
      RunResult r = Wait(pid);
      close(out[0]);
      EXPECT_EQ(ready, 1) << "buffer held the bytes of a peer that waits for them";
      EXPECT_EQ(std::string(got, n > 0 ? n : 0), "hello");
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  }
}

}  // namespace
}  // namespace zsend::test
