// CipherState (nonces, rekey, tampering) and the HMAC/HKDF primitives under it.
#include "engine/crypto/noise_cipher_state.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <cstring>

namespace zsend::noise {
namespace {

constexpr CipherKind kKinds[] = {CipherKind::kChaChaPoly, CipherKind::kAesGcm};

CipherKey RandomKey() {
  EnsureSodiumInitialized();
  CipherKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

Bytes Text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// Independent reference: one AEAD call with a fully spelled-out 12-byte nonce.
Bytes ReferenceSeal(CipherKind kind, const CipherKey& key, const uint8_t nonce[12], ByteSpan ad,
                    ByteSpan plaintext) {
  Bytes out(plaintext.size() + kTagLen);
  if (kind == CipherKind::kChaChaPoly) {
    unsigned long long len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &len, plaintext.data(), plaintext.size(),
                                              ad.data(), ad.size(), nullptr, nonce, key.data());
    return out;
  }
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nonce);
  EVP_EncryptUpdate(ctx, nullptr, &len, ad.data(), static_cast<int>(ad.size()));
  EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size()));
  EVP_EncryptFinal_ex(ctx, out.data() + plaintext.size(), &len);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagLen, out.data() + plaintext.size());
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

TEST(NoiseCipherState, WithoutKeyPassesPlaintextThrough) {
  CipherState cipher(CipherKind::kChaChaPoly);
  EXPECT_FALSE(cipher.HasKey());
  Result<Bytes> out = cipher.EncryptWithAd(Text("ad"), Text("hello"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, Text("hello"));
  EXPECT_EQ(cipher.nonce(), 0u);
}

TEST(NoiseCipherState, NonceIsEncodedAsNoiseSaysForEachCipher) {
  for (CipherKind kind : kKinds) {
    SCOPED_TRACE(CipherKindName(kind));
    const CipherKey key = RandomKey();
    CipherState cipher(kind);
    cipher.InitializeKey(key);
    cipher.SetNonce(0x0102030405060708ull);
    Result<Bytes> sealed = cipher.EncryptWithAd(Text("header"), Text("payload bytes"));
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(cipher.nonce(), 0x0102030405060709ull);
    // 32 zero bits, then the counter: little-endian for ChaChaPoly, big-endian for AESGCM.
    const uint8_t little[12] = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
    const uint8_t big[12] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(*sealed, ReferenceSeal(kind, key, kind == CipherKind::kChaChaPoly ? little : big,
                                     Text("header"), Text("payload bytes")));
  }
}

TEST(NoiseCipherState, CountsNoncesAndDecryptsInOrderOnly) {
  for (CipherKind kind : kKinds) {
    SCOPED_TRACE(CipherKindName(kind));
    const CipherKey key = RandomKey();
    CipherState sender(kind), receiver(kind);
    sender.InitializeKey(key);
    receiver.InitializeKey(key);
    std::vector<Bytes> sealed;
    for (int i = 0; i < 3; ++i) {
      sealed.push_back(*sender.EncryptWithAd({}, Text("message " + std::to_string(i))));
    }
    EXPECT_EQ(sender.nonce(), 3u);
    EXPECT_NE(sealed[0], sealed[1]);  // same length, different nonce
    Result<Bytes> out_of_order = receiver.DecryptWithAd({}, sealed[1]);
    EXPECT_EQ(out_of_order.status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(receiver.nonce(), 0u);  // a failed decryption does not consume the nonce
    for (int i = 0; i < 3; ++i) {
      Result<Bytes> plain = receiver.DecryptWithAd({}, sealed[i]);
      ASSERT_TRUE(plain.ok()) << plain.status().message();
      EXPECT_EQ(*plain, Text("message " + std::to_string(i)));
    }
  }
}

TEST(NoiseCipherState, TamperedCiphertextOrAdIsRejected) {
  for (CipherKind kind : kKinds) {
    SCOPED_TRACE(CipherKindName(kind));
    const CipherKey key = RandomKey();
    CipherState sender(kind);
    sender.InitializeKey(key);
    const Bytes sealed = *sender.EncryptWithAd(Text("ad"), Text("attack at dawn"));
    for (size_t i = 0; i < sealed.size(); ++i) {  // every byte of body and tag
      Bytes tampered = sealed;
      tampered[i] ^= 0x01;
      CipherState receiver(kind);
      receiver.InitializeKey(key);
      EXPECT_EQ(receiver.DecryptWithAd(Text("ad"), tampered).status().code(), StatusCode::kDataLoss)
          << "byte " << i;
    }
    CipherState receiver(kind);
    receiver.InitializeKey(key);
    EXPECT_FALSE(receiver.DecryptWithAd(Text("AD"), sealed).ok());
    EXPECT_FALSE(receiver.DecryptWithAd(Text("ad"), ByteSpan(sealed).first(kTagLen - 1)).ok());
    Result<Bytes> plain = receiver.DecryptWithAd(Text("ad"), sealed);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(*plain, Text("attack at dawn"));
  }
}

TEST(NoiseCipherState, ReservedNonceIsNeverUsed) {
  for (CipherKind kind : kKinds) {
    SCOPED_TRACE(CipherKindName(kind));
    CipherState sender(kind);
    sender.InitializeKey(RandomKey());
    sender.SetNonce(kReservedNonce - 1);
    EXPECT_TRUE(sender.EncryptWithAd({}, Text("last")).ok());
    EXPECT_EQ(sender.nonce(), kReservedNonce);
    Result<Bytes> refused = sender.EncryptWithAd({}, Text("one too many"));
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
    CipherState receiver(kind);
    receiver.InitializeKey(RandomKey());
    receiver.SetNonce(kReservedNonce);
    EXPECT_EQ(receiver.DecryptWithAd({}, Bytes(32)).status().code(),
              StatusCode::kFailedPrecondition);
  }
}

TEST(NoiseCipherState, RekeyFollowsTheSpecAndKeepsTheNonce) {
  for (CipherKind kind : kKinds) {
    SCOPED_TRACE(CipherKindName(kind));
    const CipherKey key = RandomKey();
    CipherState sender(kind), receiver(kind);
    sender.InitializeKey(key);
    receiver.InitializeKey(key);
    const Bytes before = *sender.EncryptWithAd({}, Text("before"));
    ASSERT_TRUE(receiver.DecryptWithAd({}, before).ok());
    ASSERT_TRUE(sender.Rekey().ok());
    // REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes).
    const uint8_t max_nonce_le[12] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    Bytes expected = ReferenceSeal(kind, key, max_nonce_le, {}, Bytes(32, 0));
    expected.resize(32);
    EXPECT_EQ(Bytes(sender.key().data(), sender.key().data() + 32), expected);
    EXPECT_EQ(sender.nonce(), 1u);
    const Bytes sealed = *sender.EncryptWithAd({}, Text("after"));
    EXPECT_FALSE(receiver.DecryptWithAd({}, sealed).ok());  // receiver still has the old key
    ASSERT_TRUE(receiver.Rekey().ok());
    Result<Bytes> plain = receiver.DecryptWithAd({}, sealed);
    ASSERT_TRUE(plain.ok()) << plain.status().message();
    EXPECT_EQ(*plain, Text("after"));
  }
}

TEST(NoiseAead, SealsAndOpensInPlaceWithExplicitNonces) {
  for (CipherKind kind : kKinds) {
    SCOPED_TRACE(CipherKindName(kind));
    const CipherKey key = RandomKey();
    Aead sealer(kind, key), opener(kind, key);
    const Bytes header = Text("frame header"), original = Text("bulk frame body bytes");
    Bytes buffer = original;
    buffer.resize(original.size() + kTagLen);
    ASSERT_TRUE(
        sealer.Seal(41, header, ByteSpan(buffer).first(original.size()), buffer.data()).ok());
    EXPECT_NE(Bytes(buffer.begin(), buffer.begin() + original.size()), original);
    EXPECT_FALSE(opener.Open(40, header, buffer, Bytes(buffer.size()).data()).ok());  // nonce
    ASSERT_TRUE(opener.Open(41, header, buffer, buffer.data()).ok());
    EXPECT_EQ(Bytes(buffer.begin(), buffer.begin() + original.size()), original);
  }
}

TEST(NoiseHmac, MatchesOpenSslHmacBlake2bForShortAndLongKeys) {
  for (size_t key_len : {0, 1, 64, 128, 129, 300}) {
    SCOPED_TRACE(key_len);
    Bytes key(key_len);
    for (size_t i = 0; i < key_len; ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
    const Bytes part1 = Text("first part "), part2 = Text("second part");
    SecretArray<kHashLen> ours;
    Hmac(key, {part1, part2}, &ours);
    Bytes joined = part1;
    joined.insert(joined.end(), part2.begin(), part2.end());
    uint8_t reference[EVP_MAX_MD_SIZE];
    unsigned reference_len = 0;
    HMAC(EVP_blake2b512(), key.data(), static_cast<int>(key.size()), joined.data(), joined.size(),
         reference, &reference_len);
    ASSERT_EQ(reference_len, kHashLen);
    EXPECT_EQ(0, std::memcmp(ours.data(), reference, kHashLen));
  }
}

}  // namespace
}  // namespace zsend::noise
