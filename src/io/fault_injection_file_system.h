// A FileSystemWrapper that makes storage misbehave on purpose, for the tests
// that prove recovery claims. Faults it can inject:
//   - FailNth: the n-th call of one kind fails, either before it reaches the
//     base (nothing happened) or after (it happened, but the caller sees an
//     error: the lost-response case every object-store client must handle);
//   - random faults: each call fails with probability p, seeded, so a storm is
//     reproducible;
//   - a crash: after n more mutations the "process" is dead; the mutation at
//     the crash point is lost (not applied) and every later call is Aborted,
//     until Revive() models the restart;
//   - a write budget: writes beyond a byte total fail with NoSpace (disk full).
// Faults are checked in that order; the first that fires wins.
//
// Thread-safety: as FileSystem; fault configuration may change while other
// threads call in.
#ifndef TXFLOW_IO_FAULT_INJECTION_FILE_SYSTEM_H_
#define TXFLOW_IO_FAULT_INJECTION_FILE_SYSTEM_H_

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>

#include "io/file_system_wrapper.h"

namespace txflow {

enum class FsOp { kRead, kReadRange, kStat, kWrite, kList, kDelete };
inline constexpr size_t kNumFsOps = 6;

enum class FaultTiming {
  kBefore,  // the call does not reach the base file system
  kAfter,   // the call takes effect, then the caller gets the error
};

class FaultInjectionFileSystem final : public FileSystemWrapper {
 public:
  explicit FaultInjectionFileSystem(std::unique_ptr<FileSystem> base);

  // The n-th call (1-based, counted from now) of `op` fails with `error`.
  void FailNth(FsOp op, uint64_t n, Status error,
               FaultTiming timing = FaultTiming::kBefore);

  // Every later call fails with probability `p` with a retryable error;
  // `after_fraction` of the failed mutations take effect first (kAfter), and
  // `fatal_fraction` of the failures are a fatal IOError instead.
  void SetRandomFaults(double p, uint64_t seed, double after_fraction = 0.0,
                       double fatal_fraction = 0.0);

  // After `n` more successful Write/Delete calls, the next mutation is lost and
  // the file system is dead (every call Aborted) until Revive().
  void CrashAfterMutations(uint64_t n);
  void Revive();

  // Writes whose bytes would take the running total past `bytes` fail with
  // NoSpace and are not applied.
  void SetWriteBudget(uint64_t bytes);

  void ClearFaults();

  uint64_t calls(FsOp op) const;
  uint64_t faults_injected() const;
  bool crashed() const;

  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, uint64_t offset,
                                uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) override;
  Result<std::vector<ObjectInfo>> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;

 private:
  struct Fault {
    Status error;
    FaultTiming timing = FaultTiming::kBefore;
  };
  struct NthRule {
    FsOp op;
    uint64_t remaining;  // fires when it reaches zero
    Fault fault;
  };

  // Counts the call and decides whether it fails. `bytes` is the payload of a
  // write (0 otherwise).
  std::optional<Fault> Decide(FsOp op, std::string_view key, uint64_t bytes);
  // Runs `call` under the fault decided for it.
  template <typename R, typename Call>
  R Run(FsOp op, std::string_view key, uint64_t bytes, Call&& call);

  mutable std::mutex mu_;
  std::array<uint64_t, kNumFsOps> calls_{};  // GUARDED_BY(mu_)
  std::vector<NthRule> nth_rules_;
  double random_p_ = 0.0;
  double random_after_ = 0.0;
  double random_fatal_ = 0.0;
  std::mt19937_64 rng_;
  std::optional<uint64_t> mutations_until_crash_;
  bool crashed_ = false;
  std::optional<uint64_t> write_budget_;
  uint64_t bytes_written_ = 0;
  uint64_t injected_ = 0;
};

}  // namespace txflow

#endif  // TXFLOW_IO_FAULT_INJECTION_FILE_SYSTEM_H_
