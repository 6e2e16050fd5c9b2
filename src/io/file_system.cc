#include "txflow/file_system.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "common/uri.h"
#include "io/fault_injection_file_system.h"
#include "io/local_file_system.h"
#include "io/mem_file_system.h"
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

// TXFLOW_FAULT_INJECTION (testing only; docs/reliability.md), e.g.
// "p=0.05,seed=7,after=0.3,fatal=0.1,budget=1000000".
Result<std::unique_ptr<FileSystem>> InjectFaults(std::unique_ptr<FileSystem> fs,
                                                 std::string_view root_uri,
                                                 std::string_view spec) {
  double p = 0, after = 0, fatal = 0;
  uint64_t seed = 1, budget = 0;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string item(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? "" : spec.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const std::string value =
        eq == std::string::npos ? "" : item.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || v < 0) {
      return Status::InvalidArgument("TXFLOW_FAULT_INJECTION: bad item '" +
                                     item + "'");
    }
    if (name == "p") {
      p = v;
    } else if (name == "after") {
      after = v;
    } else if (name == "fatal") {
      fatal = v;
    } else if (name == "seed") {
      seed = static_cast<uint64_t>(v);
    } else if (name == "budget") {
      budget = static_cast<uint64_t>(v);
    } else {
      return Status::InvalidArgument("TXFLOW_FAULT_INJECTION: unknown item '" +
                                     item + "'");
    }
  }
  static std::once_flag warned;
  std::call_once(warned, [] {
    std::fputs(
        "txflow: TXFLOW_FAULT_INJECTION is set: storage calls fail on "
        "purpose (testing only)\n",
        stderr);
  });
  auto faulty = std::make_unique<FaultInjectionFileSystem>(std::move(fs));
  // Each root, and each opening of it, draws its own faults, reproducibly
  // for a given order of openings (reopening must not replay the same
  // faults: a retried load would then fail the same way every time).
  static std::atomic<uint64_t> openings{0};
  faulty->SetRandomFaults(p,
                          seed ^ std::hash<std::string_view>()(root_uri) ^
                              (++openings * 0x9E3779B97F4A7C15ull),
                          after, fatal);
  if (budget > 0) faulty->SetWriteBudget(budget);
  return std::unique_ptr<FileSystem>(std::move(faulty));
}

}  // namespace

Result<std::unique_ptr<FileSystem>> OpenFileSystem(std::string_view root_uri) {
  TXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<FileSystem> fs, OpenBase(root_uri));
  const char* spec = std::getenv("TXFLOW_FAULT_INJECTION");
  if (spec == nullptr || *spec == '\0') return fs;
  return InjectFaults(std::move(fs), root_uri, spec);
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
