// Tests for tests/support/peers/netns.h: two namespaces that can reach each other, a tbf rate limit
// that TCP measures within 15% (issue 7's accuracy), and cleanup.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "tests/support/peers/fault_proxy.h"
#include "tests/support/peers/netns.h"

namespace zsend::test {
namespace {

#define REQUIRE_NETNS() ZSEND_REQUIRE(NetnsPair::Available(), "root and `ip netns` (iproute2)")

bool NamespaceListed(const std::string& ns) {
  std::string list = "\n" + Shell("ip netns list").out;
  return list.find("\n" + ns + " ") != std::string::npos ||
         list.find("\n" + ns + "\n") != std::string::npos;
}

// Sends `bytes` over TCP from the left namespace to the right one; returns the receiver's rate
// in Mbit/s of payload from its first byte to end of stream (0 on failure).
double MeasureTcpMbit(const NetnsPair& pair, size_t bytes) {
  int listener = -1;
  int sender = -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, pair.address(NetnsSide::kRight).c_str(), &addr.sin_addr);
  pair.RunIn(NetnsSide::kRight, [&] {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof addr;
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener, 1) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close(listener);
      listener = -1;
    }
  });
  pair.RunIn(NetnsSide::kLeft, [&] { sender = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  if (listener < 0 || sender < 0) return 0;

  size_t received = 0;
  double seconds = 0;
  std::thread receiver([&] {
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    std::vector<char> buf(1 << 16);
    std::chrono::steady_clock::time_point first;
    for (;;) {
      ssize_t n = read(conn, buf.data(), buf.size());
      if (n <= 0) break;
      if (received == 0) first = std::chrono::steady_clock::now();
      received += static_cast<size_t>(n);
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
    close(conn);
  });
  if (connect(sender, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::vector<char> chunk(1 << 16, 'z');
    for (size_t sent = 0; sent < bytes;) {
      ssize_t n = write(sender, chunk.data(), std::min(chunk.size(), bytes - sent));
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  }
  close(sender);
  receiver.join();
  close(listener);
  if (received != bytes || seconds <= 0) return 0;
  return static_cast<double>(received) * 8 / seconds / 1e6;
}

TEST(NetnsFixture, PingsAcrossTheVethPair) {
  REQUIRE_NETNS();
  ZSEND_REQUIRE(HaveProgram("ping"), "ping (iputils-ping)");
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  EXPECT_NE(pair.address(NetnsSide::kLeft), pair.address(NetnsSide::kRight));
  RunResult there = pair.Run(NetnsSide::kLeft, {"ping", "-c", "2", "-i", "0.2", "-W", "5",
                                                pair.address(NetnsSide::kRight)});
  EXPECT_EQ(there.exit_code, 0) << there.out << there.err;
  RunResult back =
      pair.Run(NetnsSide::kRight, {"ping", "-c", "1", "-W", "5", pair.address(NetnsSide::kLeft)});
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
}

TEST(NetnsFixture, ProgramsRunInsideTheirNamespace) {
  REQUIRE_NETNS();
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  RunResult left = pair.Run(NetnsSide::kLeft, {"ip", "-4", "-o", "addr", "show", "dev", "veth0"});
  EXPECT_EQ(left.exit_code, 0) << left.err;
  EXPECT_NE(left.out.find(pair.address(NetnsSide::kLeft) + "/24"), std::string::npos) << left.out;
  EXPECT_EQ(left.out.find(pair.address(NetnsSide::kRight)), std::string::npos) << left.out;
  // Spawn + Wait, the way a test starts a long-running peer inside.
  pid_t pid = pair.Spawn(
      NetnsSide::kRight,
      {"sh", "-c", "ip -o addr show dev veth0 | grep -q " + pair.address(NetnsSide::kRight)});
  EXPECT_EQ(Wait(pid).exit_code, 0);
}

TEST(NetnsFixture, UnlimitedLinkHasNoQdiscLimit) {
  REQUIRE_NETNS();
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  RunResult tc =
      test::Run({"tc", "-n", pair.name(NetnsSide::kLeft), "qdisc", "show", "dev", "veth0"});
  EXPECT_EQ(tc.out.find("tbf"), std::string::npos) << tc.out;
}

// Checks that a TCP stream across a tbf-limited pair measures the configured rate within 15%.
void ExpectTcpRateNear(double rate_mbit) {
  NetnsPair pair({.rate_mbit = rate_mbit});
  ASSERT_TRUE(pair.ok()) << pair.error();
  for (NetnsSide side : {NetnsSide::kLeft, NetnsSide::kRight}) {
    RunResult tc = test::Run({"tc", "-n", pair.name(side), "qdisc", "show", "dev", "veth0"});
    EXPECT_NE(tc.out.find("tbf"), std::string::npos) << tc.out;
  }
  // About 2.5 seconds of traffic at the configured rate.
  size_t bytes = static_cast<size_t>(rate_mbit * 1e6 / 8 * 2.5);
  double measured = MeasureTcpMbit(pair, bytes);
  std::printf("tbf %.0f Mbit/s: TCP payload measured %.1f Mbit/s\n", rate_mbit, measured);
  EXPECT_GT(measured, rate_mbit * 0.85);
  EXPECT_LT(measured, rate_mbit * 1.15);
}

TEST(NetnsFixture, TcpThroughputMatchesTbf100MbitWithin15Percent) {
  REQUIRE_NETNS();
  ExpectTcpRateNear(100);
}

TEST(NetnsFixture, TcpThroughputMatchesTbf400MbitWithin15Percent) {
  REQUIRE_NETNS();
  ExpectTcpRateNear(400);
}

TEST(NetnsFixture, FaultProxyCreatedInsideANamespaceForwardsAcrossTheLink) {
  REQUIRE_NETNS();
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  // Server on the right host; a proxy on the left host's loopback (its threads inherit the
  // namespace of the thread that built it); a client on the left host.
  int listener = -1, client = -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, pair.address(NetnsSide::kRight).c_str(), &addr.sin_addr);
  ASSERT_TRUE(pair.RunIn(NetnsSide::kRight, [&] {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof addr;
    bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listener, 1);
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  }));
  std::optional<FaultProxy> proxy;
  ASSERT_TRUE(pair.RunIn(NetnsSide::kLeft, [&] {
    proxy.emplace(pair.address(NetnsSide::kRight), ntohs(addr.sin_port),
                  FaultPlan{.flip_offset = 2});
    client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }));
  ASSERT_TRUE(proxy->ok()) << proxy->error();
  sockaddr_in proxy_addr{};
  proxy_addr.sin_family = AF_INET;
  proxy_addr.sin_port = htons(static_cast<uint16_t>(proxy->port()));
  proxy_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&proxy_addr), sizeof proxy_addr), 0);
  ASSERT_EQ(write(client, "abcdef", 6), 6);
  close(client);
  pollfd incoming{listener, POLLIN, 0};
  ASSERT_EQ(poll(&incoming, 1, 10000), 1) << "the proxy never reached the right namespace";
  int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  char got[16] = {};
  size_t total = 0;
  for (ssize_t n; (n = read(conn, got + total, sizeof got - 1 - total)) > 0;) total += n;
  close(conn);
  close(listener);
  EXPECT_EQ(std::string(got, total), std::string("ab") + static_cast<char>('c' ^ 0xFF) + "def");
  EXPECT_EQ(proxy->bytes(ProxyDirection::kClientToServer), 6u);
}

