// Tests for tests/support/peers/fault_proxy.h with plain socket peers on 127.0.0.1.
#include "tests/support/peers/fault_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <random>

namespace zsend::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A listening socket on 127.0.0.1:0 standing in for the real server.
struct Server {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int port = 0;
  Server() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd, 8);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Server() { close(fd); }
  int Accept() const { return accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); }
};

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Writes everything; returns 0 or the errno of the first failing send.
int WriteAll(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size();) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) return errno;
    off += static_cast<size_t>(n);
  }
  return 0;
}

// Reads until EOF or error; *error gets 0 on a clean EOF or the errno that ended the stream.
std::string ReadAll(int fd, int* error, size_t max = SIZE_MAX) {
  std::string out;
  char buf[65536];
  *error = 0;
  while (out.size() < max) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, max - out.size()));
    if (n < 0) *error = errno;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

size_t CountDifferences(const std::string& a, const std::string& b) {
  size_t diffs = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) diffs += a[i] != b[i];
  return diffs;
}

TEST(FaultProxy, PassesBothDirectionsThroughAndCountsBytes) {
  Server server;
  FaultProxy proxy("127.0.0.1", server.port);
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  const std::string request = RandomBytes(1 << 20, 1), reply = RandomBytes(700000, 2);
  for (int round = 0; round < 2; ++round) {
    std::string got_request;
    std::thread peer([&] {
      int conn = server.Accept();
      int error = 0;
      got_request = ReadAll(conn, &error);
      EXPECT_EQ(error, 0);
      EXPECT_EQ(WriteAll(conn, reply), 0);
      close(conn);
    });
    int client = Connect(proxy.port());
    EXPECT_EQ(WriteAll(client, request), 0);
    shutdown(client, SHUT_WR);  // the half-close must reach the server as EOF
    int error = 0;
    std::string got_reply = ReadAll(client, &error);
    close(client);
    peer.join();
    EXPECT_EQ(error, 0);
    EXPECT_TRUE(got_request == request) << got_request.size();
    EXPECT_TRUE(got_reply == reply) << got_reply.size();
  }
  EXPECT_EQ(proxy.connections_accepted(), 2);
  EXPECT_EQ(proxy.bytes(ProxyDirection::kClientToServer), 2 * request.size());
  EXPECT_EQ(proxy.bytes(ProxyDirection::kServerToClient), 2 * reply.size());
  EXPECT_EQ(proxy.cuts(), 0);
}

// Sends data one way through a proxy that flips one byte; checks exactly that byte changed.
void ExpectOneByteFlipped(ProxyDirection direction) {
  const uint64_t offset = 123457;
  Server server;
  FaultProxy proxy("127.0.0.1", server.port, {.flip_offset = offset, .flip_direction = direction});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  const std::string data = RandomBytes(400000, 3);
  int client = Connect(proxy.port());
  int conn = server.Accept();
  // The writer sends `data` and closes; the reader reads it through the proxy.
  bool to_server = direction == ProxyDirection::kClientToServer;
  int writer = to_server ? client : conn, reader = to_server ? conn : client;
  std::thread send_thread([&] {
    EXPECT_EQ(WriteAll(writer, data), 0);
    shutdown(writer, SHUT_WR);
  });
  int error = 0;
  std::string got = ReadAll(reader, &error);
  send_thread.join();
  close(client);
  close(conn);
  EXPECT_EQ(error, 0);
  ASSERT_EQ(got.size(), data.size());
  EXPECT_EQ(CountDifferences(got, data), 1u);
  EXPECT_EQ(static_cast<unsigned char>(got[offset]),
            static_cast<unsigned char>(data[offset] ^ 0xFF));
}

TEST(FaultProxy, FlipsOneByteClientToServer) {
  ExpectOneByteFlipped(ProxyDirection::kClientToServer);
}

TEST(FaultProxy, FlipsOneByteServerToClient) {
  ExpectOneByteFlipped(ProxyDirection::kServerToClient);
}

