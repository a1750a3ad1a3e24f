// MeteredSink: a ByteSink wrapper that counts the bytes written through it and the time spent
// blocked in the inner sink's Write() or paced by an optional rate limit (so the adaptive codec
// sees a -R limit the way it sees a slow link), and, for a stream
// that wrote nothing at all, writes a caller-given "empty stream" prefix before finishing (an
// empty zstd frame or gzip member, so `zstd -d` and `gunzip` accept an empty stream).
//
// Thread-safety: Write()/Finish() from the writer thread; bytes() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "engine/ring/byte_stream.h"
#include "engine/ring/rate_limiter.h"

namespace zsend {

class MeteredSink : public ByteSink {
 public:
  void Attach(ByteSink* inner) { inner_ = inner; }
  void set_empty_stream(std::string bytes) { empty_stream_ = std::move(bytes); }
  void set_rate(uint64_t bytes_per_second) { limiter_ = RateLimiter(bytes_per_second); }

  Status Write(const std::byte* buf, size_t len) override {
    const auto start = std::chrono::steady_clock::now();
    Status status = Status::Ok();
    for (size_t done = 0; done < len && status.ok();) {
      const size_t chunk = limiter_.MaxChunk(len - done);
      status = limiter_.Pace(chunk);
      if (status.ok()) status = inner_->Write(buf + done, chunk);
      done += chunk;
    }
    write_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count(),
                        std::memory_order_relaxed);
    ZSEND_RETURN_IF_ERROR(status);
    bytes_.fetch_add(len, std::memory_order_relaxed);
    return Status::Ok();
  }
  Status Finish() override {
    if (bytes_.load(std::memory_order_relaxed) == 0 && !empty_stream_.empty()) {
      ZSEND_RETURN_IF_ERROR(
          Write(reinterpret_cast<const std::byte*>(empty_stream_.data()), empty_stream_.size()));
    }
    return inner_->Finish();
  }
  std::string Describe() const override { return inner_->Describe(); }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  int64_t write_ns() const { return write_ns_.load(std::memory_order_relaxed); }

 private:
  ByteSink* inner_ = nullptr;
  std::string empty_stream_;
  RateLimiter limiter_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<int64_t> write_ns_{0};
};

}  // namespace zsend
