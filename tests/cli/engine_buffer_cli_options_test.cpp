// End-to-end: the options of `zsend-engine buffer` as a user sees them: --json-stats, --hash,
// -q, --progress, -P/-p, -r/-R rate limits, and the io_uring backend with its forced fallback.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/ring/fd_stream.h"
#include "tests/support/engine_cli.h"
#include "tools/engine/exit_codes.h"

namespace zsend::test {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  return nlohmann::json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
}

TEST(EngineBufferCliOptions, JsonStatsOnSuccess) {
  TempDir dir;
  const std::string data = PatternStream(10).Prefix((3u << 20) + 5);
  RunResult r =
      RunEngine({"buffer", "-q", "--hash", "sha256", "--json-stats", dir.File("stats.json")}, data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = ReadJson(dir.File("stats.json"));
  ASSERT_TRUE(j.is_object()) << ReadFile(dir.File("stats.json"));
  EXPECT_EQ(j["result"], "ok");
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["bytes_in"], data.size());
  EXPECT_EQ(j["bytes_out"], data.size());
  EXPECT_EQ(j["hash"], "sha256");
  EXPECT_EQ(j["digest"], DigestHex("sha256", data));
  EXPECT_GT(j["seconds"].get<double>(), 0);
  EXPECT_GT(j["peak_fill_percent"].get<double>(), 0);
  for (const char* key : {"rate_in", "rate_out", "input_stall_seconds", "output_stall_seconds"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

TEST(EngineBufferCliOptions, JsonStatsOnFailure) {
  TempDir dir;
  const std::string data = PatternStream(11).Prefix(2u << 20);
  RunResult r = RunEngine({"buffer", "-q", "-o", "/dev/full", "--hash", "sha256", "--json-stats",
                           dir.File("stats.json")},
                          data);
  EXPECT_EQ(r.exit_code, tool::kExitOutput);
  const nlohmann::json j = ReadJson(dir.File("stats.json"));
  ASSERT_TRUE(j.is_object()) << ReadFile(dir.File("stats.json"));
  EXPECT_EQ(j["result"], "failed");
  EXPECT_EQ(j["exit_code"], tool::kExitOutput);
  EXPECT_NE(j["error"].get<std::string>().find("No space left"), std::string::npos) << j.dump();
  EXPECT_EQ(j["failed_stage"], "output");
  EXPECT_EQ(j["digest"], "") << "no digest for a stream that did not arrive";
}

// The digest line matches what the coreutils tools print for the same bytes.
TEST(EngineBufferCliOptions, HashLinesMatchCoreutils) {
  TempDir dir;
  const std::string data = PatternStream(12).Prefix((1u << 20) + 99);
  WriteFile(dir.File("in"), data);
  const std::pair<const char*, const char*> tools[] = {
      {"sha256", "sha256sum"}, {"sha512", "sha512sum"}, {"blake2b", "b2sum"}};
  for (const auto& [hash, tool_name] : tools) {
    SCOPED_TRACE(hash);
    ZSEND_REQUIRE(HaveProgram(tool_name), tool_name);
    RunResult expected = Shell(std::string(tool_name) + " < " + dir.File("in"));
    ASSERT_EQ(expected.exit_code, 0);
    const std::string hex = expected.out.substr(0, expected.out.find(' '));
    ASSERT_GE(hex.size(), 64u);
    RunResult r = RunEngine({"buffer", "-q", "--hash", hash, "-i", dir.File("in")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, data);
    EXPECT_EQ(r.err, "zsend-engine buffer: " + std::string(hash) + " hash: " + hex + "\n");
  }
}

TEST(EngineBufferCliOptions, QuietPrintsNothingAndDefaultPrintsOnlyASummary) {
  const std::string data = PatternStream(13).Prefix(1u << 20);
  RunResult quiet = RunEngine({"buffer", "-q"}, data);
  ASSERT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err, "");
  // stderr is a pipe here, not a terminal: no progress line, just the summary.
  RunResult normal = RunEngine({"buffer"}, data);
  ASSERT_EQ(normal.exit_code, 0);
  EXPECT_EQ(normal.err.rfind("zsend-engine buffer: summary: ", 0), 0u) << normal.err;
  EXPECT_EQ(std::count(normal.err.begin(), normal.err.end(), '\n'), 1) << normal.err;
}

TEST(EngineBufferCliOptions, ProgressLinesWhenForcedWithoutATerminal) {
  // 3 MiB at 1 MiB/s: about three seconds, so several one-second progress lines.
  const std::string data = PatternStream(14).Prefix(3u << 20);
  RunResult r = RunEngine({"buffer", "--progress", "-r", "1M", "--size", "3M"}, data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, data);
  size_t progress_lines = 0, pos = 0;
  while ((pos = r.err.find("buffer ", pos)) != std::string::npos) {
    ++progress_lines;
    ++pos;
  }
  EXPECT_GE(progress_lines, 2u) << r.err;
  EXPECT_NE(r.err.find("ETA"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no carriage returns when not a terminal";
}

// -P 100: nothing is written until the ring is full or the input ends.
TEST(EngineBufferCliOptions, StartWritingOnlyOnceTheRingIsFull) {
  PatternStream pattern(15);
  // 1 MiB ring of 16 blocks of 64 KiB.
  EngineChild child({"buffer", "-q", "-m", "1M", "-s", "64k", "-P", "100", "-p", "50"},
                    EngineChild::kPipeBoth);
  const std::string half = pattern.Prefix(512u << 10);
  ASSERT_EQ(write(child.in_fd, half.data(), half.size()), static_cast<ssize_t>(half.size()));
  pollfd out{child.out_fd, POLLIN, 0};
  EXPECT_EQ(poll(&out, 1, 1500), 0) << "output started before the ring was full";
  // Feed the rest (much more than the ring) and check everything arrives in order.
  const uint64_t total = 8u << 20;
  auto fed = std::async(std::launch::async, [&] {
    // Resume the stream where the first write stopped.
    std::string rest(total - half.size(), '\0');
    PatternStream(15).Fill(half.size(), reinterpret_cast<std::byte*>(rest.data()), rest.size());
    size_t off = 0;
    while (off < rest.size()) {
      ssize_t n = write(child.in_fd, rest.data() + off, rest.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(child.in_fd);
  });
  const DrainResult got = DrainAndCheck(child.out_fd, pattern);
  fed.get();
  bool timed_out = false;
  RunResult r = child.Wait(60, &timed_out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(got.bytes, total);
  EXPECT_TRUE(got.matched);
}

// Writes the stream on (non-blocking) in_fd from *sent until the program has taken at least
// `at_least` bytes and then stopped taking any for a whole second: its ring and pipes are full.
void FeedUntilStuck(int in_fd, const PatternStream& pattern, uint64_t at_least, uint64_t* sent) {
  std::vector<std::byte> chunk(64 << 10);
  pollfd in{in_fd, POLLOUT, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (poll(&in, 1, 1000) == 0) {
      if (*sent >= at_least) return;
      continue;
    }
    pattern.Fill(*sent, chunk.data(), chunk.size());
    const ssize_t n = write(in_fd, chunk.data(), chunk.size());
    if (n > 0) *sent += static_cast<uint64_t>(n);
  }
}

// Reads exactly `len` bytes of the stream from out_fd and checks them.
void ReadExactly(int out_fd, const PatternStream& pattern, uint64_t* received, size_t len) {
  std::vector<std::byte> buf(len);
  size_t got = 0;
  while (got < len) {
    const ssize_t n = read(out_fd, buf.data() + got, len - got);
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  EXPECT_TRUE(pattern.Matches(*received, buf.data(), len));
  *received += len;
}

// -p 25: once the ring ran full, reading resumes only after it drained below a quarter; with the
// default -p 100 it resumes as soon as one block is free.
TEST(EngineBufferCliOptions, ResumeReadingOnlyBelowTheLowWatermark) {
  for (const char* resume : {"25", "100"}) {
    SCOPED_TRACE(std::string("-p ") + resume);
    PatternStream pattern(19);
    // 16 blocks of 64 KiB.
    EngineChild child({"buffer", "-q", "-m", "1M", "-s", "64k", "-p", resume},
                      EngineChild::kPipeBoth);
    ASSERT_EQ(fcntl(child.in_fd, F_SETFL, O_NONBLOCK), 0);
    uint64_t sent = 0, received = 0;
    // The ring (1 MiB) and at least one of the two 64 KiB pipes.
    FeedUntilStuck(child.in_fd, pattern, (1 << 20) + (64 << 10), &sent);
    ASSERT_GE(sent, (1u << 20) + (64u << 10)) << "the program stopped reading too early";
    // Draining 384 KiB frees about 5 of the 16 blocks: above 25% still in use.
    ReadExactly(child.out_fd, pattern, &received, 384 << 10);
    pollfd in{child.in_fd, POLLOUT, 0};
    const int writable = poll(&in, 1, std::string(resume) == "25" ? 1500 : 20000);
    if (std::string(resume) == "25") {
      EXPECT_EQ(writable, 0) << "reading resumed above the -p watermark";
    } else {
      EXPECT_EQ(writable, 1) << "reading did not resume with free blocks";
    }
    // Finish the stream and check every byte.
    ASSERT_EQ(fcntl(child.in_fd, F_SETFL, 0), 0);
    const uint64_t total = sent + (1 << 20);
    auto fed = std::async(std::launch::async, [&] {
      std::vector<std::byte> rest(total - sent);
      pattern.Fill(sent, rest.data(), rest.size());
      size_t off = 0;
      while (off < rest.size()) {
        const ssize_t n = write(child.in_fd, rest.data() + off, rest.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      close(child.in_fd);
    });
    std::vector<std::byte> buf(1 << 20);
    bool matched = true;
    for (ssize_t n; (n = read(child.out_fd, buf.data(), buf.size())) > 0;) {
      matched = matched && pattern.Matches(received, buf.data(), static_cast<size_t>(n));
      received += static_cast<uint64_t>(n);
    }
    close(child.out_fd);
    fed.get();
    bool timed_out = false;
    RunResult r = child.Wait(60, &timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(received, total);
    EXPECT_TRUE(matched);
  }
}

// The rate limits hold: 8 MiB at 4 MiB/s cannot take less than 2 s (less 10%), from either
// side. No upper bound on the wall clock: a loaded machine or a sanitizer build only makes it
// slower, and speed is the benchmarks' business, not a test's.
TEST(EngineBufferCliOptions, ReadAndWriteRateLimitsHold) {
  const std::string data = PatternStream(16).Prefix(8u << 20);
  for (const char* flag : {"-r", "-R"}) {
    SCOPED_TRACE(flag);
    TempDir dir;
    RunResult r =
        RunEngine({"buffer", "-q", flag, "4M", "--json-stats", dir.File("stats.json")}, data);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, data);
    EXPECT_GE(r.seconds, 1.8);
  }
}

// With io_uring refused by seccomp, the program falls back to plain system calls.
TEST(EngineBufferCliOptions, FallsBackToSyscallsWhenIoUringIsRefused) {
  TempDir dir;
  const std::string data = PatternStream(17).Prefix((2u << 20) + 3);
  RunResult r = zsend::test::Run({BinPath("zsend-no-uring"), EnginePath(), "buffer", "-q",
                                  "--json-stats", dir.File("stats.json")},
                                 data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DigestHex("sha256", r.out), DigestHex("sha256", data));
  const nlohmann::json j = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(j["io_backend"]["input"], "syscalls") << j.dump();
  EXPECT_EQ(j["io_backend"]["output"], "syscalls") << j.dump();
}

TEST(EngineBufferCliOptions, UsesIoUringWhenAllowedAndSyscallsWhenAsked) {
  ZSEND_REQUIRE(UringChannel::TryCreate() != nullptr, "io_uring in this kernel");
  TempDir dir;
  const std::string data = PatternStream(18).Prefix(1u << 20);
  WriteFile(dir.File("in"), data);
  for (const char* io : {"uring", "syscalls"}) {
    SCOPED_TRACE(io);
    RunResult r = RunEngine({"buffer", "-q", "--io", io, "-i", dir.File("in"), "-o",
                             dir.File("out"), "--json-stats", dir.File("stats.json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFile(dir.File("out")), data);
    const nlohmann::json j = ReadJson(dir.File("stats.json"));
    EXPECT_EQ(j["io_backend"]["input"], io) << j.dump();
    EXPECT_EQ(j["io_backend"]["output"], io) << j.dump();
  }
}

}  // namespace
}  // namespace zsend::test