TEST(NetnsFixture, NamespacesAreRemovedAfterDestruction) {
  REQUIRE_NETNS();
  std::string left, right;
  pid_t sleeper = -1;
  {
    NetnsPair pair({.rate_mbit = 50});
    ASSERT_TRUE(pair.ok()) << pair.error();
    left = pair.name(NetnsSide::kLeft);
    right = pair.name(NetnsSide::kRight);
    EXPECT_TRUE(NamespaceListed(left));
    EXPECT_TRUE(NamespaceListed(right));
    // A process still running inside must not keep the namespace alive.
    sleeper = pair.Spawn(NetnsSide::kRight, {"sleep", "60"});
    ASSERT_GT(sleeper, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(NamespaceListed(left));
  EXPECT_FALSE(NamespaceListed(right));
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + left));
  EXPECT_EQ(Wait(sleeper).exit_code, 128 + SIGKILL);
}

TEST(NetnsFixture, SweepRemovesNamespacesOfDeadProcessesOnly) {
  REQUIRE_NETNS();
  NetnsPair live;
  ASSERT_TRUE(live.ok()) << live.error();
  pid_t dead = fork();  // a pid that surely exits before the sweep
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  std::string stale = std::string(NetnsPair::kPrefix) + std::to_string(dead) + "-0-l";
  ASSERT_EQ(test::Run({"ip", "netns", "add", stale}).exit_code, 0);
  EXPECT_GE(NetnsPair::SweepStale(), 1);
  EXPECT_FALSE(NamespaceListed(stale));
  EXPECT_TRUE(NamespaceListed(live.name(NetnsSide::kLeft)));
}

}  // namespace
}  // namespace zsend::test
