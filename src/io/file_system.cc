#include "txflow/file_system.h"

#include <utility>

#include "common/uri.h"
#include "io/local_file_system.h"
#include "io/mem_file_system.h"
#include "io/root_decorator.h"
#include "io/s3_file_system.h"

namespace txflow {

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid object key '" + std::string(key) +
                                   "': " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.size() > kMaxKeyBytes) return bad("longer than 1024 bytes");
  if (key.front() == '/') return bad("absolute");
  if (key.find('\0') != std::string_view::npos) return bad("contains NUL");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty()) return bad("empty path component");
    if (part == "." || part == "..") return bad("'.' or '..' component");
    if (end == key.size() && part.find(kTempMarker) != std::string_view::npos) {
      return bad("names a staging object");
    }
    start = end + 1;
  }
  return Status::OK();
}

namespace {

Result<std::unique_ptr<FileSystem>> OpenBase(std::string_view root_uri) {
  TXFLOW_ASSIGN_OR_RETURN(Uri uri, ParseUri(root_uri));
  if (uri.scheme == "file") {
    return std::unique_ptr<FileSystem>(
        std::make_unique<LocalFileSystem>(uri.path, std::string(root_uri)));
  }
  if (uri.scheme == "mem") {
    return std::unique_ptr<FileSystem>(std::make_unique<MemFileSystem>(
        MemStore::Named(uri.authority), uri.path, std::string(root_uri)));
  }
  if (uri.scheme == "s3") return S3FileSystem::Open(uri.authority, uri.path);
  return Status::InvalidArgument(std::string(root_uri) + ": unknown scheme");
}

// Empty unless a test binary installed one (io/root_decorator.h).
RootDecorator& Decorator() {
  static RootDecorator decorator;
  return decorator;
}

}  // namespace

std::string RootUri(const FileSystem& fs) {
  std::string uri = fs.Uri("");
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  return uri;
}

Result<std::unique_ptr<FileSystem>> OpenFileSystem(std::string_view root_uri) {
  TXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<FileSystem> fs, OpenBase(root_uri));
  const RootDecorator& decorate = Decorator();
  if (!decorate) return fs;
  return decorate(std::move(fs), root_uri);
}

void SetRootDecorator(RootDecorator decorator) {
  Decorator() = std::move(decorator);
}

Result<ObjectLocation> SplitObjectUri(std::string_view object_uri) {
  TXFLOW_ASSIGN_OR_RETURN(Uri uri, ParseUri(object_uri));
  std::string_view text = object_uri;
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  const size_t slash = text.rfind('/');
  const bool has_parent = slash != std::string_view::npos &&
                          (uri.scheme == "file" || !uri.path.empty());
  if (!has_parent) {
    if (uri.scheme != "file" || text.empty()) {
      return Status::InvalidArgument(std::string(object_uri) +
                                     ": URI names no object");
    }
    return ObjectLocation{".", std::string(text)};
  }
  ObjectLocation loc{std::string(text.substr(0, slash)),
                     std::string(text.substr(slash + 1))};
  if (loc.root_uri.empty()) loc.root_uri = "/";
  if (loc.root_uri == "file://") loc.root_uri = "file:///";
  TXFLOW_RETURN_IF_ERROR(ValidateKey(loc.key).WithContext(object_uri));
  return loc;
}

}  // namespace txflow
