#include "txflow/status.h"

namespace txflow {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kPreconditionFailed:
      return "PreconditionFailed";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kNoSpace:
      return "NoSpace";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case StatusCode::kNotSupported:
      return "NotSupported";
    case StatusCode::kAborted:
      return "Aborted";
  }
  return "Unknown";
}

ErrorClass Status::Class() const {
  switch (code_) {
    case StatusCode::kOk:
      return ErrorClass::kOk;
    case StatusCode::kUnavailable:
      return ErrorClass::kRetryable;
    case StatusCode::kNotFound:
      return ErrorClass::kNotFound;
    default:
      return ErrorClass::kFatal;
  }
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_.empty() ? std::string(StatusCodeName(code_)) : message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

}  // namespace txflow
