// The pieces both ends of a transfer share once the handshake is done:
//
//   FrameWriter      serializes everything written to the Channel: data frames streamed by the
//                    pipeline's writer (possibly in chunks) and whole control frames from other
//                    threads, which never land inside a data frame. Numbers the control lane.
//   ChannelSource    the Channel as a pipeline ByteSource (receiving side).
//   TransferFailure  what went wrong, first cause wins, for exit codes on both sides.
//   Heartbeat        a thread sending a heartbeat whenever nothing was written for `interval`.
//
// Thread-safety: FrameWriter and TransferOutcome are safe from any thread; see each type.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "engine/ring/byte_stream.h"
#include "engine/wire/channel.h"
#include "engine/wire/frame.h"

namespace zsend {

enum class TransferFailure {
  kNone,
  kUsage,           // bad options, incompatible peers
  kInput,           // reading the local input failed
  kOutput,          // writing the local output failed
  kNetwork,         // connection lost or refused
  kTimeout,         // the peer sent nothing for --timeout seconds
  kAuthentication,  // handshake: wrong or unauthorized key
  kIntegrity,       // tampered, truncated or reordered stream, digest mismatch
  kProducer,        // the producer (zfs send) failed, here or on the sending side
  kConsumer,        // the consumer (zfs recv) failed, here or on the receiving side
  kStopped,         // a signal
  kInternal,
};
const char* TransferFailureName(TransferFailure failure);
ErrorReason ToErrorReason(TransferFailure failure);
TransferFailure FromErrorReason(ErrorReason reason);
// The failure a Status from the channel or frame layer stands for.
TransferFailure ClassifyStatus(const Status& status);

// The first failure of a transfer and its message.
class TransferOutcome {
 public:
  // Records the failure if none was recorded yet; returns true when it was the first.
  bool Fail(TransferFailure failure, const Status& status);
  bool failed() const;
  TransferFailure failure() const;
  Status status() const;

 private:
  mutable std::mutex mu_;
  TransferFailure failure_ = TransferFailure::kNone;  // guarded by mu_
  Status status_;                                     // guarded by mu_
};

class FrameWriter : public ByteSink {
 public:
  // `first_control`: the first control sequence this writer numbers (1 after the key
  // confirmation; 2 in a session stream, whose 1 was its open or ready frame).
  FrameWriter(Channel& channel, FrameCipher cipher, uint64_t first_control = 1)
      : channel_(channel), cipher_(std::move(cipher)), next_control_(first_control) {}

  // Streamed data frames (whole frames, in any chunking).
  Status Write(const std::byte* buf, size_t len) override;
  std::string Describe() const override { return channel_.name(); }

  // A whole control frame; waits for any data frame in progress to end.
  Status SendControl(FrameType type, const std::string& payload);
  // A heartbeat, unless someone is writing or wrote within `idle`; never blocks on the lock.
  Status MaybeHeartbeat(std::chrono::steady_clock::duration idle);
  uint64_t data_bytes_written() const { return bytes_.load(std::memory_order_relaxed); }
  // A data frame is (or may be) partly on the wire: a write of it failed or was cut off, or
  // its end never came. No other frame may follow on this link.
  bool MidFrame();
  // Time spent inside the channel's writes (blocked on the link), for the adaptive codec.
  uint64_t write_ns() const { return write_ns_.load(std::memory_order_relaxed); }

 private:
  void Track(const std::byte* buf, size_t len);  // mu_ held

  Channel& channel_;
  std::mutex mu_;
  FrameCipher cipher_;                  // guarded by mu_ (control frames only)
  uint64_t next_control_;               // guarded by mu_; 0 was the key confirmation
  std::byte header_[kFrameHeaderSize];  // guarded by mu_: the header being streamed
  size_t header_got_ = 0;               // guarded by mu_
  bool broken_ = false;                 // guarded by mu_: a data write failed
  uint64_t frame_left_ = 0;             // guarded by mu_: body bytes of the current frame
  std::chrono::steady_clock::time_point last_write_{};  // guarded by mu_
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> write_ns_{0};
};

class ChannelSource : public ByteSource {
 public:
  explicit ChannelSource(Channel& channel) : channel_(channel) {}
  Result<size_t> Read(std::byte* buf, size_t len) override { return channel_.ReadSome(buf, len); }
  std::string Describe() const override { return channel_.name(); }

 private:
  Channel& channel_;
};

// Sends heartbeats from its own thread until destroyed.
class Heartbeat {
 public:
  Heartbeat(FrameWriter& writer, double interval_seconds);
  ~Heartbeat();

 private:
  FrameWriter& writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace zsend
