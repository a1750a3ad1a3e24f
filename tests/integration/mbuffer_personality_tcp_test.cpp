// The mbuffer personality on the network: -I/-O speak mbuffer's raw TCP stream, so it must
// interoperate with the real mbuffer (Debian's /usr/bin/mbuffer) in both directions, honour
// -I host:port, -4/-6, and fail with exit 5 and one line when the peer is dead or absent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/peers/net.h"
#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

constexpr const char* kRealMbuffer = "/usr/bin/mbuffer";

size_t LineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string ReadStream(std::FILE* f) {
  std::string text;
  std::rewind(f);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  return text;
}

// A child process whose stderr is kept for the failure message; killed if still running.
struct Child {
  pid_t pid = -1;
  std::FILE* err = std::tmpfile();
  explicit Child(const std::vector<std::string>& argv) {
    SpawnOptions options;
    options.stderr_fd = fileno(err);
    pid = Spawn(argv, options);
  }
  // Waits for the child; `stop_first` kills it before (its peer failed, it would wait forever).
  RunResult Finish(bool stop_first = false) {
    if (stop_first) kill(pid, SIGKILL);
    RunResult r = Wait(pid);
    pid = -1;
    r.err = ReadStream(err);
    return r;
  }
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      Wait(pid);
    }
    std::fclose(err);
  }
};

// A listening socket on 127.0.0.1 owned by the test, for playing a (misbehaving) peer.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(fd_, 4) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~Listener() { close(fd_); }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Accepts one connection, waiting at most 20 s; -1 on time-out.
  int Accept() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20000) != 1) return -1;
    return accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_ = -1;
  int port_ = -1;
};

// Reads from fd until EOF or error (or `limit` bytes); returns what arrived.
std::string Receive(int fd, size_t limit = SIZE_MAX) {
  std::string data;
  char buf[65536];
  while (data.size() < limit) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, limit - data.size()));
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

class MbufferPersonalityTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(MbufferLinkPath())) << MbufferLinkPath();
    std::string templ = (std::filesystem::temp_directory_path() / "zsend-mbtcp.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void RequireRealMbuffer() {
    ZSEND_REQUIRE(std::filesystem::exists(kRealMbuffer), "the real mbuffer (apt install mbuffer)");
  }
  RunResult Ours(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv = {MbufferLinkPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::Run(argv, input);
  }
  std::string dir_;
};

