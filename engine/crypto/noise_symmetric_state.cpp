#include "engine/crypto/noise_symmetric_state.h"

#include <algorithm>
#include <cstring>

namespace zsend::noise {
namespace {

CipherKey TruncateToCipherKey(const SecretArray<kHashLen>& output) {
  CipherKey key;
  std::memcpy(key.data(), output.data(), kKeyLen);
  return key;
}

}  // namespace

SymmetricState::SymmetricState(std::string_view protocol_name, CipherKind kind)
    : kind_(kind), cipher_(kind) {
  if (protocol_name.size() <= kHashLen) {
    hash_.fill(0);
    std::memcpy(hash_.data(), protocol_name.data(), protocol_name.size());
  } else {
    hash_ = Hash(
        {ByteSpan(reinterpret_cast<const uint8_t*>(protocol_name.data()), protocol_name.size())});
  }
  std::memcpy(chaining_key_.data(), hash_.data(), kHashLen);
}

void SymmetricState::MixKey(ByteSpan input_key_material) {
  SecretArray<kHashLen> next_chaining_key, temp_key;
  Hkdf2(chaining_key_.span(), input_key_material, &next_chaining_key, &temp_key);
  chaining_key_ = next_chaining_key;
  cipher_.InitializeKey(TruncateToCipherKey(temp_key));
}

void SymmetricState::MixHash(ByteSpan data) {
  hash_ = Hash({ByteSpan(hash_), data});
}

Result<Bytes> SymmetricState::EncryptAndHash(ByteSpan plaintext) {
  Result<Bytes> ciphertext = cipher_.EncryptWithAd(hash_, plaintext);
  if (!ciphertext.ok()) return ciphertext.status();
  MixHash(*ciphertext);
  return ciphertext;
}

Result<Bytes> SymmetricState::DecryptAndHash(ByteSpan ciphertext) {
  Result<Bytes> plaintext = cipher_.DecryptWithAd(hash_, ciphertext);
  if (!plaintext.ok()) return plaintext.status();
  MixHash(ciphertext);
  return plaintext;
}

std::pair<CipherState, CipherState> SymmetricState::Split() const {
  SecretArray<kHashLen> temp_key1, temp_key2;
  Hkdf2(chaining_key_.span(), {}, &temp_key1, &temp_key2);
  CipherState first(kind_), second(kind_);
  first.InitializeKey(TruncateToCipherKey(temp_key1));
  second.InitializeKey(TruncateToCipherKey(temp_key2));
  return {std::move(first), std::move(second)};
}

}  // namespace zsend::noise
