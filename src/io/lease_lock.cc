#include "io/lease_lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <vector>

#include "common/random.h"

namespace txflow {
namespace {

constexpr std::string_view kHeader =
    "format,host,boot_id,pid,token,acquired_at_ms,expires_at_ms\n";
constexpr std::string_view kFormat = "txflow-lock-1";

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::vector<std::string> Split(std::string_view row) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = row.find(',', start);
    out.emplace_back(row.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

bool ParseI64(const std::string& s, int64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

LeaseLock::LeaseLock(FileSystem* fs, std::string key, Clock* clock,
                     std::chrono::milliseconds ttl)
    : fs_(fs), key_(std::move(key)), clock_(clock), ttl_ms_(ttl.count()) {
  me_.host = HostName();
  me_.boot_id = BootId();
  me_.pid = ::getpid();
  me_.token = std::to_string(RandomU64());
}

std::string LeaseLock::Encode(const Owner& o) const {
  return std::string(kHeader) + std::string(kFormat) + "," + o.host + "," +
         o.boot_id + "," + std::to_string(o.pid) + "," + o.token + "," +
         std::to_string(o.acquired_ms) + "," + std::to_string(o.expires_ms) +
         "\n";
}

Result<LockHolder> DecodeLockObject(std::string_view text,
                                    const std::string& uri) {
  auto corrupt = [&] {
    return Status::Corruption(uri +
                              ": unreadable lock object (remove it if no "
                              "txflow process uses this root)");
  };
  if (text.substr(0, kHeader.size()) != kHeader || text.back() != '\n')
    return corrupt();
  text.remove_prefix(kHeader.size());
  text.remove_suffix(1);
  const auto f = Split(text);
  LockHolder o;
  if (f.size() != 7 || f[0] != kFormat || !ParseI64(f[3], &o.pid) ||
      !ParseI64(f[5], &o.acquired_ms) || !ParseI64(f[6], &o.expires_ms)) {
    return corrupt();
  }
  o.host = f[1];
  o.boot_id = f[2];
  o.token = f[4];
  return o;
}

Result<LeaseLock::Owner> LeaseLock::Decode(std::string_view text) const {
  return DecodeLockObject(text, fs_->Uri(key_));
}

bool LeaseLock::IsStale(const Owner& o, int64_t now) const {
  if (now > o.expires_ms) return true;
  if (o.host != me_.host) return false;  // cannot see that machine: wait it out
  if (o.boot_id != me_.boot_id) return true;
  if (o.pid == me_.pid) return false;  // another lock object of this process
  return ::kill(static_cast<pid_t>(o.pid), 0) != 0 && errno == ESRCH;
}

Status LeaseLock::Became(const std::string& version, int64_t now) {
  version_ = version;
  renewed_ms_ = now;
  held_ = true;
  return Status::OK();
}

Status LeaseLock::Acquire() {
  if (held_) return Status::OK();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int64_t now = clock_->NowMs();
    me_.acquired_ms = now;
    me_.expires_ms = now + ttl_ms_;
    auto created = fs_->Write(key_, Encode(me_), {WriteMode::kCreateOnly, ""});
    if (created.ok()) return Became(created->version, now);
    if (created.status().code() != StatusCode::kAlreadyExists)
      return created.status();
    auto info = fs_->Stat(key_);
    if (info.status().IsNotFound())
      continue;  // released meanwhile: retry create
    if (!info.ok()) return info.status();
    auto text = fs_->Read(key_);
    if (text.status().IsNotFound()) continue;
    if (!text.ok()) return text.status();
    TXFLOW_ASSIGN_OR_RETURN(Owner holder, Decode(*text));
    if (!IsStale(holder, now)) {
      return Status::AlreadyExists(
          fs_->Uri(key_) + ": held by pid " + std::to_string(holder.pid) +
          " on " + holder.host + " until " + FormatUtcMs(holder.expires_ms) +
          " (another txflow process is using this root)");
    }
    // Take over the stale lock; the version check makes exactly one contender
    // win even if several saw it stale.
    auto taken = fs_->Write(key_, Encode(me_),
                            {WriteMode::kReplaceIfMatch, info->version});
    if (taken.ok()) return Became(taken->version, now);
    if (taken.status().code() != StatusCode::kPreconditionFailed)
      return taken.status();
  }
  return Status::AlreadyExists(fs_->Uri(key_) +
                               ": lock is contended; try again");
}

Status LeaseLock::Renew() {
  if (!held_) return Status::Aborted(fs_->Uri(key_) + ": lock not held");
  const int64_t now = clock_->NowMs();
  if (now - renewed_ms_ < ttl_ms_ / 3) return Status::OK();
  me_.expires_ms = now + ttl_ms_;
  auto w =
      fs_->Write(key_, Encode(me_), {WriteMode::kReplaceIfMatch, version_});
  if (!w.ok()) {
    // An earlier renewal may have been applied with its answer lost: the
    // object then has another version but still carries our token. Adopt its
    // version and write once more.
    // The version is read before and after the content and must agree, so
    // the content belongs to that version.
    auto before = fs_->Stat(key_);
    auto text = fs_->Read(key_);
    auto after = fs_->Stat(key_);
    if (before.ok() && text.ok() && after.ok() &&
        before->version == after->version) {
      auto holder = Decode(*text);
      if (holder.ok() && holder->token == me_.token) {
        version_ = after->version;
        w = fs_->Write(key_, Encode(me_),
                       {WriteMode::kReplaceIfMatch, version_});
      }
    }
  }
  if (!w.ok()) {
    if (w.status().code() == StatusCode::kPreconditionFailed) {
      held_ = false;
      return Status::Aborted(
          fs_->Uri(key_) +
          ": lock was taken over by another process; stopping");
    }
    return w.status();
  }
  version_ = w->version;
  renewed_ms_ = now;
  return Status::OK();
}

Status LeaseLock::Release() {
  if (!held_) return Status::OK();
  held_ = false;
  auto text = fs_->Read(key_);
  if (text.status().IsNotFound()) return Status::OK();
  if (!text.ok()) return text.status();
  auto holder = Decode(*text);
  if (!holder.ok() || holder->token != me_.token)
    return Status::OK();  // not ours
  return fs_->Delete(key_);
}

}  // namespace txflow
