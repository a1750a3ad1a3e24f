#include "engine/crypto/noise_cipher_state.h"

#include <algorithm>

namespace zsend::noise {
namespace {

Status NonceExhausted() {
  return FailedPrecondition("Noise cipher nonce exhausted; the session must rekey or end");
}

}  // namespace

void CipherState::InitializeKey(const CipherKey& key) {
  aead_ = std::make_unique<Aead>(kind_, key);
  nonce_ = 0;
}

Result<Bytes> CipherState::EncryptWithAd(ByteSpan ad, ByteSpan plaintext) {
  if (!HasKey()) return Bytes(plaintext.begin(), plaintext.end());
  if (nonce_ == kReservedNonce) return NonceExhausted();
  Bytes out(plaintext.size() + kTagLen);
  ZSEND_RETURN_IF_ERROR(aead_->Seal(nonce_, ad, plaintext, out.data()));
  ++nonce_;
  return out;
}

Result<Bytes> CipherState::DecryptWithAd(ByteSpan ad, ByteSpan ciphertext) {
  if (!HasKey()) return Bytes(ciphertext.begin(), ciphertext.end());
  if (nonce_ == kReservedNonce) return NonceExhausted();
  if (ciphertext.size() < kTagLen) {
    return DataLoss("message authentication failed: shorter than its tag");
  }
  Bytes out(ciphertext.size() - kTagLen);
  ZSEND_RETURN_IF_ERROR(aead_->Open(nonce_, ad, ciphertext, out.data()));
  ++nonce_;
  return out;
}

Status CipherState::Rekey() {
  if (!HasKey()) return FailedPrecondition("Noise rekey without a key");
  const uint8_t zeros[kKeyLen] = {};
  SecretArray<kKeyLen + kTagLen> sealed;
  ZSEND_RETURN_IF_ERROR(aead_->Seal(kReservedNonce, {}, ByteSpan(zeros, kKeyLen), sealed.data()));
  CipherKey next;
  std::copy(sealed.data(), sealed.data() + kKeyLen, next.data());
  aead_ = std::make_unique<Aead>(kind_, next);
  return Status::Ok();
}

}  // namespace zsend::noise
