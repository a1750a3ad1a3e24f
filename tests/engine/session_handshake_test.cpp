// The session handshake in process over a socketpair: agreement, refusals, key confirmation.
#include "engine/wire/session_handshake.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>

#include "engine/codec/dedup.h"
#include "tests/support/channel_pair.h"

namespace zsend {
namespace {

using test::MakeChannelPair;

struct Sides {
  Result<Session> initiator = Internal("not run");
  Result<Session> responder = Internal("not run");
};

Sides RunBoth(const SessionOptions& init, const SessionOptions& resp) {
  test::ChannelPair p = MakeChannelPair();
  Sides s;
  std::thread t([&] {
    s.responder = RunHandshake(*p.b, resp);
    if (!s.responder.ok()) p.b.reset();  // close, as the program does
  });
  s.initiator = RunHandshake(*p.a, init);
  if (!s.initiator.ok()) p.a->Stop();
  t.join();
  return s;
}

class TransferHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    authorized_.Add(sender_.public_key);
    init_.initiator = true;
    init_.we_send = true;
    init_.local_static = sender_;
    init_.peer = receiver_.public_key;
    init_.ciphers = AutoCiphers(false);
    init_.block_size = 1 << 20;
    init_.timeout_seconds = 5;
    resp_.initiator = false;
    resp_.we_send = false;
    resp_.local_static = receiver_;
    resp_.authorized = &authorized_;
    resp_.ciphers = AutoCiphers(false);
    resp_.timeout_seconds = 5;
  }
  noise::KeyPair sender_ = noise::KeyPair::Generate();
  noise::KeyPair receiver_ = noise::KeyPair::Generate();
  AuthorizedKeys authorized_;
  AuthorizedKeys authorized_for_receiver_;
  SessionOptions init_, resp_;
};

TEST_F(TransferHandshake, AgreesOnCipherKeysAndBlockSize) {
  Sides s = RunBoth(init_, resp_);
  ASSERT_TRUE(s.initiator.ok()) << s.initiator.status().message();
  ASSERT_TRUE(s.responder.ok()) << s.responder.status().message();
  EXPECT_EQ(s.initiator->cipher, CpuHasAes() ? BulkCipher::kAesGcm : BulkCipher::kChaChaPoly);
  EXPECT_EQ(s.responder->cipher, s.initiator->cipher);
  EXPECT_EQ(s.responder->block_size, 1u << 20);
  EXPECT_EQ(s.initiator->handshake_hash, s.responder->handshake_hash);
  EXPECT_EQ(0, std::memcmp(s.initiator->send_key.data(), s.responder->receive_key.data(), 32));
  EXPECT_EQ(0, std::memcmp(s.initiator->receive_key.data(), s.responder->send_key.data(), 32));
  EXPECT_NE(0, std::memcmp(s.initiator->send_key.data(), s.initiator->receive_key.data(), 32));
  ASSERT_TRUE(s.responder->peer.has_value());
  EXPECT_EQ(*s.responder->peer, sender_.public_key);
}

TEST_F(TransferHandshake, DedupWindowIsTheSmallerWishAndZeroWhenEitherSideSaysNo) {
  struct Case {
    uint64_t sender, receiver, agreed;
  };
  for (const Case c : {Case{128u << 20, 64u << 20, 64u << 20}, Case{8u << 20, 64u << 20, 8u << 20},
                       Case{128u << 20, 0, 0}, Case{0, 64u << 20, 0}}) {
    init_.dedup_window = c.sender;
    resp_.dedup_window = c.receiver;
    Sides s = RunBoth(init_, resp_);
    ASSERT_TRUE(s.initiator.ok()) << s.initiator.status().message();
    ASSERT_TRUE(s.responder.ok()) << s.responder.status().message();
    EXPECT_EQ(s.initiator->dedup_window, c.agreed) << c.sender << " / " << c.receiver;
    EXPECT_EQ(s.responder->dedup_window, c.agreed) << c.sender << " / " << c.receiver;
  }
}

TEST_F(TransferHandshake, AResponderReceiverOffersOnlyTheWindowItsMemoryHolds) {
  init_.dedup_window = 128u << 20;  // the sender initiates with 1 MiB blocks
  resp_.dedup_window = 128u << 20;
  resp_.receiver_memory = 64u << 20;
  Sides s = RunBoth(init_, resp_);
  ASSERT_TRUE(s.initiator.ok()) << s.initiator.status().message();
  ASSERT_TRUE(s.responder.ok()) << s.responder.status().message();
  const uint64_t fits = DedupWindowThatFits(128u << 20, 64u << 20, 1u << 20);
  EXPECT_GT(fits, 0u);
  EXPECT_LT(fits, 64u << 20);
  EXPECT_EQ(s.initiator->dedup_window, fits);
  EXPECT_EQ(s.responder->dedup_window, fits);
}

