// HandshakeState: runs one Noise handshake (spec section 5.3) for a protocol such as
// Noise_IK_25519_ChaChaPoly_BLAKE2b, then hands over the transport CipherStates.
//
// The caller alternates WriteMessage/ReadMessage as the pattern says (IsMyTurnToWrite()), moves
// the bytes itself, and calls Finish() once IsFinished(). Authorization is the caller's: after
// the message that carries the peer's static key, remote_static() holds it and the caller
// rejects keys it does not know before sending anything further (for IK the responder checks
// after reading message 1).
//
// Any failure is final: later calls fail too. Every failure to read a peer's message (truncated,
// forged, wrong keys) is kPermissionDenied: the peer could not be authenticated. Owns its keys
// (wiped on destruction). One thread at a time.
#pragma once

#include <optional>
#include <string>

#include "engine/crypto/noise_cipher_state.h"
#include "engine/crypto/noise_crypto.h"
#include "engine/crypto/noise_patterns.h"
#include "engine/crypto/noise_symmetric_state.h"

namespace zsend::noise {

enum class Role { kInitiator, kResponder };

struct HandshakeConfig {
  std::string protocol_name = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
  Role role = Role::kInitiator;
  Bytes prologue;                          // both sides must pass the same bytes
  std::optional<KeyPair> local_static;     // required when the pattern sends or pre-knows s
  std::optional<PublicKey> remote_static;  // the peer's s when the pattern pre-knows it
  // Test vectors only: use this ephemeral key instead of a fresh random one.
  std::optional<KeyPair> fixed_ephemeral;
};

// What a finished handshake yields.
struct TransportState {
  CipherState send;
  CipherState receive;
  HashBytes handshake_hash{};              // channel binding: equal on both sides
  std::optional<PublicKey> remote_static;  // the peer's static key, when the pattern has one
};

class HandshakeState {
 public:
  // Fails with kInvalidArgument for an unsupported protocol or a missing key.
  static Result<HandshakeState> Create(const HandshakeConfig& config);
  HandshakeState(HandshakeState&&) = default;

  bool IsMyTurnToWrite() const;
  bool IsFinished() const { return next_message_ == protocol_.pattern->messages.size(); }

  // Builds the next message carrying `payload` (encrypted once a key exists).
  Result<Bytes> WriteMessage(ByteSpan payload);
  // Consumes the peer's next message and returns its payload.
  Result<Bytes> ReadMessage(ByteSpan message);

  // The peer's static key once received or pre-known; nullopt before.
  const std::optional<PublicKey>& remote_static() const { return remote_static_; }
  const HashBytes& handshake_hash() const { return symmetric_.handshake_hash(); }
  const Protocol& protocol() const { return protocol_; }

  // After the last message: Split() oriented for this side. Call once.
  Result<TransportState> Finish();

 private:
  HandshakeState(Protocol protocol, const HandshakeConfig& config);
  Status CheckKeys() const;
  void MixPreMessages();
  Status MixDh(Token token);
  Result<Bytes> Fail(Status status);

  Protocol protocol_;
  Role role_;
  SymmetricState symmetric_;
  std::optional<KeyPair> local_static_, local_ephemeral_, fixed_ephemeral_;
  std::optional<PublicKey> remote_static_, remote_ephemeral_;
  size_t next_message_ = 0;
  bool failed_ = false;
  bool finished_ = false;
};

}  // namespace zsend::noise
