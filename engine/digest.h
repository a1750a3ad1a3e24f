// Digest: a streaming hash of the data a pipeline moves (--hash, mbuffer's --md5).
//
// Backed by OpenSSL's EVP interface, which uses SHA extensions and AVX2 where the CPU has them.
// One thread at a time.
#pragma once

#include <memory>
#include <string>

#include "engine/status.h"

struct evp_md_ctx_st;

namespace zsend {

class Digest {
 public:
  // `name`: md5, sha256, sha512 or blake2b (BLAKE2b-512).
  static Result<std::unique_ptr<Digest>> Create(const std::string& name);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void Update(const void* data, size_t len);
  // Lowercase hex of the digest; call once.
  std::string FinishHex();
  const std::string& name() const { return name_; }

 private:
  Digest(std::string name, evp_md_ctx_st* ctx) : name_(std::move(name)), ctx_(ctx) {}
  std::string name_;
  evp_md_ctx_st* ctx_;
};

}  // namespace zsend
