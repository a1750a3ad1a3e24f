// transports/link.h: OpenLink over real TCP on loopback and a real shell for ssh's command line,
// with a stand-in handshake (one byte each way) so the test is about links, not Noise.
#include "transports/link.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "tests/support/subprocess.h"
#include "transports/tcp.h"

namespace zsend {
namespace {

// The initiator sends 'i' and expects 'r'; the responder the other way round. A responder that
// reads anything else refuses the peer, as a real handshake refuses a wrong key.
Result<Session> StandInHandshake(Channel& channel, bool initiator) {
  char got = 0;
  const char mine = initiator ? 'i' : 'r', theirs = initiator ? 'r' : 'i';
  if (initiator) ZSEND_RETURN_IF_ERROR(channel.WriteAll(&mine, 1));
  ZSEND_RETURN_IF_ERROR(channel.ReadExact(&got, 1));
  if (got != theirs) return Status(StatusCode::kPermissionDenied, "not the expected peer");
  if (!initiator) ZSEND_RETURN_IF_ERROR(channel.WriteAll(&mine, 1));
  Session session;
  session.block_size = initiator ? 1 : 2;
  return session;
}

LinkSpec Spec(LinkKind kind, const std::string& address) {
  LinkSpec spec;
  spec.kind = kind;
  spec.address = address;
  return spec;
}

LinkHooks Hooks(
    std::function<void(const std::string&)> say = [](const std::string&) {},
    std::function<bool()> stop = [] { return false; }) {
  LinkHooks hooks;
  hooks.handshake = [](Channel& c, bool initiator, double) {
    return StandInHandshake(c, initiator);
  };
  hooks.stop = std::move(stop);
  hooks.say = std::move(say);
  return hooks;
}

TEST(Link, ListenAndConnectMeetAndCarryBytes) {
  std::promise<std::string> port;
  std::once_flag said;
  LinkSpec listen = Spec(LinkKind::kListen, "127.0.0.1:0");
  auto say = [&](const std::string& line) {
    std::call_once(said, [&] { port.set_value(line.substr(line.rfind(' ') + 1)); });
  };
  LinkFailure listen_failure = LinkFailure::kLink;
  Result<Link> listener = Internal("not run");
  std::thread t([&] { listener = OpenLink(listen, Hooks(say), &listen_failure); });
  LinkSpec connect = Spec(LinkKind::kConnect, "127.0.0.1:" + port.get_future().get());
  connect.timeout_seconds = 30;
  LinkFailure connect_failure = LinkFailure::kLink;
  Result<Link> connector = OpenLink(connect, Hooks(), &connect_failure);
  t.join();
  ASSERT_TRUE(connector.ok()) << connector.status().message();
  ASSERT_TRUE(listener.ok()) << listener.status().message();
  EXPECT_EQ(connect_failure, LinkFailure::kNone);
  EXPECT_EQ(listen_failure, LinkFailure::kNone);
  EXPECT_EQ(connector->session.block_size, 1u);  // the sessions the handshakes returned
  EXPECT_EQ(listener->session.block_size, 2u);
  EXPECT_EQ(connector->channel->name(), "tcp " + connect.address);
  ASSERT_TRUE(connector->channel->WriteAll("data", 4).ok());
  char buf[4];
  ASSERT_TRUE(listener->channel->ReadExact(buf, 4).ok());
  EXPECT_EQ(std::string(buf, 4), "data");
  connector->Close(false);
  listener->Close(false);
}

TEST(Link, SaysWhereItFailed) {
  // Nobody listens on a port we just had and closed: the link fails, not the handshake.
  Result<TcpListener> closed = TcpListener::Listen("127.0.0.1:0", TcpOptions{0, 0, 0});
  ASSERT_TRUE(closed.ok());
  const std::string address = "127.0.0.1:" + std::to_string(closed->port());
  closed = Internal("closed");
  LinkFailure failure = LinkFailure::kNone;
  Result<Link> link = OpenLink(Spec(LinkKind::kConnect, address), Hooks(), &failure);
  EXPECT_FALSE(link.ok());
  EXPECT_EQ(failure, LinkFailure::kLink);

  // A listener told to stop while it waits.
  link = OpenLink(Spec(LinkKind::kListen, "127.0.0.1:0"),
                  Hooks([](const std::string&) {}, [] { return true; }), &failure);
  EXPECT_EQ(link.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(failure, LinkFailure::kStopped);
}

TEST(Link, SshCommandQuotesTheFarCommandForItsShell) {
  SshSpec spec{"backup-host", "2222", {"StrictHostKeyChecking=no"},
               "printf",      "%s|",  {"--exec", "zfs recv 'tank/a b'", "$HOME;`x`"}};
  std::vector<std::string> argv = SshCommand(spec);
  const std::vector<std::string> head = {"ssh",
                                         "-e",
                                         "none",
                                         "-o",
                                         "BatchMode=yes",
                                         "-p",
                                         "2222",
                                         "-o",
                                         "StrictHostKeyChecking=no",
                                         "--",
                                         "backup-host"};
  ASSERT_EQ(argv.size(), head.size() + 1);
  EXPECT_EQ(std::vector<std::string>(argv.begin(), argv.end() - 1), head);
  // The far side's login shell runs the last word: it must get back every word exactly.
  test::RunResult r = test::Run({"sh", "-c", argv.back()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "--stdio|--exec|zfs recv 'tank/a b'|$HOME;`x`|");
}

}  // namespace
}  // namespace zsend
