// Noise primitives: the fixed-size key types, X25519, BLAKE2b with its HMAC and HKDF, and the
// two AEADs (ChaChaPoly, AESGCM) with Noise's nonce encoding.
//
// Everything here is a thin, stateless wrapper over libsodium (X25519, BLAKE2b, ChaCha20-
// Poly1305-IETF) and OpenSSL EVP (AES-256-GCM, available on every CPU and the faster bulk
// backend). The protocol logic lives in noise_cipher_state.h, noise_symmetric_state.h and
// noise_handshake.h. Secret material sits in SecretArray, which wipes itself on destruction.
//
// Thread-safety: free functions are thread-safe. An Aead is used by one thread at a time; give
// each worker its own Aead made from the same key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::noise {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline constexpr size_t kDhLen = 32;    // X25519 public keys and shared secrets
inline constexpr size_t kKeyLen = 32;   // cipher keys
inline constexpr size_t kTagLen = 16;   // AEAD authentication tag
inline constexpr size_t kHashLen = 64;  // BLAKE2b-512
inline constexpr size_t kHashBlockLen = 128;
inline constexpr size_t kMaxMessageLen = 65535;  // Noise's limit on one message

// Calls sodium_init() once; every entry point here does it, callers need not.
void EnsureSodiumInitialized();

// Overwrites n bytes at p with zeros in a way the compiler cannot drop.
void SecureWipe(void* p, size_t n);

// A fixed-size secret: wiped with sodium_memzero when destroyed or overwritten.
template <size_t N>
class SecretArray {
 public:
  SecretArray() { bytes_.fill(0); }
  SecretArray(const SecretArray& other) = default;
  SecretArray& operator=(const SecretArray& other) = default;
  ~SecretArray() { Wipe(); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  ByteSpan span() const { return ByteSpan(bytes_.data(), N); }
  void Wipe() { SecureWipe(bytes_.data(), N); }

 private:
  std::array<uint8_t, N> bytes_;
};

using PublicKey = std::array<uint8_t, kDhLen>;
using PrivateKey = SecretArray<kDhLen>;
using CipherKey = SecretArray<kKeyLen>;
using HashBytes = std::array<uint8_t, kHashLen>;
using ChainingKey = SecretArray<kHashLen>;

// A Curve25519 key pair.
struct KeyPair {
  PrivateKey private_key;
  PublicKey public_key{};

  // A fresh key pair from the system's random source.
  static KeyPair Generate();
  // The pair whose private half is `private_key` (public = X25519 base-point multiple).
  static KeyPair FromPrivate(const PrivateKey& private_key);
};

// X25519(private, public). Fails (kPermissionDenied) when the result is all zeros, which only a
// malicious low-order public key can cause.
Result<SecretArray<kDhLen>> Dh(const PrivateKey& private_key, const PublicKey& public_key);

// BLAKE2b-512 of the concatenation of `parts`.
HashBytes Hash(std::initializer_list<ByteSpan> parts);

// HMAC-BLAKE2b (RFC 2104 over the plain hash, block length 128) of the concatenated `parts`.
void Hmac(ByteSpan key, std::initializer_list<ByteSpan> parts, SecretArray<kHashLen>* out);

// Noise's HKDF with two outputs of kHashLen bytes each (three are only needed for PSKs).
void Hkdf2(ByteSpan chaining_key, ByteSpan input_key_material, SecretArray<kHashLen>* out1,
           SecretArray<kHashLen>* out2);

enum class CipherKind { kChaChaPoly, kAesGcm };
// "ChaChaPoly" / "AESGCM", the names Noise protocol names use.
const char* CipherKindName(CipherKind kind);

// One AEAD key with explicit 64-bit nonces, encoded as Noise says: 32 zero bits then the
// counter, little-endian for ChaChaPoly and big-endian for AESGCM.
class Aead {
 public:
  Aead(CipherKind kind, const CipherKey& key);
  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  CipherKind kind() const { return kind_; }
  const CipherKey& key() const { return key_; }

  // Writes plaintext.size() + kTagLen bytes to `out` (which may equal plaintext.data()).
  Status Seal(uint64_t nonce, ByteSpan ad, ByteSpan plaintext, uint8_t* out);
  // Writes ciphertext.size() - kTagLen bytes to `out` (which may equal ciphertext.data()).
  // Fails with kDataLoss when the tag does not verify; `out` is then unspecified.
  Status Open(uint64_t nonce, ByteSpan ad, ByteSpan ciphertext, uint8_t* out);

 private:
  struct EvpContexts;
  CipherKind kind_;
  CipherKey key_;
  std::unique_ptr<EvpContexts> evp_;  // AESGCM only: one context per direction, keyed once
};

// Lowercase hex and back (tests, vectors, diagnostics).
std::string ToHex(ByteSpan bytes);
Result<Bytes> FromHex(const std::string& hex);

}  // namespace zsend::noise
