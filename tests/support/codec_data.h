// Test support for the codec tests: deterministic sample data and in-memory stream ends.
//
// MemorySource hands out a string in chunks; StringSink collects; ThrottledSink collects at a
// simulated link rate (it sleeps in Write). All are used by one thread at a time, except
// StringSink::data(), which the test reads after the pipeline ended.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>

#include "engine/ring/byte_stream.h"

namespace zsend::test {

// Text-like data (words from a small vocabulary with numbers): compresses to roughly 1/3.
inline std::string CompressibleData(size_t size, uint64_t seed = 1) {
  static const char* kWords[] = {"pool",   "dataset", "snapshot", "send", "receive", "block",
                                 "stream", "buffer",  "zfs",      "the",  "of",      "and"};
  std::mt19937_64 rng(seed);
  std::string s;
  s.reserve(size + 32);
  while (s.size() < size) {
    s += kWords[rng() % 12];
    s += (rng() % 7 == 0) ? std::to_string(rng() % 1000) + "\n" : " ";
  }
  s.resize(size);
  return s;
}

inline std::string RandomData(size_t size, uint64_t seed = 2) {
  std::mt19937_64 rng(seed);
  std::string s(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < size; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

inline const std::byte* Bytes(const std::string& s) {
  return reinterpret_cast<const std::byte*>(s.data());
}

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string data, size_t chunk = 1 << 16)
      : data_(std::move(data)), chunk_(chunk) {}
  Result<size_t> Read(std::byte* buf, size_t len) override {
    const size_t n = std::min({len, chunk_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, n, reinterpret_cast<char*>(buf));
    pos_ += n;
    return n;
  }
  std::string Describe() const override { return "memory"; }

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
};

class StringSink : public ByteSink {
 public:
  Status Write(const std::byte* buf, size_t len) override {
    data_.append(reinterpret_cast<const char*>(buf), len);
    return Status::Ok();
  }
  std::string Describe() const override { return "string"; }
  const std::string& data() const { return data_; }

 protected:
  std::string data_;
};

// A sink that accepts `bytes_per_second`, like a slow link.
class ThrottledSink : public StringSink {
 public:
  explicit ThrottledSink(double bytes_per_second) : rate_(bytes_per_second) {}
  Status Write(const std::byte* buf, size_t len) override {
    std::this_thread::sleep_for(std::chrono::duration<double>(static_cast<double>(len) / rate_));
    return StringSink::Write(buf, len);
  }

 private:
  double rate_;
};

}  // namespace zsend::test
