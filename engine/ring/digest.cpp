#include "engine/ring/digest.h"

#include <openssl/evp.h>

#include "engine/ring/xxhash_fast.h"

namespace zsend {
namespace {

std::string Hex(const unsigned char* bytes, size_t len) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    hex.push_back(kHex[bytes[i] >> 4]);
    hex.push_back(kHex[bytes[i] & 15]);
  }
  return hex;
}

class EvpDigest final : public Digest {
 public:
  EvpDigest(std::string name, EVP_MD_CTX* ctx) : Digest(std::move(name)), ctx_(ctx) {}
  ~EvpDigest() override { EVP_MD_CTX_free(ctx_); }
  void Update(const void* data, size_t len) override { EVP_DigestUpdate(ctx_, data, len); }
  std::string FinishHex() override {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, out, &len);
    return Hex(out, len);
  }

 private:
  EVP_MD_CTX* ctx_;
};

class Xxh3Digest final : public Digest {
 public:
  explicit Xxh3Digest(XXH3_state_t* state) : Digest("xxh3"), state_(state) {}
  ~Xxh3Digest() override { XXH3_freeState(state_); }
  void Update(const void* data, size_t len) override { XXH3_128bits_update(state_, data, len); }
  std::string FinishHex() override {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state_));
    return Hex(canonical.digest, sizeof canonical.digest);
  }

 private:
  XXH3_state_t* state_;
};

}  // namespace

Result<std::unique_ptr<Digest>> Digest::Create(const std::string& name) {
  if (name == "xxh3") {
    XXH3_state_t* state = XXH3_createState();
    if (state == nullptr || XXH3_128bits_reset(state) != XXH_OK) {
      XXH3_freeState(state);
      return Internal("cannot initialise the xxh3 digest");
    }
    return std::unique_ptr<Digest>(new Xxh3Digest(state));
  }
  const EVP_MD* md = nullptr;
  if (name == "md5")
    md = EVP_md5();
  else if (name == "sha256")
    md = EVP_sha256();
  else if (name == "sha512")
    md = EVP_sha512();
  else if (name == "blake2b")
    md = EVP_blake2b512();
  if (md == nullptr) {
    return InvalidArgument("--hash takes sha256, sha512, blake2b, xxh3 or md5, got '" + name + "'");
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return Internal("cannot initialise the " + name + " digest");
  }
  return std::unique_ptr<Digest>(new EvpDigest(name, ctx));
}

}  // namespace zsend
