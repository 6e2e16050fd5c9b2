#include "common/uri.h"

#include <algorithm>
#include <cctype>

#include "common/ascii.h"

namespace txflow {
namespace {

std::string_view TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Uri> ParseUri(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty URI");
  const size_t sep = text.find("://");
  Uri uri;
  if (sep == std::string_view::npos) {
    uri.scheme = "file";
    uri.path = std::string(text);
    return uri;
  }
  uri.scheme = AsciiLower(text.substr(0, sep));
  std::string_view rest = text.substr(sep + 3);
  if (uri.scheme == "file") {
    // file:///abs/path only: a host part is not something we can honour.
    if (rest.empty() || rest.front() != '/') {
      return Status::InvalidArgument(
          std::string(text) + ": file URI must be file:///absolute/path");
    }
    uri.path = std::string(rest);
    return uri;
  }
  if (uri.scheme != "mem" && uri.scheme != "s3") {
    return Status::InvalidArgument(std::string(text) + ": unknown scheme '" +
                                   uri.scheme + "' (expected file, mem or s3)");
  }
  const size_t slash = rest.find('/');
  uri.authority = std::string(rest.substr(0, slash));
  if (uri.authority.empty()) {
    return Status::InvalidArgument(std::string(text) + ": missing " +
                                   (uri.scheme == "s3" ? "bucket" : "store") +
                                   " name");
  }
  if (slash != std::string_view::npos) {
    uri.path = std::string(TrimSlashes(rest.substr(slash)));
  }
  return uri;
}

}  // namespace txflow