TEST_F(MbufferPersonalityTcpTest, RealMbufferReceivesOurStream) {
  RequireRealMbuffer();
  const std::string data = PatternBytes(40 * 1024 * 1024 + 123, 21);
  const std::string out = dir_ + "/received";
  const int port = FreePort();
  Child real({kRealMbuffer, "-q", "-m", "16M", "-I", std::to_string(port), "-o", out});
  ASSERT_TRUE(WaitListening(port, 10)) << "real mbuffer did not listen on " << port;
  RunResult ours = Ours({"-q", "-m", "16M", "-s", "128k", "--tcpbuffer", "1M", "-O",
                         "127.0.0.1:" + std::to_string(port)},
                        data);
  EXPECT_EQ(ours.exit_code, 0) << ours.err;
  RunResult theirs = real.Finish(ours.exit_code != 0);
  EXPECT_EQ(theirs.exit_code, 0) << theirs.err;
  const std::string received = ReadFile(out);
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

TEST_F(MbufferPersonalityTcpTest, OurListenerReceivesRealMbuffersStream) {
  RequireRealMbuffer();
  const std::string data = PatternBytes(40 * 1024 * 1024 + 77, 22);
  const std::string out = dir_ + "/received";
  const int port = FreePort();
  Child ours({MbufferLinkPath(), "-q", "-m", "16M", "-I", std::to_string(port), "-o", out});
  ASSERT_TRUE(WaitListening(port, 10)) << "our mbuffer did not listen on " << port;
  RunResult theirs =
      test::Run({kRealMbuffer, "-q", "-m", "16M", "-O", "127.0.0.1:" + std::to_string(port)}, data);
  EXPECT_EQ(theirs.exit_code, 0) << theirs.err;
  RunResult finished = ours.Finish(theirs.exit_code != 0);
  EXPECT_EQ(finished.exit_code, 0) << finished.err;
  const std::string received = ReadFile(out);
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

TEST_F(MbufferPersonalityTcpTest, ListenWithHostAcceptsOnlyThatHost) {
  const std::string out = dir_ + "/received";
  const int port = FreePort();
  Child ours({MbufferLinkPath(), "-q", "-I", "127.0.0.2:" + std::to_string(port), "-o", out});
  ASSERT_TRUE(WaitListening(port, 10));

  int intruder = ConnectFrom("127.0.0.1", port, 5);
  ASSERT_GE(intruder, 0);
  SendAll(intruder, "intruder data");
  pollfd p{intruder, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1) << "the connection from 127.0.0.1 was not closed";
  EXPECT_EQ(Receive(intruder), "");
  close(intruder);

  int allowed = ConnectFrom("127.0.0.2", port, 5);
  ASSERT_GE(allowed, 0);
  const std::string data = PatternBytes(2 * 1024 * 1024 + 5, 23);
  EXPECT_TRUE(SendAll(allowed, data));
  close(allowed);
  RunResult finished = ours.Finish();
  EXPECT_EQ(finished.exit_code, 0) << finished.err;
  EXPECT_TRUE(ReadFile(out) == data);
}

// The peer accepts, takes some data, then goes away: our -O must fail with exit 5.
void ExpectDeadPeerFails(bool reset) {
  Listener peer;
  ASSERT_GT(peer.port(), 0);
  const std::string data = PatternBytes(64 * 1024 * 1024, 24);
  RunResult ours;
  std::thread sender([&] {
    ours = Run({MbufferLinkPath(), "-q", "-m", "4M", "-s", "128k", "-O", peer.address()}, data);
  });
  int fd = peer.Accept();
  EXPECT_GE(fd, 0);
  if (fd >= 0) {
    EXPECT_EQ(Receive(fd, 1 << 20).size(), 1u << 20);
    if (reset) {
      linger hard{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    close(fd);
  }
  sender.join();
  EXPECT_EQ(ours.exit_code, 5) << ours.err;
  EXPECT_EQ(LineCount(ours.err), 1u) << ours.err;
  EXPECT_NE(ours.err.find(peer.address()), std::string::npos) << ours.err;
}

TEST_F(MbufferPersonalityTcpTest, PeerResettingMidStreamExitsFive) {
  ExpectDeadPeerFails(true);
}

TEST_F(MbufferPersonalityTcpTest, PeerClosingMidStreamExitsFive) {
  ExpectDeadPeerFails(false);
}

TEST_F(MbufferPersonalityTcpTest, NobodyListeningExitsFiveNamingTheAddress) {
  const std::string address = "127.0.0.1:" + std::to_string(FreePort());
  RunResult r = Ours({"-q", "-O", address}, "data");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(LineCount(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(address), std::string::npos) << r.err;
}

TEST_F(MbufferPersonalityTcpTest, AddressFamilyOptions) {
  Listener peer;
  ASSERT_GT(peer.port(), 0);
  const std::string data = PatternBytes(1024 * 1024, 25);
  std::string received;
  std::thread reader([&] {
    int fd = peer.Accept();
    if (fd >= 0) received = Receive(fd);
    if (fd >= 0) close(fd);
  });
  RunResult v4 = Ours({"-q", "-4", "-O", peer.address()}, data);
  reader.join();
  EXPECT_EQ(v4.exit_code, 0) << v4.err;
  EXPECT_TRUE(received == data);

  // -6 cannot reach an IPv4 address, -4 cannot reach an IPv6 one.
  RunResult v6 = Ours({"-q", "-6", "-O", peer.address()}, data);
  EXPECT_EQ(v6.exit_code, 5) << v6.err;
  EXPECT_EQ(LineCount(v6.err), 1u) << v6.err;
  RunResult v4_to_v6 = Ours({"-q", "-4", "-O", "[::1]:" + std::to_string(peer.port())}, data);
  EXPECT_EQ(v4_to_v6.exit_code, 5) << v4_to_v6.err;
}

}  // namespace
}  // namespace zsend::test
