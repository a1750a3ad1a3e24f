// Test support: two connected Channels over a socketpair, named "a" and "b", for tests that
// run both ends of a link in one process (the handshake, FdChannel itself).
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>

#include "transports/fd_channel.h"

namespace zsend::test {

struct ChannelPair {
  std::unique_ptr<Channel> a, b;
};

inline ChannelPair MakeChannelPair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  return {std::make_unique<FdChannel>(UniqueFd(fds[0]), "a"),
          std::make_unique<FdChannel>(UniqueFd(fds[1]), "b")};
}

}  // namespace zsend::test
