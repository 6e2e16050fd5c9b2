#include "io/conditional_write_probe.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <vector>

namespace txflow {
namespace {

// Scratch objects older than this are swept whoever left them: no probe takes
// that long, so their process is gone (unless clocks are an hour apart).
constexpr int64_t kStaleAfterNs = int64_t{3600} * 1'000'000'000;

// Host name as a key component: [A-Za-z0-9._], anything else '_'.
const std::string& HostForKey() {
  static const std::string host = [] {
    char buf[256] = {};
    std::string h = ::gethostname(buf, sizeof(buf) - 1) == 0 && buf[0] != '\0'
                        ? std::string(buf)
                        : std::string("unknown");
    for (char& c : h) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_';
      if (!ok) c = '_';
    }
    return h;
  }();
  return host;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ParseI64(std::string_view s, int64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// Whether the scratch object `key` (under kProbePrefix) is over an hour old
// by the time in its name. Only age decides: "its process is gone" cannot be
// told from another host, nor from another PID namespace on this one (a
// container sharing the host name), where it would sweep a live probe.
// Unparsable names are left alone.
bool IsLeftOver(std::string_view key, int64_t now_ns) {
  std::string_view name = key.substr(kProbePrefix.size());
  const size_t last = name.rfind('-');
  int64_t ns = 0;
  if (last == std::string_view::npos || !ParseI64(name.substr(last + 1), &ns)) {
    return false;
  }
  return now_ns - ns > kStaleAfterNs;
}

// Best effort: a probe killed between its first write and its delete leaves
// its scratch object behind; the next start on the root removes it.
void SweepLeftOvers(FileSystem* root) {
  ListOptions options;
  options.prefix = std::string(kProbePrefix);
  options.max_keys = 1000;
  auto list = root->List(options);
  if (!list.ok()) return;
  const int64_t now = NowNs();
  for (const ObjectInfo& info : *list) {
    if (IsLeftOver(info.key, now)) root->Delete(info.key).IgnoreError();
  }
}

// The object is `want` (our write took effect though it was reported
// refused: a lost answer), or not.
Result<bool> Holds(FileSystem* root, const std::string& key,
                   const std::string& want) {
  auto now = root->Read(key);
  if (!now.ok()) return now.status();
  return *now == want;
}

class Probe {
 public:
  Probe(FileSystem* root, std::string key)
      : root_(root), key_(std::move(key)) {}

  Status Run() {
    const std::string a = Body(1), b = Body(2), c = Body(3), d = Body(4);
    WriteOptions create;
    create.mode = WriteMode::kCreateOnly;

    // 1. Create-only on a fresh key must succeed.
    std::string first_version, current_version;
    auto w1 = root_->Write(key_, a, create);
    if (!w1.ok()) {
      if (w1.status().code() != StatusCode::kAlreadyExists) {
        return w1.status();
      }
      // No one else uses this key: the object is ours unless the store is
      // broken in a way this probe does not name.
      TXFLOW_ASSIGN_OR_RETURN(bool ours, Holds(root_, key_, a));
      if (!ours) return w1.status();
      TXFLOW_ASSIGN_OR_RETURN(ObjectInfo info, root_->Stat(key_));
      w1 = info;
    }
    first_version = current_version = w1->version;

    // 2. Create-only on the existing key must fail.
    auto w2 = root_->Write(key_, b, create);
    if (w2.ok()) {
      ignores_create_only_ = true;
      current_version = w2->version;
    } else if (w2.status().code() != StatusCode::kAlreadyExists) {
      return w2.status();
    }

    // 3. Replace-if-match with the current version must succeed.
    WriteOptions replace;
    replace.mode = WriteMode::kReplaceIfMatch;
    replace.expected_version = current_version;
    auto w3 = root_->Write(key_, c, replace);
    if (!w3.ok()) {
      if (w3.status().code() != StatusCode::kPreconditionFailed) {
        return w3.status();
      }
      TXFLOW_ASSIGN_OR_RETURN(bool ours, Holds(root_, key_, c));
      if (!ours) refuses_current_version_ = true;
    }

    // 4. Replace-if-match with the first version, now stale (the object holds
    // other bytes, so other version), must fail.
    if (!refuses_current_version_) {
      replace.expected_version = first_version;
      auto w4 = root_->Write(key_, d, replace);
      if (w4.ok()) {
        ignores_if_match_ = true;
      } else if (w4.status().code() != StatusCode::kPreconditionFailed) {
        return w4.status();
      }
    }
    return Verdict();
  }

 private:
  // Different bytes for every step and every probe: no write can pass for
  // another in the S3 client's lost-answer check (which compares ETags).
  std::string Body(int step) const {
    return "txflow conditional-write probe " + key_ + " step " +
           std::to_string(step) + "\n";
  }

  Status Verdict() const {
    std::vector<std::string> what, how;
    if (ignores_create_only_) {
      what.push_back("If-None-Match: *");
      how.push_back("a create-only write overwrote an existing object");
    }
    if (ignores_if_match_) {
      what.push_back("If-Match");
      how.push_back("a replace-if-match write with a stale version succeeded");
    }
    std::string line;
    if (!what.empty()) {
      line = "the store ignores " + what[0] +
             (what.size() > 1 ? " and " + what[1] : "") + " (" + how[0] +
             (how.size() > 1 ? "; " + how[1] : "") + ")";
    }
    if (refuses_current_version_) {
      line += std::string(line.empty() ? "" : ", and ") +
              "the store refuses If-Match with the object's own version (a "
              "replace-if-match write with the current version failed)";
    }
    if (line.empty()) return Status::OK();
    return Status::NotSupported(
        RootUri(*root_) + ": " + line +
        "; txflow needs conditional writes for one writer per root");
  }

  FileSystem* root_;
  std::string key_;
  bool ignores_create_only_ = false;
  bool ignores_if_match_ = false;
  bool refuses_current_version_ = false;
};

}  // namespace

std::string ConditionalWriteProbeKey() {
  static std::atomic<int64_t> last{0};
  // Strictly increasing within the process even if the clock stands still.
  int64_t ns = NowNs();
  int64_t prev = last.load();
  while (true) {
    const int64_t next = ns > prev ? ns : prev + 1;
    if (last.compare_exchange_weak(prev, next)) {
      ns = next;
      break;
    }
  }
  return std::string(kProbePrefix) + HostForKey() + "-" +
         std::to_string(::getpid()) + "-" + std::to_string(ns);
}

Status CheckConditionalWrites(FileSystem* root) {
  SweepLeftOvers(root);
  const std::string key = ConditionalWriteProbeKey();
  Status s = Probe(root, key).Run();
  // Also after an error: the key may exist (a write that took effect).
  root->Delete(key).IgnoreError();
  if (!s.ok() && s.code() != StatusCode::kNotSupported) {
    return s.WithContext("conditional-write check");
  }
  return s;
}

}  // namespace txflow
