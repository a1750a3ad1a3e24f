// The Noise handshake patterns zsend knows (the one-way and interactive fundamental patterns of
// spec section 7), and the parser for protocol names such as Noise_IK_25519_ChaChaPoly_BLAKE2b.
//
// Patterns are immutable static data; everything here is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/crypto/noise_crypto.h"

namespace zsend::noise {

enum class Token { kE, kS, kEE, kES, kSE, kSS };

struct HandshakePattern {
  std::string name;                          // "IK"
  std::vector<Token> initiator_pre_message;  // keys the responder knows in advance
  std::vector<Token> responder_pre_message;  // keys the initiator knows in advance
  std::vector<std::vector<Token>> messages;  // alternating, the initiator's first
  bool one_way = false;                      // N, K, X: only the initiator ever sends
};

// The pattern called `name` ("IK", "XX", ...), or nullptr.
const HandshakePattern* FindPattern(std::string_view name);

// A parsed protocol name. Only 25519 and BLAKE2b are supported; kInvalidArgument otherwise
// (including modifiers such as psk0 or fallback).
struct Protocol {
  std::string name;
  const HandshakePattern* pattern = nullptr;
  CipherKind cipher = CipherKind::kChaChaPoly;
};
Result<Protocol> ParseProtocolName(std::string_view name);

}  // namespace zsend::noise
