// zsend-engine bench as a real process: --local and the --listen/--connect link test on loopback
// (JSON parsed and checked), a wrong key, and (BenchLinkNetns) two network namespaces with a tbf
// rate limit, where the measured rate must match the limit and a slow link must get a codec that
// compresses more than an unlimited one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/crypto/keys.h"
#include "tests/support/engine_cli.h"
#include "tests/support/peers/netns.h"
#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

using nlohmann::json;

constexpr int kExitAuthentication = 8;

// The listening side: started with --announce, stdout on a pipe the test reads.
struct BenchListener {
  pid_t pid = -1;
  int out = -1;
  int port = 0;
  std::string pubkey;

  // `exec` prefixes the engine's argv (e.g. ip netns exec NAME).
  BenchListener(const std::vector<std::string>& prefix, const std::string& address,
                std::vector<std::string> extra = {}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
    std::vector<std::string> argv = prefix;
    argv.insert(argv.end(), {EnginePath(), "bench", "--listen", address, "--announce", "--json",
                             "-q", "--seconds", "1"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    SpawnOptions options;
    options.stdout_fd = fds[1];
    pid = Spawn(argv, options);
    ::close(fds[1]);
    out = fds[0];
    const std::string line = ReadLine(30000);
    if (line.empty()) return;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) return;
    port = j.value("port", 0);
    pubkey = j.value("pubkey", "");
  }
  ~BenchListener() {
    if (out >= 0) ::close(out);
  }

  std::string ReadLine(int timeout_ms) {
    std::string line;
    char c;
    pollfd p{out, POLLIN, 0};
    while (::poll(&p, 1, timeout_ms) > 0 && ::read(out, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }

  // Waits for the exit; returns the exit code and the report line in *report.
  int Finish(std::string* report) {
    *report = ReadLine(60000);
    bool timed_out = false;
    RunResult r = WaitWithin(pid, 60, &timed_out);
    return timed_out ? -1 : r.exit_code;
  }
};

json ParseReport(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

void ExpectSaneCpu(const json& cpu) {
  EXPECT_GE(cpu.value("cores", 0), 1);
  EXPECT_GT(cpu.value("pipe_read_mbps", 0.0), 0);
  EXPECT_GT(cpu["seal_mbps"].value("chacha20-poly1305", 0.0), 0);
  ASSERT_TRUE(cpu["codecs"].is_array());
  EXPECT_EQ(cpu["codecs"].size(), 7u);
  for (const json& c : cpu["codecs"]) {
    EXPECT_GT(c.value("compress_mbps", 0.0), 0) << c.dump();
    EXPECT_GT(c.value("decompress_mbps", 0.0), 0) << c.dump();
    EXPECT_GE(c.value("ratio", 0.0), 0.9) << c.dump();
  }
}

void ExpectSaneAdvice(const json& a) {
  EXPECT_FALSE(a.value("codec", "").empty()) << a.dump();
  EXPECT_GE(a.value("threads", 0), 1);
  EXPECT_GE(a.value("block_size", 0ull), 4096ull);
  EXPECT_GE(a.value("memory", 0ull), 2 * a.value("block_size", 0ull));
  EXPECT_GT(a.value("expected_mbps", 0.0), 0);
  EXPECT_EQ(a["choices"].size(), 7u);
}

double RatioOf(const json& advice) {
  for (const json& c : advice["choices"]) {
    if (c.value("codec", "") == advice.value("codec", "?")) return c.value("ratio", 0.0);
  }
  return 0;
}

TEST(BenchCli, LocalJsonHasEveryStageAndABottleneck) {
  RunResult r = RunEngine({"bench", "--local", "--seconds", "0.1", "--json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = ParseReport(r.out);
  EXPECT_EQ(j.value("mode", ""), "local");
  ExpectSaneCpu(j["cpu"]);
  EXPECT_EQ(j["sample"].value("source", ""), "synthetic");
  // The built-in sample is about one third zeros and one third text: zstd:3 compresses it.
  for (const json& c : j["cpu"]["codecs"]) {
    if (c["codec"] == "zstd:3") {
      EXPECT_GT(c.value("ratio", 0.0), 1.5);
    }
    if (c["codec"] == "none") {
      EXPECT_DOUBLE_EQ(c.value("ratio", 0.0), 1.0);
    }
  }
  EXPECT_GT(j["loopback"].value("mbps", 0.0), 0);
  EXPECT_GT(j["loopback"].value("bytes", 0ull), 0ull);
  EXPECT_FALSE(j["bottleneck"].value("stage", "").empty());
  EXPECT_GT(j["bottleneck"].value("mbps", 0.0), 0);
}

TEST(BenchCli, LocalSampleFileDrivesTheRatios) {
  TempDir dir;
  const std::string zeros = dir.File("zeros");
  ASSERT_EQ(Shell("head -c 3000000 /dev/zero > " + zeros).exit_code, 0);
  RunResult r =
      RunEngine({"bench", "--local", "--sample", zeros, "--seconds", "0.05", "--json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = ParseReport(r.out);
  EXPECT_EQ(j["sample"].value("bytes", 0ull), 3000000ull);
  for (const json& c : j["cpu"]["codecs"]) {
    if (c["codec"] == "zstd:3") {
      EXPECT_GT(c.value("ratio", 0.0), 100.0);
    }
  }
  RunResult missing = RunEngine({"bench", "--local", "--sample", dir.File("nope"), "-q"});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("--sample"), std::string::npos) << missing.err;
}

TEST(BenchCli, ModesAreExclusive) {
  RunResult r = RunEngine({"bench", "--local", "--connect", "127.0.0.1:1", "-q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("exactly one of"), std::string::npos) << r.err;
}

TEST(BenchCli, LinkOnLoopbackReportsBothSidesAndRecommends) {
  BenchListener listener({}, "127.0.0.1:0");
  ASSERT_GT(listener.port, 0);
  RunResult c = RunEngine({"bench", "--connect", "127.0.0.1:" + std::to_string(listener.port),
                           "--peer", listener.pubkey, "--seconds", "1", "--json", "-q"});
  std::string listener_out;
  const int listener_exit = listener.Finish(&listener_out);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  ASSERT_EQ(listener_exit, 0);
  json conn = ParseReport(c.out), lis = ParseReport(listener_out);
  EXPECT_EQ(conn.value("role", ""), "connect");
  EXPECT_EQ(lis.value("role", ""), "listen");
  EXPECT_GT(conn["link"].value("send_mbps", 0.0), 0);
  EXPECT_GT(conn["link"].value("receive_mbps", 0.0), 0);
  EXPECT_GT(conn["link"].value("rtt_ms", 0.0), 0);
  // Each side reports the same two phases, seen from its end.
  EXPECT_DOUBLE_EQ(conn["link"].value("send_mbps", 0.0), lis["link"].value("receive_mbps", 1.0));
  EXPECT_DOUBLE_EQ(conn["link"].value("receive_mbps", 0.0), lis["link"].value("send_mbps", 1.0));
  ExpectSaneCpu(conn["local_cpu"]);
  ExpectSaneCpu(conn["peer_cpu"]);
  EXPECT_EQ(conn["peer_cpu"], lis["local_cpu"]);
  ExpectSaneAdvice(conn["recommendation"]["sending"]);
  ExpectSaneAdvice(conn["recommendation"]["receiving"]);
}

TEST(BenchCli, WrongPeerKeyIsAnAuthenticationFailure) {
  BenchListener listener({}, "127.0.0.1:0");
  ASSERT_GT(listener.port, 0);
  const std::string other = FormatPublicKey(noise::KeyPair::Generate().public_key);
  RunResult c = RunEngine({"bench", "--connect", "127.0.0.1:" + std::to_string(listener.port),
                           "--peer", other, "--seconds", "1", "-q"});
  std::string listener_out;
  const int listener_exit = listener.Finish(&listener_out);
  EXPECT_EQ(c.exit_code, kExitAuthentication) << c.err;
  EXPECT_EQ(listener_exit, kExitAuthentication);
}

TEST(BenchCli, ListenerWithAuthorizedKeysRefusesOthers) {
  const std::string allowed = FormatPublicKey(noise::KeyPair::Generate().public_key);
  BenchListener listener({}, "127.0.0.1:0", {"--authorize", allowed});
  ASSERT_GT(listener.port, 0);
  RunResult c = RunEngine({"bench", "--connect", "127.0.0.1:" + std::to_string(listener.port),
                           "--peer", listener.pubkey, "--seconds", "1", "-q"});
  std::string listener_out;
  EXPECT_EQ(listener.Finish(&listener_out), kExitAuthentication);
  EXPECT_EQ(c.exit_code, kExitAuthentication) << c.err;
}

// Runs the link test from the left namespace to a listener in the right one.
json NetnsLinkReport(double rate_mbit) {
  NetnsPair pair({.rate_mbit = rate_mbit});
  EXPECT_TRUE(pair.ok()) << pair.error();
  if (!pair.ok()) return json::object();
  BenchListener listener(pair.ExecArgv(NetnsSide::kRight, {}),
                         pair.address(NetnsSide::kRight) + ":0");
  EXPECT_GT(listener.port, 0);
  if (listener.port == 0) return json::object();
  RunResult c = pair.Run(NetnsSide::kLeft,
                         {EnginePath(), "bench", "--connect",
                          pair.address(NetnsSide::kRight) + ":" + std::to_string(listener.port),
                          "--peer", listener.pubkey, "--seconds", "2", "--json", "-q"});
  std::string listener_out;
  EXPECT_EQ(listener.Finish(&listener_out), 0);
  EXPECT_EQ(c.exit_code, 0) << c.err;
  return ParseReport(c.out);
}

TEST(BenchLinkNetns, RateLimitIsMeasuredAndASlowLinkGetsAStrongerCodec) {
  ZSEND_REQUIRE(NetnsPair::Available(), "root and `ip netns` (iproute2)");
  const json slow = NetnsLinkReport(100);
  const json fast = NetnsLinkReport(0);
  ASSERT_TRUE(slow.contains("link") && fast.contains("link")) << slow.dump() << fast.dump();
  const double configured_mbps = 100e6 / 8 / 1e6;  // 12.5 MB/s
  for (const char* way : {"send_mbps", "receive_mbps"}) {
    const double measured = slow["link"].value(way, 0.0);
    EXPECT_NEAR(measured, configured_mbps, 0.15 * configured_mbps) << way;
  }
  EXPECT_GT(fast["link"].value("send_mbps", 0.0), 2 * configured_mbps);
  const json& slow_advice = slow["recommendation"]["sending"];
  const json& fast_advice = fast["recommendation"]["sending"];
  ExpectSaneAdvice(slow_advice);
  ExpectSaneAdvice(fast_advice);
  EXPECT_GT(RatioOf(slow_advice), RatioOf(fast_advice))
      << "slow: " << slow_advice.value("codec", "") << ", fast: " << fast_advice.value("codec", "");
}

}  // namespace
}  // namespace zsend::test
