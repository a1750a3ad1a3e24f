// Digest: a streaming hash of the data a pipeline moves (--hash, mbuffer's --md5, and the
// stream digest in a transfer's end frame).
//
// md5, sha256, sha512 and blake2b (BLAKE2b-512) come from OpenSSL's EVP interface, which uses
// SHA extensions and AVX2 where the CPU has them (SHA-256 runs at about 1.8 GB/s here). xxh3 is
// XXH3-128 from libxxhash: not cryptographic, about ten times faster, for checking that a stream
// arrived whole and in order where an AEAD already guards against tampering.
// One thread at a time.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

struct evp_md_ctx_st;

namespace zsend {

class Digest {
 public:
  // `name`: md5, sha256, sha512, blake2b or xxh3.
  static Result<std::unique_ptr<Digest>> Create(const std::string& name);
  virtual ~Digest() = default;
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  virtual void Update(const void* data, size_t len) = 0;
  // Lowercase hex of the digest (XXH3-128 in its canonical big-endian form); call once.
  virtual std::string FinishHex() = 0;
  const std::string& name() const { return name_; }

 protected:
  explicit Digest(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

}  // namespace zsend
