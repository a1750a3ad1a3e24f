#include "engine/crypto/noise_crypto.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <climits>
#include <cstdlib>
#include <cstring>

namespace zsend::noise {

void EnsureSodiumInitialized() {
  static const int result = sodium_init();  // thread-safe, idempotent; -1 only without entropy
  if (result < 0) std::abort();
}

void SecureWipe(void* p, size_t n) {
  sodium_memzero(p, n);
}

KeyPair KeyPair::Generate() {
  EnsureSodiumInitialized();
  PrivateKey private_key;
  randombytes_buf(private_key.data(), private_key.size());
  return FromPrivate(private_key);
}

KeyPair KeyPair::FromPrivate(const PrivateKey& private_key) {
  EnsureSodiumInitialized();
  KeyPair pair;
  pair.private_key = private_key;
  crypto_scalarmult_base(pair.public_key.data(), private_key.data());
  return pair;
}

Result<SecretArray<kDhLen>> Dh(const PrivateKey& private_key, const PublicKey& public_key) {
  EnsureSodiumInitialized();
  SecretArray<kDhLen> shared;
  if (crypto_scalarmult(shared.data(), private_key.data(), public_key.data()) != 0) {
    return Status(StatusCode::kPermissionDenied,
                  "the peer sent an invalid Curve25519 public key (low order point)");
  }
  return shared;
}

HashBytes Hash(std::initializer_list<ByteSpan> parts) {
  EnsureSodiumInitialized();
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashLen);
  for (ByteSpan part : parts) crypto_generichash_blake2b_update(&state, part.data(), part.size());
  HashBytes out;
  crypto_generichash_blake2b_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof(state));
  return out;
}

void Hmac(ByteSpan key, std::initializer_list<ByteSpan> parts, SecretArray<kHashLen>* out) {
  EnsureSodiumInitialized();
  SecretArray<kHashBlockLen> block;  // the key, zero-padded to the block length
  if (key.size() > kHashBlockLen) {
    HashBytes hashed = Hash({key});
    std::memcpy(block.data(), hashed.data(), hashed.size());
    sodium_memzero(hashed.data(), hashed.size());
  } else if (!key.empty()) {
    std::memcpy(block.data(), key.data(), key.size());
  }
  SecretArray<kHashBlockLen> inner_pad, outer_pad;
  for (size_t i = 0; i < kHashBlockLen; ++i) {
    inner_pad.data()[i] = block.data()[i] ^ 0x36;
    outer_pad.data()[i] = block.data()[i] ^ 0x5c;
  }
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashLen);
  crypto_generichash_blake2b_update(&state, inner_pad.data(), inner_pad.size());
  for (ByteSpan part : parts) crypto_generichash_blake2b_update(&state, part.data(), part.size());
  SecretArray<kHashLen> inner;
  crypto_generichash_blake2b_final(&state, inner.data(), inner.size());
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashLen);
  crypto_generichash_blake2b_update(&state, outer_pad.data(), outer_pad.size());
  crypto_generichash_blake2b_update(&state, inner.data(), inner.size());
  crypto_generichash_blake2b_final(&state, out->data(), out->size());
  sodium_memzero(&state, sizeof(state));
}

void Hkdf2(ByteSpan chaining_key, ByteSpan input_key_material, SecretArray<kHashLen>* out1,
           SecretArray<kHashLen>* out2) {
  SecretArray<kHashLen> temp_key;
  Hmac(chaining_key, {input_key_material}, &temp_key);
  const uint8_t one = 0x01, two = 0x02;
  Hmac(temp_key.span(), {ByteSpan(&one, 1)}, out1);
  Hmac(temp_key.span(), {out1->span(), ByteSpan(&two, 1)}, out2);
}

const char* CipherKindName(CipherKind kind) {
  return kind == CipherKind::kChaChaPoly ? "ChaChaPoly" : "AESGCM";
}

std::string ToHex(ByteSpan bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

Result<Bytes> FromHex(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return InvalidArgument("hex string has an odd length");
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("not a hex string: '" + hex + "'");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace zsend::noise
