// CipherState: Noise's k and n (spec section 5.1). Encrypts with a counter nonce, refuses to
// reuse or exhaust it, and rekeys.
//
// Without a key (during the first handshake messages) it passes plaintext through unchanged, as
// the spec says. Nonce 2^64-1 is reserved: once n reaches it every Encrypt/Decrypt fails, so a
// caller must Rekey() or end the session long before (the transport layer stops far earlier).
// A failed decryption leaves n unchanged.
//
// Owns its key (wiped on destruction). One thread at a time; bulk sealing across threads uses
// one Aead per worker made from key() with nonces the caller assigns.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "engine/crypto/noise_crypto.h"

namespace zsend::noise {

inline constexpr uint64_t kReservedNonce = UINT64_MAX;

class CipherState {
 public:
  explicit CipherState(CipherKind kind) : kind_(kind) {}
  CipherState(CipherState&&) = default;
  CipherState& operator=(CipherState&&) = default;

  // Sets k = key and n = 0.
  void InitializeKey(const CipherKey& key);
  bool HasKey() const { return aead_ != nullptr; }
  void SetNonce(uint64_t n) { nonce_ = n; }
  uint64_t nonce() const { return nonce_; }
  CipherKind kind() const { return kind_; }
  // The current key; only valid when HasKey().
  const CipherKey& key() const { return aead_->key(); }

  // Returns ciphertext (plaintext.size() + kTagLen bytes), or the plaintext itself without a
  // key. Fails with kFailedPrecondition when the nonce is exhausted.
  Result<Bytes> EncryptWithAd(ByteSpan ad, ByteSpan plaintext);
  // Returns the plaintext; kDataLoss when authentication fails (n then stays as it was).
  Result<Bytes> DecryptWithAd(ByteSpan ad, ByteSpan ciphertext);

  // k = the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes); n is unchanged.
  Status Rekey();

 private:
  CipherKind kind_;
  std::unique_ptr<Aead> aead_;  // null: no key
  uint64_t nonce_ = 0;
};

}  // namespace zsend::noise
