// transports/fd_channel.h: the engine's Channel over a socket or a pair of pipes.
#include "transports/fd_channel.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tests/support/channel_pair.h"

namespace zsend {
namespace {

TEST(FdChannel, ReadExactCountsTheBytesBeforeThePeerClosed) {
  test::ChannelPair p = test::MakeChannelPair();
  ASSERT_TRUE(p.a->WriteAll("abc", 3).ok());
  p.a->CloseWrite();
  char buf[10];
  size_t got = 99;
  Status s = p.b->ReadExact(buf, sizeof buf, &got);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "b: connection closed by the peer");
  EXPECT_EQ(got, 3u);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

TEST(FdChannel, PipesCarryBothDirectionsAndCloseWriteIsTheEnd) {
  int there[2], back[2];
  ASSERT_EQ(pipe(there), 0);
  ASSERT_EQ(pipe(back), 0);
  FdChannel near(UniqueFd(back[0]), UniqueFd(there[1]), "near");
  FdChannel far(UniqueFd(there[0]), UniqueFd(back[1]), "far");
  ASSERT_TRUE(near.WriteAll("ping", 4).ok());
  char buf[4];
  ASSERT_TRUE(far.ReadExact(buf, 4).ok());
  EXPECT_EQ(std::string(buf, 4), "ping");
  ASSERT_TRUE(far.WriteAll("pong", 4).ok());
  far.CloseWrite();
  ASSERT_TRUE(near.ReadExact(buf, 4).ok());
  EXPECT_EQ(std::string(buf, 4), "pong");
  Result<size_t> end = near.ReadSome(buf, 4);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, 0u);
}

TEST(FdChannel, StopEndsABlockedReadAndDeadlineAnIdleOne) {
  test::ChannelPair p = test::MakeChannelPair();
  char buf[1];
  Status stopped;
  std::thread reader([&] { stopped = p.b->ReadExact(buf, 1); });
  p.b->Stop();
  reader.join();
  EXPECT_EQ(stopped.code(), StatusCode::kCancelled);
  EXPECT_TRUE(p.b->stopped());

  p.a->SetDeadline(0.2);
  EXPECT_EQ(p.a->ReadExact(buf, 1).code(), StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace zsend
