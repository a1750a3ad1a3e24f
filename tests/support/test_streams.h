// Test support: in-memory ByteSource/ByteSink implementations with knobs for the engine's tests.
//
// GeneratedSource produces a deterministic pseudo-random stream of a given length (so very long
// streams need no storage) and can sleep per read, fail after N bytes, or run forever.
// CollectingSink keeps what it receives (or only counts and hashes it), can sleep per write or
// fail after N bytes, and records whether Finish() ran. Each object is used by one thread at a
// time, as the engine does; the counters are atomic so a test thread may watch them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "engine/ring/byte_stream.h"

namespace zsend::test {

// The byte at `offset` of the generated stream with `seed`.
inline uint8_t GeneratedByte(uint64_t seed, uint64_t offset) {
  uint64_t x = (offset >> 3) * 0x9E3779B97F4A7C15ull + seed;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  return static_cast<uint8_t>(x >> (8 * (offset & 7)));
}

inline std::string GeneratedBytes(uint64_t seed, uint64_t size) {
  std::string out(size, '\0');
  for (uint64_t i = 0; i < size; ++i) out[i] = static_cast<char>(GeneratedByte(seed, i));
  return out;
}

struct GeneratedSourceOptions {
  uint64_t size = 0;                                           // total bytes
  bool endless = false;                                        // ignore `size`, never end
  uint64_t seed = 1;                                           // which stream
  size_t max_read = std::numeric_limits<size_t>::max();        // cap per Read() call
  std::chrono::microseconds sleep_per_read{0};                 // a slow producer
  uint64_t fail_after = std::numeric_limits<uint64_t>::max();  // bytes before an error
};

class GeneratedSource : public ByteSource {
 public:
  explicit GeneratedSource(GeneratedSourceOptions options) : options_(options) {}

  Result<size_t> Read(std::byte* buf, size_t len) override {
    if (options_.sleep_per_read.count() > 0) std::this_thread::sleep_for(options_.sleep_per_read);
    const uint64_t done = produced_.load();
    if (done >= options_.fail_after) {
      return Status(StatusCode::kDataLoss, "test source failed on purpose");
    }
    uint64_t left = options_.endless ? std::numeric_limits<uint64_t>::max() : options_.size - done;
    left = std::min<uint64_t>(left, options_.fail_after - done);
    const size_t n = static_cast<size_t>(std::min<uint64_t>({left, len, options_.max_read}));
    for (size_t i = 0; i < n; ++i) buf[i] = std::byte{GeneratedByte(options_.seed, done + i)};
    produced_.store(done + n);
    return n;
  }
  std::string Describe() const override { return "generated source"; }
  uint64_t produced() const { return produced_.load(); }

 private:
  GeneratedSourceOptions options_;
  std::atomic<uint64_t> produced_{0};
};

struct CollectingSinkOptions {
  bool keep = true;                              // store the bytes (false: only count)
  std::chrono::microseconds sleep_per_write{0};  // a slow consumer
  uint64_t fail_after = std::numeric_limits<uint64_t>::max();
  uint64_t verify_seed = 0;  // nonzero: compare with GeneratedByte(seed, offset) as bytes arrive
};

class CollectingSink : public ByteSink {
 public:
  explicit CollectingSink(CollectingSinkOptions options = {}) : options_(options) {}

  Status Write(const std::byte* buf, size_t len) override {
    if (options_.sleep_per_write.count() > 0) {
      std::this_thread::sleep_for(options_.sleep_per_write);
    }
    const uint64_t done = received_.load();
    if (done + len > options_.fail_after) {
      return Status(StatusCode::kDataLoss, "test sink failed on purpose");
    }
    if (options_.keep) data_.append(reinterpret_cast<const char*>(buf), len);
    if (options_.verify_seed != 0) {
      for (size_t i = 0; i < len; ++i) {
        if (std::to_integer<uint8_t>(buf[i]) != GeneratedByte(options_.verify_seed, done + i)) {
          ++mismatches_;
        }
      }
    }
    received_.store(done + len);
    return Status::Ok();
  }
  Status Finish() override {
    finished_.store(true);
    return Status::Ok();
  }
  std::string Describe() const override { return "collecting sink"; }

  const std::string& data() const { return data_; }
  uint64_t received() const { return received_.load(); }
  uint64_t mismatches() const { return mismatches_; }
  bool finished() const { return finished_.load(); }

 private:
  CollectingSinkOptions options_;
  std::string data_;
  std::atomic<uint64_t> received_{0};
  uint64_t mismatches_ = 0;
  std::atomic<bool> finished_{false};
};

}  // namespace zsend::test
