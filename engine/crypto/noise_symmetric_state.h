// SymmetricState: Noise's chaining key ck and handshake hash h around a CipherState (spec
// section 5.2), with BLAKE2b as the hash (HASHLEN 64; cipher keys are the first 32 bytes of
// each HKDF output).
//
// Owned by a HandshakeState and deleted after Split(). One thread at a time.
#pragma once

#include <string_view>
#include <utility>

#include "engine/crypto/noise_cipher_state.h"
#include "engine/crypto/noise_crypto.h"

namespace zsend::noise {

class SymmetricState {
 public:
  // InitializeSymmetric(protocol_name): h = the name zero-padded to 64 bytes (or its hash when
  // longer), ck = h, no cipher key.
  SymmetricState(std::string_view protocol_name, CipherKind kind);

  // ck, temp_k = HKDF(ck, ikm, 2); the cipher takes temp_k's first 32 bytes, n = 0.
  void MixKey(ByteSpan input_key_material);
  // h = HASH(h || data).
  void MixHash(ByteSpan data);
  // Encrypts with h as associated data (plaintext passes through before the first MixKey),
  // then mixes the ciphertext into h.
  Result<Bytes> EncryptAndHash(ByteSpan plaintext);
  Result<Bytes> DecryptAndHash(ByteSpan ciphertext);
  bool HasKey() const { return cipher_.HasKey(); }
  const HashBytes& handshake_hash() const { return hash_; }

  // The two transport CipherStates: the initiator sends with the first, the responder with the
  // second.
  std::pair<CipherState, CipherState> Split() const;

 private:
  CipherKind kind_;
  CipherState cipher_;
  ChainingKey chaining_key_;
  HashBytes hash_{};
};

}  // namespace zsend::noise
