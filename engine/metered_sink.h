// MeteredSink: a ByteSink wrapper that counts the bytes written through it, and, for a stream
// that wrote nothing at all, writes a caller-given "empty stream" prefix before finishing (an
// empty zstd frame or gzip member, so `zstd -d` and `gunzip` accept an empty stream).
//
// Thread-safety: Write()/Finish() from the writer thread; bytes() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "engine/byte_stream.h"

namespace zsend {

class MeteredSink : public ByteSink {
 public:
  void Attach(ByteSink* inner) { inner_ = inner; }
  void set_empty_stream(std::string bytes) { empty_stream_ = std::move(bytes); }

  Status Write(const std::byte* buf, size_t len) override {
    ZSEND_RETURN_IF_ERROR(inner_->Write(buf, len));
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

 private:
  ByteSink* inner_ = nullptr;
  std::string empty_stream_;
  std::atomic<uint64_t> bytes_{0};
};

}  // namespace zsend
