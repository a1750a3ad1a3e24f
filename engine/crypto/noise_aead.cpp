// The Aead of noise_crypto.h: ChaChaPoly through libsodium, AESGCM through OpenSSL EVP.
#include <openssl/evp.h>
#include <sodium.h>

#include <climits>
#include <cstring>

#include "engine/crypto/noise_crypto.h"

namespace zsend::noise {
namespace {

constexpr size_t kNonceLen = 12;

// Noise: 32 bits of zeros, then the 64-bit counter (little-endian for ChaChaPoly, big-endian
// for AESGCM).
void EncodeNonce(CipherKind kind, uint64_t n, uint8_t out[kNonceLen]) {
  std::memset(out, 0, 4);
  for (int i = 0; i < 8; ++i) {
    uint8_t byte = static_cast<uint8_t>(n >> (8 * i));
    if (kind == CipherKind::kChaChaPoly) {
      out[4 + i] = byte;
    } else {
      out[11 - i] = byte;
    }
  }
}

Status EvpFailure(const char* what) {
  return Internal(std::string("OpenSSL AES-256-GCM ") + what + " failed");
}

}  // namespace

struct Aead::EvpContexts {
  EVP_CIPHER_CTX* seal = nullptr;
  EVP_CIPHER_CTX* open = nullptr;
  ~EvpContexts() {
    EVP_CIPHER_CTX_free(seal);
    EVP_CIPHER_CTX_free(open);
  }
};

Aead::Aead(CipherKind kind, const CipherKey& key) : kind_(kind), key_(key) {
  EnsureSodiumInitialized();
  if (kind_ != CipherKind::kAesGcm) return;
  // Keyed once here (key schedule); each message then only sets the IV.
  evp_ = std::make_unique<EvpContexts>();
  evp_->seal = EVP_CIPHER_CTX_new();
  evp_->open = EVP_CIPHER_CTX_new();
  if (evp_->seal != nullptr &&
      EVP_EncryptInit_ex(evp_->seal, EVP_aes_256_gcm(), nullptr, key_.data(), nullptr) != 1) {
    EVP_CIPHER_CTX_free(evp_->seal);
    evp_->seal = nullptr;
  }
  if (evp_->open != nullptr &&
      EVP_DecryptInit_ex(evp_->open, EVP_aes_256_gcm(), nullptr, key_.data(), nullptr) != 1) {
    EVP_CIPHER_CTX_free(evp_->open);
    evp_->open = nullptr;
  }
}

Aead::~Aead() = default;

Status Aead::Seal(uint64_t nonce, ByteSpan ad, ByteSpan plaintext, uint8_t* out) {
  uint8_t iv[kNonceLen];
  EncodeNonce(kind_, nonce, iv);
  if (kind_ == CipherKind::kChaChaPoly) {
    unsigned long long tag_len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(
        out, out + plaintext.size(), &tag_len, plaintext.data(), plaintext.size(), ad.data(),
        ad.size(), nullptr, iv, key_.data());
    return Status::Ok();
  }
  if (plaintext.size() > INT_MAX || ad.size() > INT_MAX) return EvpFailure("message too long");
  EVP_CIPHER_CTX* ctx = evp_->seal;
  int len = 0;
  if (ctx == nullptr || EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) != 1) {
    return EvpFailure("init");
  }
  if (!ad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, ad.data(), int(ad.size())) != 1) {
    return EvpFailure("associated data");
  }
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx, out, &len, plaintext.data(), int(plaintext.size())) != 1) {
    return EvpFailure("encrypt");
  }
  if (EVP_EncryptFinal_ex(ctx, out + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagLen, out + plaintext.size()) != 1) {
    return EvpFailure("tag");
  }
  return Status::Ok();
}

Status Aead::Open(uint64_t nonce, ByteSpan ad, ByteSpan ciphertext, uint8_t* out) {
  if (ciphertext.size() < kTagLen) {
    return DataLoss("message authentication failed: shorter than its tag");
  }
  const Status kForged =
      DataLoss("message authentication failed (tampered, corrupted or wrong key)");
  uint8_t iv[kNonceLen];
  EncodeNonce(kind_, nonce, iv);
  const size_t body_len = ciphertext.size() - kTagLen;
  uint8_t tag[kTagLen];
  std::memcpy(tag, ciphertext.data() + body_len, kTagLen);  // `out` may overlap the input
  if (kind_ == CipherKind::kChaChaPoly) {
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, nullptr, ciphertext.data(),
                                                           body_len, tag, ad.data(), ad.size(), iv,
                                                           key_.data()) != 0) {
      return kForged;
    }
    return Status::Ok();
  }
  if (body_len > INT_MAX || ad.size() > INT_MAX) return EvpFailure("message too long");
  EVP_CIPHER_CTX* ctx = evp_->open;
  int len = 0;
  if (ctx == nullptr || EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) != 1) {
    return EvpFailure("init");
  }
  if (!ad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, ad.data(), int(ad.size())) != 1) {
    return EvpFailure("associated data");
  }
  if (body_len > 0 && EVP_DecryptUpdate(ctx, out, &len, ciphertext.data(), int(body_len)) != 1) {
    return EvpFailure("decrypt");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagLen, tag) != 1) return EvpFailure("tag");
  uint8_t final_block[16];
  if (EVP_DecryptFinal_ex(ctx, final_block, &len) <= 0) {
    sodium_memzero(out, body_len);
    return kForged;
  }
  return Status::Ok();
}

}  // namespace zsend::noise
