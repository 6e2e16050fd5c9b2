// Errors as values. Every fallible call that crosses a module boundary returns
// a Status or a Result<T>; both are [[nodiscard]].
//
// A Status carries a code and a one-line message. The message names the object
// (path or URI) and the cause, never a secret, so it can be printed as it is.
// Codes group into three classes that tell the caller what to do:
//   retryable  - try again later (timeouts, HTTP 5xx, throttling, EINTR)
//   not-found  - the object does not exist
//   fatal      - anything else; retrying will not help
//
// Thread-safety: Status and Result are values; distinct objects may be used
// from different threads freely.
#ifndef TXFLOW_STATUS_H_
#define TXFLOW_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace txflow {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kAlreadyExists,       // conditional create found the object present
  kPreconditionFailed,  // compare-and-swap saw another version
  kInvalidArgument,     // bad flag, URI, key or input file
  kCorruption,          // stored state fails its checksum or grammar
  kUnavailable,         // transient: retry with backoff
  kIOError,             // permanent storage failure
  kNoSpace,             // disk or quota full
  kPermissionDenied,    // includes bad credentials and bad signatures
  kNotSupported,
  kAborted,  // stopped on purpose (shutdown, simulated crash)
};

enum class ErrorClass { kOk, kRetryable, kNotFound, kFatal };

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string m) {
    return {StatusCode::kNotFound, std::move(m)};
  }
  static Status AlreadyExists(std::string m) {
    return {StatusCode::kAlreadyExists, std::move(m)};
  }
  static Status PreconditionFailed(std::string m) {
    return {StatusCode::kPreconditionFailed, std::move(m)};
  }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status Corruption(std::string m) {
    return {StatusCode::kCorruption, std::move(m)};
  }
  static Status Unavailable(std::string m) {
    return {StatusCode::kUnavailable, std::move(m)};
  }
  static Status IOError(std::string m) {
    return {StatusCode::kIOError, std::move(m)};
  }
  static Status NoSpace(std::string m) {
    return {StatusCode::kNoSpace, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status NotSupported(std::string m) {
    return {StatusCode::kNotSupported, std::move(m)};
  }
  static Status Aborted(std::string m) {
    return {StatusCode::kAborted, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  ErrorClass Class() const;
  bool IsRetryable() const { return Class() == ErrorClass::kRetryable; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }

  // "<message>" for errors, "OK" otherwise. Meant for the one-line error a user
  // sees.
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

  // Marks a value as deliberately ignored (e.g. best-effort cleanup).
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // An OK status carries no value, so it is turned into an error here rather
  // than producing a Result that is neither a value nor a failure.
  Result(Status status)  // NOLINT
      : status_(status.ok() ? Status(StatusCode::kInvalidArgument,
                                     "internal: Result built from OK status")
                            : std::move(status)) {}
  Result(StatusCode code, std::string message)
      : status_(code, std::move(message)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  // By value, so `for (auto& x : F().value())` does not dangle.
  T value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;  // OK iff value_ holds a value
};

}  // namespace txflow

#define TXFLOW_CONCAT_INNER_(a, b) a##b
#define TXFLOW_CONCAT_(a, b) TXFLOW_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define TXFLOW_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::txflow::Status _txflow_status = (expr);        \
    if (!_txflow_status.ok()) return _txflow_status; \
  } while (0)

// `lhs = value of expr` or return its Status. `lhs` may declare a variable.
#define TXFLOW_ASSIGN_OR_RETURN(lhs, expr)                                 \
  TXFLOW_ASSIGN_OR_RETURN_IMPL_(TXFLOW_CONCAT_(_txflow_result_, __LINE__), \
                                lhs, expr)
#define TXFLOW_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                  \
  if (!result.ok()) return result.status();              \
  lhs = std::move(result).value()

#endif  // TXFLOW_STATUS_H_
