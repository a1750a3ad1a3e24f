// How a handshake runs (Noise rev 34, section 5.3).
//
// Both sides start from h = ck = the protocol name (zero-padded to 64 bytes), mix in the
// prologue and then any pre-known static keys (initiator's first). Each message pattern is a
// token list processed in order by the writer and, symmetrically, by the reader:
//   e   writer sends a fresh ephemeral public key in clear and both mix it into h;
//   s   writer sends its static public key through EncryptAndHash (encrypted once any DH has
//       happened, so 32 + 16 bytes; in clear before), the reader learns remote_static();
//   ee, es, se, ss   both compute the same DH (the first letter is the initiator's key, the
//       second the responder's) and MixKey() it, which rekeys the handshake cipher.
// The payload follows, through EncryptAndHash. Because every ciphertext is hashed into h and h is
// the associated data of the next encryption, any change to any byte, the prologue or a key
// makes the next decryption fail. After the last message Split() derives the transport keys.
#include "engine/crypto/noise_handshake.h"

#include <algorithm>

namespace zsend::noise {
namespace {

bool Contains(const std::vector<Token>& tokens, Token token) {
  return std::find(tokens.begin(), tokens.end(), token) != tokens.end();
}

Status Unauthenticated(const Status& cause) {
  return Status(StatusCode::kPermissionDenied, "Noise handshake failed: " + cause.message());
}

}  // namespace

HandshakeState::HandshakeState(Protocol protocol, const HandshakeConfig& config)
    : protocol_(std::move(protocol)),
      role_(config.role),
      symmetric_(protocol_.name, protocol_.cipher),
      local_static_(config.local_static),
      fixed_ephemeral_(config.fixed_ephemeral),
      remote_static_(config.remote_static) {}

Result<HandshakeState> HandshakeState::Create(const HandshakeConfig& config) {
  Result<Protocol> protocol = ParseProtocolName(config.protocol_name);
  if (!protocol.ok()) return protocol.status();
  HandshakeState state(*protocol, config);
  ZSEND_RETURN_IF_ERROR(state.CheckKeys());
  state.symmetric_.MixHash(config.prologue);
  state.MixPreMessages();
  return state;
}

Status HandshakeState::CheckKeys() const {
  const HandshakePattern& pattern = *protocol_.pattern;
  const bool initiator = role_ == Role::kInitiator;
  const std::vector<Token>& my_pre =
      initiator ? pattern.initiator_pre_message : pattern.responder_pre_message;
  const std::vector<Token>& peer_pre =
      initiator ? pattern.responder_pre_message : pattern.initiator_pre_message;
  bool need_local_static = Contains(my_pre, Token::kS);
  for (size_t i = 0; i < pattern.messages.size(); ++i) {
    const bool mine = (i % 2 == 0) == initiator;
    for (Token token : pattern.messages[i]) {
      if ((token == Token::kS && mine) || token == Token::kSS ||
          (token == Token::kES && !initiator) || (token == Token::kSE && initiator)) {
        need_local_static = true;
      }
    }
  }
  const bool peer_static_known = Contains(peer_pre, Token::kS);
  const std::string where = " for " + protocol_.name;
  if (need_local_static && !local_static_)
    return InvalidArgument("a local static key is needed" + where);
  if (peer_static_known && !remote_static_) {
    return InvalidArgument("the peer's static public key must be known in advance" + where);
  }
  if (!peer_static_known && remote_static_) {
    return InvalidArgument("the peer's static key is learned during the handshake" + where +
                           "; compare remote_static() afterwards instead");
  }
  return Status::Ok();
}

void HandshakeState::MixPreMessages() {
  const HandshakePattern& pattern = *protocol_.pattern;
  const bool initiator = role_ == Role::kInitiator;
  // The initiator's pre-message keys first, then the responder's (spec 5.3, Initialize()).
  if (Contains(pattern.initiator_pre_message, Token::kS)) {
    symmetric_.MixHash(initiator ? local_static_->public_key : *remote_static_);
  }
  if (Contains(pattern.responder_pre_message, Token::kS)) {
    symmetric_.MixHash(initiator ? *remote_static_ : local_static_->public_key);
  }
}

bool HandshakeState::IsMyTurnToWrite() const {
  return !IsFinished() && (next_message_ % 2 == 0) == (role_ == Role::kInitiator);
}

Status HandshakeState::MixDh(Token token) {
  const bool initiator = role_ == Role::kInitiator;
  const std::optional<KeyPair>* mine = nullptr;
  const std::optional<PublicKey>* theirs = nullptr;
  switch (token) {
    case Token::kEE:
      mine = &local_ephemeral_, theirs = &remote_ephemeral_;
      break;
    case Token::kES:
      mine = initiator ? &local_ephemeral_ : &local_static_;
      theirs = initiator ? &remote_static_ : &remote_ephemeral_;
      break;
    case Token::kSE:
      mine = initiator ? &local_static_ : &local_ephemeral_;
      theirs = initiator ? &remote_ephemeral_ : &remote_static_;
      break;
    case Token::kSS:
      mine = &local_static_, theirs = &remote_static_;
      break;
    default:
      return Internal("MixDh called with a key token");
  }
  if (!mine->has_value() || !theirs->has_value()) {
    return Internal("Noise pattern " + protocol_.pattern->name + " uses a key not yet known");
  }
  Result<SecretArray<kDhLen>> shared = Dh((*mine)->private_key, **theirs);
  if (!shared.ok()) return shared.status();
  symmetric_.MixKey(shared->span());
  return Status::Ok();
}

Result<Bytes> HandshakeState::Fail(Status status) {
  failed_ = true;
  return status;
}

Result<Bytes> HandshakeState::WriteMessage(ByteSpan payload) {
  if (failed_) return FailedPrecondition("Noise handshake already failed");
  if (!IsMyTurnToWrite()) return FailedPrecondition("Noise handshake: not our turn to write");
  Bytes message;
  for (Token token : protocol_.pattern->messages[next_message_]) {
    if (token == Token::kE) {
      local_ephemeral_ = fixed_ephemeral_ ? *fixed_ephemeral_ : KeyPair::Generate();
      const PublicKey& e = local_ephemeral_->public_key;
      message.insert(message.end(), e.begin(), e.end());
      symmetric_.MixHash(e);
    } else if (token == Token::kS) {
      Result<Bytes> sealed = symmetric_.EncryptAndHash(local_static_->public_key);
      if (!sealed.ok()) return Fail(sealed.status());
      message.insert(message.end(), sealed->begin(), sealed->end());
    } else {
      Status status = MixDh(token);
      if (!status.ok()) return Fail(status);
    }
  }
  Result<Bytes> sealed_payload = symmetric_.EncryptAndHash(payload);
  if (!sealed_payload.ok()) return Fail(sealed_payload.status());
  message.insert(message.end(), sealed_payload->begin(), sealed_payload->end());
  if (message.size() > kMaxMessageLen) {
    return Fail(InvalidArgument("Noise handshake payload too large: message of " +
                                std::to_string(message.size()) + " bytes, limit 65535"));
  }
  ++next_message_;
  return message;
}

Result<Bytes> HandshakeState::ReadMessage(ByteSpan message) {
  if (failed_) return FailedPrecondition("Noise handshake already failed");
  if (IsFinished() || IsMyTurnToWrite()) {
    return FailedPrecondition("Noise handshake: not our turn to read");
  }
  if (message.size() > kMaxMessageLen) {
    return Fail(Unauthenticated(InvalidArgument("message longer than 65535 bytes")));
  }
  ByteSpan rest = message;
  auto too_short = [&] {
    return Fail(Unauthenticated(
        InvalidArgument("message " + std::to_string(next_message_ + 1) + " is truncated")));
  };
  for (Token token : protocol_.pattern->messages[next_message_]) {
    if (token == Token::kE) {
      if (rest.size() < kDhLen) return too_short();
      PublicKey e;
      std::copy(rest.begin(), rest.begin() + kDhLen, e.begin());
      rest = rest.subspan(kDhLen);
      remote_ephemeral_ = e;
      symmetric_.MixHash(e);
    } else if (token == Token::kS) {
      const size_t len = kDhLen + (symmetric_.HasKey() ? kTagLen : 0);
      if (rest.size() < len) return too_short();
      Result<Bytes> s = symmetric_.DecryptAndHash(rest.first(len));
      if (!s.ok()) return Fail(Unauthenticated(s.status()));
      rest = rest.subspan(len);
      PublicKey key;
      std::copy(s->begin(), s->end(), key.begin());
      remote_static_ = key;
    } else {
      Status status = MixDh(token);
      if (!status.ok()) return Fail(Unauthenticated(status));
    }
  }
  Result<Bytes> payload = symmetric_.DecryptAndHash(rest);
  if (!payload.ok()) return Fail(Unauthenticated(payload.status()));
  ++next_message_;
  return payload;
}

Result<TransportState> HandshakeState::Finish() {
  if (failed_) return FailedPrecondition("Noise handshake already failed");
  if (!IsFinished()) return FailedPrecondition("Noise handshake not finished");
  if (finished_) return FailedPrecondition("Noise handshake already split");
  finished_ = true;
  auto [first, second] = symmetric_.Split();
  const bool initiator = role_ == Role::kInitiator;
  TransportState transport{initiator ? std::move(first) : std::move(second),
                           initiator ? std::move(second) : std::move(first),
                           symmetric_.handshake_hash(), remote_static_};
  return transport;
}

}  // namespace zsend::noise
