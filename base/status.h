// Status and Result<T>: the one error type for expected failures.
//
// A Status is OK (free: no allocation) or a code plus a one-line message. The codes say whether
// a retry can help. Exceptions never cross a module boundary; every fallible function returns a
// Status or a Result<T>. Thread-safety: values, no shared state.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace zsend {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; retrying the same call cannot help
  kFailedPrecondition,  // the system is not in a state for this (a key file's mode, a limit)
  kNotFound,            // a file, host or dataset does not exist
  kUnavailable,         // a peer or resource is away for now; a retry may help
  kAborted,             // the far side or a stage stopped the work
  kDeadlineExceeded,    // a watchdog or timeout expired
  kDataLoss,            // bytes were lost or corrupted (a cut stream, a failed write)
  kPermissionDenied,    // authentication or authorization failed
  kResourceExhausted,   // memory, disk or a kernel limit
  kCancelled,           // stopped on request (a signal)
  kInternal,            // a bug
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "message" for errors, "ok" for OK.
  std::string ToString() const;

  // A copy whose message is "prefix: message"; OK stays OK.
  Status WithContext(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Builds a Status from errno: "what: strerror(errno)", with a code chosen from errno
// (ENOSPC -> kResourceExhausted, EPIPE -> kAborted, ENOENT -> kNotFound, ...).
Status ErrnoStatus(const std::string& what, int err);

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status Aborted(std::string m) {
  return {StatusCode::kAborted, std::move(m)};
}
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status DataLoss(std::string m) {
  return {StatusCode::kDataLoss, std::move(m)};
}
inline Status Cancelled(std::string m) {
  return {StatusCode::kCancelled, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace zsend

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define ZSEND_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::zsend::Status zsend_status_ = (expr);        \
    if (!zsend_status_.ok()) return zsend_status_; \
  } while (0)
