#include "engine/transfer/transfer_link.h"

#include <cstring>

namespace zsend {

const char* TransferFailureName(TransferFailure failure) {
  switch (failure) {
    case TransferFailure::kNone:
      return "none";
    case TransferFailure::kUsage:
      return "usage";
    case TransferFailure::kInput:
      return "input";
    case TransferFailure::kOutput:
      return "output";
    case TransferFailure::kNetwork:
      return "network";
    case TransferFailure::kTimeout:
      return "timeout";
    case TransferFailure::kAuthentication:
      return "authentication";
    case TransferFailure::kIntegrity:
      return "integrity";
    case TransferFailure::kProducer:
      return "producer";
    case TransferFailure::kConsumer:
      return "consumer";
    case TransferFailure::kStopped:
      return "stopped";
    case TransferFailure::kInternal:
      return "internal";
  }
  return "?";
}

ErrorReason ToErrorReason(TransferFailure failure) {
  switch (failure) {
    case TransferFailure::kProducer:
      return ErrorReason::kProducerFailed;
    case TransferFailure::kConsumer:
      return ErrorReason::kConsumerFailed;
    case TransferFailure::kIntegrity:
      return ErrorReason::kIntegrity;
    case TransferFailure::kTimeout:
      return ErrorReason::kTimeout;
    case TransferFailure::kStopped:
      return ErrorReason::kStopped;
    case TransferFailure::kAuthentication:
      return ErrorReason::kAuthentication;
    case TransferFailure::kUsage:
      return ErrorReason::kRefused;
    default:
      return ErrorReason::kOther;
  }
}

TransferFailure FromErrorReason(ErrorReason reason) {
  switch (reason) {
    case ErrorReason::kProducerFailed:
      return TransferFailure::kProducer;
    case ErrorReason::kConsumerFailed:
      return TransferFailure::kConsumer;
    case ErrorReason::kIntegrity:
      return TransferFailure::kIntegrity;
    case ErrorReason::kTimeout:
      return TransferFailure::kTimeout;
    case ErrorReason::kAuthentication:
      return TransferFailure::kAuthentication;
    case ErrorReason::kRefused:
      return TransferFailure::kUsage;
    case ErrorReason::kStopped:
    case ErrorReason::kOther:
      break;
  }
  return TransferFailure::kNetwork;
}

TransferFailure ClassifyStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return TransferFailure::kNone;
    case StatusCode::kDataLoss:
      return TransferFailure::kIntegrity;
    case StatusCode::kDeadlineExceeded:
      return TransferFailure::kTimeout;
    case StatusCode::kPermissionDenied:
      return TransferFailure::kAuthentication;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return TransferFailure::kUsage;
    case StatusCode::kCancelled:
      return TransferFailure::kStopped;
    case StatusCode::kInternal:
      return TransferFailure::kInternal;
    default:
      return TransferFailure::kNetwork;
  }
}

bool TransferOutcome::Fail(TransferFailure failure, const Status& status) {
  std::lock_guard lock(mu_);
  if (failure_ != TransferFailure::kNone) return false;
  failure_ = failure;
  status_ = status;
  return true;
}
bool TransferOutcome::failed() const {
  std::lock_guard lock(mu_);
  return failure_ != TransferFailure::kNone;
}
TransferFailure TransferOutcome::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}
Status TransferOutcome::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void FrameWriter::Track(const std::byte* buf, size_t len) {
  while (len > 0) {
    if (frame_left_ == 0 && header_got_ < kFrameHeaderSize) {
      const size_t take = std::min(len, kFrameHeaderSize - header_got_);
      std::memcpy(header_ + header_got_, buf, take);
      header_got_ += take;
      buf += take;
      len -= take;
      if (header_got_ == kFrameHeaderSize) {
        frame_left_ = (uint32_t{static_cast<uint8_t>(header_[4])} << 24) |
                      (uint32_t{static_cast<uint8_t>(header_[5])} << 16) |
                      (uint32_t{static_cast<uint8_t>(header_[6])} << 8) |
                      uint32_t{static_cast<uint8_t>(header_[7])};
        header_got_ = frame_left_ == 0 ? 0 : header_got_;
      }
      continue;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(len, frame_left_));
    frame_left_ -= take;
    buf += take;
    len -= take;
    if (frame_left_ == 0) header_got_ = 0;
  }
}

Status FrameWriter::Write(const std::byte* buf, size_t len) {
  std::lock_guard lock(mu_);
  const auto start = std::chrono::steady_clock::now();
  Status written = channel_.WriteAll(buf, len);
  last_write_ = std::chrono::steady_clock::now();
  write_ns_.fetch_add(
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(last_write_ - start).count()),
      std::memory_order_relaxed);
  if (!written.ok()) {
    broken_ = true;
    return written;
  }
  Track(buf, len);
  bytes_.fetch_add(len, std::memory_order_relaxed);
  return Status::Ok();
}

bool FrameWriter::MidFrame() {
  std::lock_guard lock(mu_);
  return broken_ || header_got_ != 0 || frame_left_ != 0;
}

Status FrameWriter::SendControl(FrameType type, const std::string& payload) {
  // A data frame half written by the pipeline's writer must end first; the writer finishes
  // a frame in a few calls, so poll briefly rather than add a second condition.
  for (;;) {
    std::unique_lock lock(mu_);
    if (header_got_ == 0 && frame_left_ == 0) {
      Result<std::string> frame = BuildControlFrame(cipher_, type, next_control_++, payload);
      if (!frame.ok()) return frame.status();
      ZSEND_RETURN_IF_ERROR(channel_.WriteAll(frame->data(), frame->size()));
      last_write_ = std::chrono::steady_clock::now();
      return Status::Ok();
    }
    lock.unlock();
    if (channel_.stopped()) return Cancelled(channel_.name() + ": stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status FrameWriter::MaybeHeartbeat(std::chrono::steady_clock::duration idle) {
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || header_got_ != 0 || frame_left_ != 0) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  if (now - last_write_ < idle) return Status::Ok();
  Result<std::string> frame =
      BuildControlFrame(cipher_, FrameType::kHeartbeat, next_control_++, "");
  if (!frame.ok()) return frame.status();
  ZSEND_RETURN_IF_ERROR(channel_.WriteAll(frame->data(), frame->size()));
  last_write_ = now;
  return Status::Ok();
}

Heartbeat::Heartbeat(FrameWriter& writer, double interval_seconds) : writer_(writer) {
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_seconds));
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, interval / 4);
      if (stop_) break;
      lock.unlock();
      // A failed heartbeat is not reported here: the writer or reader sees the same failure.
      (void)writer_.MaybeHeartbeat(interval);
      lock.lock();
    }
  });
}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace zsend
