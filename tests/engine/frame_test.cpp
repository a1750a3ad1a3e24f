// Frames: header encoding and limits, sealing and opening with every bulk cipher, tampering.
#include "engine/wire/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace zsend {
namespace {

noise::CipherKey KeyOf(uint8_t fill) {
  noise::CipherKey key;
  std::memset(key.data(), fill, key.size());
  return key;
}

std::vector<std::byte> DataFrame(FrameCipher& cipher, uint64_t sequence, const std::string& text) {
  std::vector<std::byte> frame(kFrameHeaderSize + text.size() + kFrameTagSize);
  FrameHeader h{FrameType::kData, 0, 0, static_cast<uint32_t>(text.size() + kFrameTagSize),
                sequence};
  EncodeFrameHeader(h, frame.data());
  std::memcpy(frame.data() + kFrameHeaderSize, text.data(), text.size());
  EXPECT_TRUE(cipher.Seal(frame.data(), text.size()).ok());
  return frame;
}

TEST(TransferFrame, HeaderRoundTrip) {
  FrameHeader h{FrameType::kData, kFlagCompressed, 1, 12345, 0x12345678ABull};
  std::byte raw[kFrameHeaderSize];
  EncodeFrameHeader(h, raw);
  EXPECT_EQ(static_cast<uint8_t>(raw[0]), 1);
  EXPECT_EQ(static_cast<uint8_t>(raw[11]), 0x12);  // big-endian sequence
  EXPECT_EQ(static_cast<uint8_t>(raw[15]), 0xAB);
  Result<FrameHeader> back = DecodeFrameHeader(raw, 1 << 20);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->type, FrameType::kData);
  EXPECT_EQ(back->flags, kFlagCompressed);
  EXPECT_EQ(back->codec, 1);
  EXPECT_EQ(back->length, 12345u);
  EXPECT_EQ(back->sequence, 0x12345678ABull);
  EXPECT_EQ(back->nonce(), back->sequence);
}

TEST(TransferFrame, ControlFramesUseTheirOwnNonceLane) {
  FrameHeader data{FrameType::kData, 0, 0, 16, 7};
  FrameHeader control{FrameType::kHeartbeat, 0, 0, 16, 7};
  EXPECT_NE(data.nonce(), control.nonce());
  EXPECT_EQ(control.nonce(), kControlLane | 7);
}

TEST(TransferFrame, OversizedLengthRejectedFromTheHeaderAlone) {
  std::byte raw[kFrameHeaderSize];
  // A data frame one byte over the negotiated limit; the body is never read or allocated.
  EncodeFrameHeader({FrameType::kData, 0, 0, (1u << 20) + 1, 0}, raw);
  Result<FrameHeader> h = DecodeFrameHeader(raw, 1u << 20);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(h.status().message().find("outside the limit"), std::string::npos);
  // 4 GiB - 1 announced by a hostile peer.
  EncodeFrameHeader({FrameType::kData, 0, 0, UINT32_MAX, 0}, raw);
  EXPECT_FALSE(DecodeFrameHeader(raw, kMaxBlockSize + kMaxDataOverhead).ok());
  // Control frames have their own, small limit.
  EncodeFrameHeader({FrameType::kError, 0, 0, kMaxControlBody + 1, 0}, raw);
  EXPECT_FALSE(DecodeFrameHeader(raw, kMaxBlockSize).ok());
  // Shorter than a tag.
  EncodeFrameHeader({FrameType::kHeartbeat, 0, 0, kFrameTagSize - 1, 0}, raw);
  EXPECT_FALSE(DecodeFrameHeader(raw, kMaxBlockSize).ok());
}

TEST(TransferFrame, UnknownTypeAndReservedBitsRejected) {
  std::byte raw[kFrameHeaderSize];
  EncodeFrameHeader({FrameType::kData, 0, 0, 100, 0}, raw);
  raw[0] = std::byte{9};
  EXPECT_FALSE(DecodeFrameHeader(raw, 1 << 20).ok());
  EncodeFrameHeader({FrameType::kData, 0, 0, 100, 0}, raw);
  raw[3] = std::byte{1};
  EXPECT_FALSE(DecodeFrameHeader(raw, 1 << 20).ok());
  EncodeFrameHeader({FrameType::kData, 0x80, 0, 100, 0}, raw);
  EXPECT_FALSE(DecodeFrameHeader(raw, 1 << 20).ok());
  EncodeFrameHeader({FrameType::kData, 0, 0, 100, kMaxFramesPerLane}, raw);
  EXPECT_FALSE(DecodeFrameHeader(raw, 1 << 20).ok());
}