TEST(FaultProxy, CutWithFinDeliversExactlyNBytesThenEof) {
  const uint64_t cut = 300001;
  Server server;
  FaultProxy proxy("127.0.0.1", server.port, {.cut_after = cut});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  const std::string data = RandomBytes(1 << 20, 4);
  int client = Connect(proxy.port());
  int conn = server.Accept();
  std::thread send_thread([&] { WriteAll(client, data); });  // fails once the proxy cuts
  int error = 0;
  std::string got = ReadAll(conn, &error);
  send_thread.join();
  EXPECT_EQ(error, 0);  // a clean EOF, not a reset
  EXPECT_EQ(got, data.substr(0, cut));
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_EQ(proxy.bytes(ProxyDirection::kClientToServer), cut);
  close(client);
  close(conn);
}

TEST(FaultProxy, CutWithResetMakesBothPeersSeeConnectionReset) {
  const uint64_t cut = 200000;
  Server server;
  FaultProxy proxy(
      "127.0.0.1", server.port,
      {.cut_after = cut, .cut_direction = ProxyDirection::kServerToClient, .cut_with_reset = true});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  int client = Connect(proxy.port());
  int conn = server.Accept();
  int server_error = 0;
  std::thread send_thread([&] {  // keeps writing until the reset reaches it
    const std::string chunk = RandomBytes(1 << 20, 5);
    for (int i = 0; i < 256 && server_error == 0; ++i) server_error = WriteAll(conn, chunk);
  });
  int client_error = 0;
  std::string got = ReadAll(client, &client_error);
  send_thread.join();
  EXPECT_EQ(client_error, ECONNRESET);
  EXPECT_LE(got.size(), cut);
  // The server kept writing: its send fails with a reset (or a broken pipe right after one).
  EXPECT_TRUE(server_error == ECONNRESET || server_error == EPIPE) << server_error;
  EXPECT_EQ(proxy.cuts(), 1);
  close(client);
  close(conn);
}

TEST(FaultProxy, StallsAfterNBytesUntilReleased) {
  const uint64_t stall = 100000;
  Server server;
  FaultProxy proxy("127.0.0.1", server.port, {.stall_after = stall});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  const std::string data = RandomBytes(1 << 20, 6);
  int client = Connect(proxy.port());
  int conn = server.Accept();
  std::thread send_thread([&] {
    EXPECT_EQ(WriteAll(client, data), 0);
    shutdown(client, SHUT_WR);
  });
  int error = 0;
  std::string got = ReadAll(conn, &error, stall);
  EXPECT_EQ(got.size(), stall);
  ASSERT_TRUE(proxy.WaitStalled(seconds(10)));
  EXPECT_EQ(proxy.bytes(ProxyDirection::kClientToServer), stall);
  pollfd p{conn, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 300), 0) << "data arrived while stalled";
  // The other direction is stalled too: a reply does not get through.
  EXPECT_EQ(WriteAll(conn, "reply"), 0);
  EXPECT_FALSE(proxy.WaitForBytes(ProxyDirection::kServerToClient, 1, milliseconds(300)));
  proxy.Release();
  got += ReadAll(conn, &error);
  send_thread.join();
  EXPECT_EQ(error, 0);
  EXPECT_TRUE(got == data) << got.size();
  EXPECT_TRUE(proxy.WaitForBytes(ProxyDirection::kServerToClient, 5, seconds(10)));
  close(client);
  close(conn);
}

TEST(FaultProxy, UnreachableTargetClosesTheClient) {
  int port = 0;
  {
    Server gone;  // a port that was ours and is closed now
    port = gone.port;
  }
  FaultProxy proxy("127.0.0.1", port);
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  int client = Connect(proxy.port());
  int error = 0;
  EXPECT_EQ(ReadAll(client, &error), "");
  EXPECT_EQ(error, ECONNRESET);
  close(client);
}

}  // namespace
}  // namespace zsend::test
