// Frame: the unit of zsend's wire protocol after the handshake (docs/protocol.md section 5).
//
// Every frame is a 16-byte header followed by a sealed body:
//
//   0  type      1 byte   (FrameType)
//   1  flags     1 byte   (data: bit 0 = compressed, bit 1 = dedup references, dedup.h)
//   2  codec     1 byte   (data: CodecFormat id when compressed, else 0)
//   3  reserved  1 byte   0
//   4  length    4 bytes  big-endian, bytes of the body that follows (plaintext + 16-byte tag)
//   8  sequence  8 bytes  big-endian, the frame's number in its lane and direction
//
// The header is the AEAD's associated data, so no field can be altered without the tag failing.
// Two lanes per direction keep parallel sealing simple: data frames are numbered 0, 1, 2... by
// the ring's block order and sealed with nonce = sequence; control frames (end, error,
// heartbeat, status, and a session stream's open, ready and close) are numbered separately and
// sealed with nonce = 2^63 + sequence. A reader demands consecutive numbers in each lane, so a
// dropped, repeated or reordered frame fails.
//
// FrameCipher seals a body in place with the bulk cipher agreed in the handshake, or, for
// cipher "none" (ssh stdio), leaves the payload in the clear and appends the AES-256-GCM tag of
// header and payload taken as associated data (GMAC): the same 16 bytes of tag, the same
// checks, no secrecy.
//
// Values and stateless helpers; a FrameCipher is used by one thread (make one per worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "engine/crypto/noise_crypto.h"

namespace zsend {

inline constexpr size_t kFrameHeaderSize = 16;
inline constexpr size_t kFrameTagSize = 16;
// The largest body a control frame may announce (error text, status with stderr tail).
inline constexpr uint32_t kMaxControlBody = 64 * 1024;
// The largest block size the protocol allows; a data frame body is at most this plus overhead.
inline constexpr uint32_t kMaxBlockSize = 64u << 20;
inline constexpr uint32_t kMaxDataOverhead = 64 * 1024;  // codec framing + tag
// Control frames use nonces from here up; data frames stay below.
inline constexpr uint64_t kControlLane = 1ull << 63;
// A session stops (fails) rather than come near any nonce or per-key limit.
inline constexpr uint64_t kMaxFramesPerLane = 1ull << 40;

enum class FrameType : uint8_t {
  kData = 1,
  kEnd = 2,
  kError = 3,
  kHeartbeat = 4,
  kStatus = 5,
  // Session streams (docs/protocol.md 5.8): the client asks for a stream, the server accepts
  // it, the stream's sender ends it.
  kOpen = 6,
  kReady = 7,
  kClose = 8,
};
const char* FrameTypeName(FrameType type);
inline bool IsControl(FrameType type) {
  return type != FrameType::kData;
}

inline constexpr uint8_t kFlagCompressed = 0x01;
inline constexpr uint8_t kFlagDedup = 0x02;  // the payload (once decompressed) is dedup.h's form

struct FrameHeader {
  FrameType type = FrameType::kData;
  uint8_t flags = 0;
  uint8_t codec = 0;
  uint32_t length = 0;  // body bytes after the header, tag included
  uint64_t sequence = 0;

  uint64_t nonce() const { return IsControl(type) ? kControlLane | sequence : sequence; }
};

void EncodeFrameHeader(const FrameHeader& header, std::byte out[kFrameHeaderSize]);
// Parses and checks a header before anything is allocated for its body: a known type, zero
// reserved bits, a length of at least the tag and at most `max_data_body` (data) or
// kMaxControlBody (control). kDataLoss naming the field otherwise.
Result<FrameHeader> DecodeFrameHeader(const std::byte in[kFrameHeaderSize], uint32_t max_data_body);

enum class BulkCipher : uint8_t { kNone = 0, kAesGcm = 1, kChaChaPoly = 2 };
const char* BulkCipherName(BulkCipher cipher);
// "aes-256-gcm", "chacha20-poly1305", "none".
Result<BulkCipher> ParseBulkCipher(const std::string& text);

class FrameCipher {
 public:
  FrameCipher(BulkCipher cipher, const noise::CipherKey& key);
  BulkCipher cipher() const { return cipher_; }

  // Seals `plaintext_size` bytes at frame + kFrameHeaderSize in place, writing the tag after
  // them; the header at `frame` (already encoded, length = plaintext_size + tag) is the AD.
  Status Seal(std::byte* frame, size_t plaintext_size);
  // Opens the body at frame + kFrameHeaderSize in place; returns the plaintext size.
  // kDataLoss when the tag does not verify.
  Result<size_t> Open(std::byte* frame, const FrameHeader& header);

 private:
  BulkCipher cipher_;
  noise::CipherKey key_;
  std::unique_ptr<noise::Aead> aead_;  // AES-256-GCM for kNone too (authentication only)
};

// Builds a whole control frame (header, sealed body) for `payload`.
Result<std::string> BuildControlFrame(FrameCipher& cipher, FrameType type, uint64_t sequence,
                                      const std::string& payload);

// The digest of the whole raw stream the end frame carries (see docs/protocol.md 5.3).
inline constexpr const char* kStreamDigest = "xxh3";
inline constexpr size_t kStreamDigestSize = 16;

// Payloads of the control frames.
struct EndPayload {
  uint64_t total_bytes = 0;
  std::string digest;  // kStreamDigestSize raw bytes: XXH3-128 of the raw stream, big-endian
};
std::string EncodeEnd(const EndPayload& end);
Result<EndPayload> DecodeEnd(const std::string& payload);

// Why a side gave up; the far side maps it to its exit code.
enum class ErrorReason : uint8_t {
  kOther = 0,
  kProducerFailed = 1,
  kConsumerFailed = 2,
  kIntegrity = 3,
  kTimeout = 4,
  kStopped = 5,
  kAuthentication = 6,
  kRefused = 7,  // a session stream's far command is not served (docs/protocol.md 5.8)
};
struct ErrorPayload {
  ErrorReason reason = ErrorReason::kOther;
  std::string message;
};
std::string EncodeError(const ErrorPayload& error);
Result<ErrorPayload> DecodeError(const std::string& payload);

struct StatusPayload {
  int32_t consumer_exit = 0;  // 0..255, or 128 + signal
  uint64_t bytes_written = 0;
  std::string stderr_tail;
};
std::string EncodeStatus(const StatusPayload& status);
Result<StatusPayload> DecodeStatus(const std::string& payload);

}  // namespace zsend