class TransferFrameCipher : public ::testing::TestWithParam<BulkCipher> {};

TEST_P(TransferFrameCipher, SealOpenRoundTrip) {
  FrameCipher sealer(GetParam(), KeyOf(1)), opener(GetParam(), KeyOf(1));
  std::vector<std::byte> frame = DataFrame(sealer, 3, "the quick brown fox");
  if (GetParam() != BulkCipher::kNone) {
    EXPECT_NE(std::memcmp(frame.data() + kFrameHeaderSize, "the quick", 9), 0) << "not encrypted";
  }
  Result<FrameHeader> h = DecodeFrameHeader(frame.data(), 1 << 20);
  ASSERT_TRUE(h.ok());
  Result<size_t> n = opener.Open(frame.data(), *h);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(frame.data()) + kFrameHeaderSize, *n),
            "the quick brown fox");
}

TEST_P(TransferFrameCipher, EveryTamperedByteFails) {
  FrameCipher sealer(GetParam(), KeyOf(2)), opener(GetParam(), KeyOf(2));
  const std::vector<std::byte> good = DataFrame(sealer, 5, "payload bytes");
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<std::byte> bad = good;
    bad[i] ^= std::byte{0x01};
    Result<FrameHeader> h = DecodeFrameHeader(bad.data(), 1 << 20);
    if (!h.ok()) continue;                                      // the header check caught it
    if (h->length != good.size() - kFrameHeaderSize) continue;  // length now points elsewhere
    EXPECT_FALSE(opener.Open(bad.data(), *h).ok()) << "flipped byte " << i << " went unnoticed";
  }
}

TEST_P(TransferFrameCipher, WrongKeyOrReplayedSequenceFails) {
  FrameCipher sealer(GetParam(), KeyOf(3)), other(GetParam(), KeyOf(4));
  std::vector<std::byte> frame = DataFrame(sealer, 9, "abc");
  Result<FrameHeader> h = DecodeFrameHeader(frame.data(), 1 << 20);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(other.Open(frame.data(), *h).status().code(), StatusCode::kDataLoss);
  // The same body under another sequence number (a replay into another slot).
  FrameHeader moved = *h;
  moved.sequence = 10;
  EncodeFrameHeader(moved, frame.data());
  FrameCipher opener(GetParam(), KeyOf(3));
  EXPECT_FALSE(opener.Open(frame.data(), moved).ok());
}

INSTANTIATE_TEST_SUITE_P(TransferCiphers, TransferFrameCipher,
                         ::testing::Values(BulkCipher::kAesGcm, BulkCipher::kChaChaPoly,
                                           BulkCipher::kNone),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case BulkCipher::kAesGcm:
                               return std::string("AesGcm");
                             case BulkCipher::kChaChaPoly:
                               return std::string("ChaChaPoly");
                             default:
                               return std::string("None");
                           }
                         });

TEST(TransferFrame, ControlPayloadsRoundTrip) {
  Result<EndPayload> end = DecodeEnd(EncodeEnd({123456789, std::string(kStreamDigestSize, 'x')}));
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->total_bytes, 123456789u);
  EXPECT_EQ(end->digest, std::string(kStreamDigestSize, 'x'));
  EXPECT_FALSE(DecodeEnd("short").ok());
  Result<ErrorPayload> err = DecodeError(EncodeError({ErrorReason::kProducerFailed, "boom"}));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->reason, ErrorReason::kProducerFailed);
  EXPECT_EQ(err->message, "boom");
  Result<StatusPayload> st = DecodeStatus(EncodeStatus({143, 42, "cannot receive"}));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->consumer_exit, 143);
  EXPECT_EQ(st->bytes_written, 42u);
  EXPECT_EQ(st->stderr_tail, "cannot receive");
}

TEST(TransferFrame, BuildControlFrameOpens) {
  FrameCipher sealer(BulkCipher::kChaChaPoly, KeyOf(5)), opener(BulkCipher::kChaChaPoly, KeyOf(5));
  Result<std::string> frame = BuildControlFrame(sealer, FrameType::kError, 4, "text");
  ASSERT_TRUE(frame.ok());
  auto* p = reinterpret_cast<std::byte*>(frame->data());
  Result<FrameHeader> h = DecodeFrameHeader(p, 0);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, FrameType::kError);
  EXPECT_EQ(h->sequence, 4u);
  Result<size_t> n = opener.Open(p, *h);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(frame->data() + kFrameHeaderSize, *n), "text");
}

}  // namespace
}  // namespace zsend
