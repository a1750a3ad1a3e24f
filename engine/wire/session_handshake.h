// Session handshake: preamble exchange, the Noise handshake and the agreement on the bulk cipher
// and block size (docs/protocol.md sections 3 and 4), then key confirmation (each side sends a
// heartbeat frame and reads the peer's first, so a replayed message 1 never starts a producer
// or a consumer).
//
// IK with static keys for TCP; NN ("anonymous") only for ssh stdio mode, where ssh has already
// authenticated both ends. The payload of each handshake message is a version byte and TLV
// records: direction, cipher offer, cipher choice, block size, dedup window. Everything here runs
// on the calling thread before any other thread touches the Channel.
#pragma once

#include <optional>
#include <vector>

#include "engine/crypto/keys.h"
#include "engine/crypto/noise_crypto.h"
#include "engine/wire/channel.h"
#include "engine/wire/frame.h"

namespace zsend {

struct SessionOptions {
  bool initiator = true;
  bool we_send = true;     // this side sends the stream
  bool anonymous = false;  // Noise NN (ssh stdio); otherwise IK
  std::optional<noise::KeyPair> local_static;
  std::optional<noise::PublicKey> peer;        // initiator with IK
  const AuthorizedKeys* authorized = nullptr;  // responder with IK
  // Responder with IK: accept any initiator key (only `bench --announce`, which moves filler).
  bool accept_any_peer = false;
  // Ciphers this side accepts, in its order of preference (initiator: the offer).
  std::vector<BulkCipher> ciphers;
  uint32_t block_size = 0;  // the sender's block size, carried to the receiver
  // Dedup window (dedup.h): the sender's wish, or the most the receiver will hold. The session
  // uses the smaller of the two; 0 on either side turns dedup off.
  uint64_t dedup_window = 0;
  // Receiver: its --memory. The window it agrees to must leave room there for a ring of four of
  // the sender's blocks (dedup.h DedupWindowThatFits); 0: no such check (tests).
  uint64_t receiver_memory = 0;
  double timeout_seconds = 60;
};

struct Session {
  BulkCipher cipher = BulkCipher::kChaChaPoly;
  noise::CipherKey send_key, receive_key;
  uint32_t block_size = 0;    // the sender's
  uint64_t dedup_window = 0;  // agreed; 0: no dedup
  noise::HashBytes handshake_hash{};
  std::optional<noise::PublicKey> peer;
};

// The ciphers "auto" stands for here: AES-256-GCM first when the CPU has AES instructions,
// ChaCha20-Poly1305; plus none when `allow_none`.
std::vector<BulkCipher> AutoCiphers(bool allow_none);
bool CpuHasAes();

// Runs the whole handshake. kPermissionDenied for anything that means "not the peer we expect"
// (wrong key, unauthorized key, tampered handshake), kUnavailable for a lost connection,
// kFailedPrecondition for incompatible settings (both sides send, no common cipher).
Result<Session> RunHandshake(Channel& channel, const SessionOptions& options);

}  // namespace zsend
