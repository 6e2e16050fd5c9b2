// An exclusive, expiring lock object on a FileSystem: one writer per root.
//
// Acquire() creates the lock object with a create-only write; whoever creates
// it owns it. The object names its owner (host, boot id, pid, random token) and
// an expiry, which the owner pushes forward with Renew(). A lock is stale, and
// is taken over with a replace-if-match write (so two contenders cannot both
// win), when
//   - its expiry has passed (the owner stopped renewing: killed, hung, or on
//     another machine that vanished), or
//   - its owner ran on this host in this boot and that pid no longer exists
//     (kill -9 on this machine: taken over at once, no wait), or
//   - its owner ran on this host in an earlier boot.
// Renew() fails with Aborted if someone else took the lock over; the caller
// must stop writing. Format: docs/formats.md.
//
// Not thread-safe; one LeaseLock per process per key.
#ifndef TXFLOW_IO_LEASE_LOCK_H_
#define TXFLOW_IO_LEASE_LOCK_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "common/clock.h"
#include "txflow/file_system.h"

namespace txflow {

// The lease the commands take by default (--lock-ttl): a holder that died on
// another host blocks the root for at most this long.
inline constexpr std::chrono::milliseconds kDefaultLockTtl{60'000};

// The content of a lock object: who holds it and until when.
struct LockHolder {
  std::string host, boot_id, token;
  int64_t pid = 0, acquired_ms = 0, expires_ms = 0;
};

// Decodes a lock object's text (docs/formats.md, "Lock objects"). Corruption
// naming `uri` for anything LeaseLock did not write. For readers such as
// `txflow status` that report a holder without taking the lock.
Result<LockHolder> DecodeLockObject(std::string_view text,
                                    const std::string& uri);

class LeaseLock {
 public:
  // Does not own `fs` or `clock`; both must outlive the lock.
  LeaseLock(FileSystem* fs, std::string key, Clock* clock,
            std::chrono::milliseconds ttl);

  // OK when held. AlreadyExists naming the holder and its expiry when another
  // live owner holds it; Corruption if the lock object is unreadable.
  Status Acquire();
  // Extends the lease when a third of it has passed. REQUIRES: held().
  Status Renew();
  // Deletes the lock object if it is still ours. Idempotent.
  Status Release();
  bool held() const { return held_; }

 private:
  using Owner = LockHolder;
  std::string Encode(const Owner& o) const;
  Result<Owner> Decode(std::string_view text) const;
  bool IsStale(const Owner& o, int64_t now) const;
  // Records that the lock object at `version` is now ours.
  Status Became(const std::string& version, int64_t now);

  FileSystem* fs_;
  std::string key_;
  Clock* clock_;
  int64_t ttl_ms_;
  Owner me_;
  std::string version_;
  int64_t renewed_ms_ = 0;
  bool held_ = false;
};

}  // namespace txflow

#endif  // TXFLOW_IO_LEASE_LOCK_H_
