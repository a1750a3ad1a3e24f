#include "engine/digest.h"

#include <openssl/evp.h>

namespace zsend {

Result<std::unique_ptr<Digest>> Digest::Create(const std::string& name) {
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
    return InvalidArgument("--hash takes sha256, sha512, blake2b or md5, got '" + name + "'");
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return Internal("cannot initialise the " + name + " digest");
  }
  return std::unique_ptr<Digest>(new Digest(name, ctx));
}

Digest::~Digest() {
  EVP_MD_CTX_free(ctx_);
}

void Digest::Update(const void* data, size_t len) {
  EVP_DigestUpdate(ctx_, data, len);
}

std::string Digest::FinishHex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 15]);
  }
  return hex;
}

}  // namespace zsend