TEST_F(TransferHandshake, AnInitiatorReceiverWhoseWindowCannotHoldTheBlocksRefuses) {
  // The receiver connects and offers before it learns the sender's 16 MiB blocks.
  SessionOptions recv = resp_, send = init_;
  recv.initiator = true;
  recv.local_static = receiver_;
  recv.peer = sender_.public_key;
  recv.authorized = nullptr;
  recv.dedup_window = 128u << 20;
  recv.receiver_memory = 160u << 20;
  send.initiator = false;
  send.local_static = sender_;
  send.peer.reset();
  send.authorized = &authorized_for_receiver_;
  send.block_size = 16u << 20;
  send.dedup_window = 128u << 20;
  authorized_for_receiver_.Add(receiver_.public_key);
  Sides s = RunBoth(recv, send);
  ASSERT_FALSE(s.initiator.ok());
  EXPECT_EQ(s.initiator.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.initiator.status().message().find("raise -m"), std::string::npos)
      << s.initiator.status().message();
  EXPECT_FALSE(s.responder.ok());
  // Without dedup the same pair agrees.
  recv.dedup_window = 0;
  Sides again = RunBoth(recv, send);
  EXPECT_TRUE(again.initiator.ok()) << again.initiator.status().message();
}

TEST_F(TransferHandshake, ChaChaWhenTheResponderRefusesAes) {
  init_.ciphers = {BulkCipher::kAesGcm, BulkCipher::kChaChaPoly};
  resp_.ciphers = {BulkCipher::kChaChaPoly};
  Sides s = RunBoth(init_, resp_);
  ASSERT_TRUE(s.initiator.ok()) << s.initiator.status().message();
  EXPECT_EQ(s.initiator->cipher, BulkCipher::kChaChaPoly);
}

TEST_F(TransferHandshake, UnauthorizedInitiatorRefusedOnBothSides) {
  init_.local_static = noise::KeyPair::Generate();  // not in authorized_
  Sides s = RunBoth(init_, resp_);
  ASSERT_FALSE(s.responder.ok());
  EXPECT_EQ(s.responder.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.responder.status().message().find("is not authorized"), std::string::npos);
  ASSERT_FALSE(s.initiator.ok());
  EXPECT_EQ(s.initiator.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(TransferHandshake, WrongPeerKeyRefused) {
  init_.peer = noise::KeyPair::Generate().public_key;
  Sides s = RunBoth(init_, resp_);
  EXPECT_EQ(s.responder.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.initiator.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(TransferHandshake, NoneOnlyWhenBothAllowIt) {
  init_.ciphers = {BulkCipher::kNone};
  Sides refused = RunBoth(init_, resp_);
  EXPECT_EQ(refused.responder.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(refused.initiator.ok());
  resp_.ciphers = AutoCiphers(true);
  Sides agreed = RunBoth(init_, resp_);
  ASSERT_TRUE(agreed.initiator.ok()) << agreed.initiator.status().message();
  EXPECT_EQ(agreed.initiator->cipher, BulkCipher::kNone);
}

TEST_F(TransferHandshake, BothSendersRefused) {
  resp_.we_send = true;
  resp_.block_size = 1 << 20;
  Sides s = RunBoth(init_, resp_);
  ASSERT_FALSE(s.responder.ok());
  EXPECT_NE(s.responder.status().message().find("both sides want to send"), std::string::npos);
}

TEST_F(TransferHandshake, AnonymousForSshStdio) {
  init_.anonymous = resp_.anonymous = true;
  init_.local_static.reset();
  resp_.local_static.reset();
  Sides s = RunBoth(init_, resp_);
  ASSERT_TRUE(s.initiator.ok()) << s.initiator.status().message();
  ASSERT_TRUE(s.responder.ok()) << s.responder.status().message();
  EXPECT_EQ(s.initiator->handshake_hash, s.responder->handshake_hash);
}

TEST_F(TransferHandshake, NotAZsendPeer) {
  test::ChannelPair p = MakeChannelPair();
  std::thread t([&] {
    const char junk[] = "SSH-2.0-OpenSSH_9.2\r\n";
    (void)p.b->WriteAll(junk, sizeof junk - 1);
  });
  Result<Session> s = RunHandshake(*p.a, init_);
  t.join();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a zsend peer"), std::string::npos);
}

}  // namespace
}  // namespace zsend
