#include "io/fault_injection_file_system.h"

namespace txflow {
namespace {

bool IsMutation(FsOp op) { return op == FsOp::kWrite || op == FsOp::kDelete; }

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem(
    std::unique_ptr<FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

void FaultInjectionFileSystem::FailNth(FsOp op, uint64_t n, Status error,
                                       FaultTiming timing) {
  std::lock_guard<std::mutex> lock(mu_);
  nth_rules_.push_back(NthRule{op, n, Fault{std::move(error), timing}});
}

void FaultInjectionFileSystem::SetRandomFaults(double p, uint64_t seed,
                                               double after_fraction,
                                               double fatal_fraction) {
  std::lock_guard<std::mutex> lock(mu_);
  random_p_ = p;
  random_after_ = after_fraction;
  random_fatal_ = fatal_fraction;
  rng_.seed(seed);
}

void FaultInjectionFileSystem::CrashAfterMutations(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  mutations_until_crash_ = n;
}

void FaultInjectionFileSystem::Revive() {
  std::lock_guard<std::mutex> lock(mu_);
  crashed_ = false;
  mutations_until_crash_.reset();
}

void FaultInjectionFileSystem::SetWriteBudget(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  write_budget_ = bytes;
  bytes_written_ = 0;
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  nth_rules_.clear();
  random_p_ = 0.0;
  mutations_until_crash_.reset();
  crashed_ = false;
  write_budget_.reset();
}

uint64_t FaultInjectionFileSystem::calls(FsOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

uint64_t FaultInjectionFileSystem::faults_injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_;
}

bool FaultInjectionFileSystem::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

std::optional<FaultInjectionFileSystem::Fault> FaultInjectionFileSystem::Decide(
    FsOp op, std::string_view key, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_[static_cast<size_t>(op)];
  const std::string uri = Uri(key);
  if (crashed_) {
    ++injected_;
    return Fault{Status::Aborted(uri + ": simulated crash")};
  }
  for (size_t i = 0; i < nth_rules_.size(); ++i) {
    NthRule& rule = nth_rules_[i];
    if (rule.op != op || --rule.remaining > 0) continue;
    Fault fault = std::move(rule.fault);
    nth_rules_.erase(nth_rules_.begin() + static_cast<ptrdiff_t>(i));
    ++injected_;
    return fault;
  }
  if (random_p_ > 0.0) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (u(rng_) < random_p_) {
      ++injected_;
      const bool after = IsMutation(op) && u(rng_) < random_after_;
      const bool fatal = u(rng_) < random_fatal_;
      return Fault{fatal
                       ? Status::IOError(uri + ": injected I/O error")
                       : Status::Unavailable(uri + ": injected 503 Slow Down"),
                   after ? FaultTiming::kAfter : FaultTiming::kBefore};
    }
  }
  if (IsMutation(op) && mutations_until_crash_.has_value()) {
    if (*mutations_until_crash_ == 0) {
      crashed_ = true;
      ++injected_;
      return Fault{Status::Aborted(uri + ": simulated crash")};
    }
    --*mutations_until_crash_;
  }
  if (op == FsOp::kWrite && write_budget_.has_value()) {
    if (bytes_written_ + bytes > *write_budget_) {
      ++injected_;
      return Fault{
          Status::NoSpace(uri + ": injected: No space left on device")};
    }
    bytes_written_ += bytes;
  }
  return std::nullopt;
}

template <typename R, typename Call>
R FaultInjectionFileSystem::Run(FsOp op, std::string_view key, uint64_t bytes,
                                Call&& call) {
  std::optional<Fault> fault = Decide(op, key, bytes);
  if (!fault.has_value()) return call();
  if (fault->timing == FaultTiming::kAfter) {
    R ignored = call();
    (void)ignored;
  }
  return R(std::move(fault->error));
}

Result<std::string> FaultInjectionFileSystem::Read(std::string_view key) {
  return Run<Result<std::string>>(FsOp::kRead, key, 0,
                                  [&] { return base()->Read(key); });
}

Result<std::string> FaultInjectionFileSystem::ReadRange(std::string_view key,
                                                        uint64_t offset,
                                                        uint64_t length) {
  return Run<Result<std::string>>(FsOp::kReadRange, key, 0, [&] {
    return base()->ReadRange(key, offset, length);
  });
}

Result<ObjectInfo> FaultInjectionFileSystem::Stat(std::string_view key) {
  return Run<Result<ObjectInfo>>(FsOp::kStat, key, 0,
                                 [&] { return base()->Stat(key); });
}

Result<ObjectInfo> FaultInjectionFileSystem::Write(
    std::string_view key, std::string_view data, const WriteOptions& options) {
  return Run<Result<ObjectInfo>>(FsOp::kWrite, key, data.size(), [&] {
    return base()->Write(key, data, options);
  });
}

Result<std::vector<ObjectInfo>> FaultInjectionFileSystem::List(
    const ListOptions& options) {
  return Run<Result<std::vector<ObjectInfo>>>(
      FsOp::kList, options.prefix, 0, [&] { return base()->List(options); });
}

Status FaultInjectionFileSystem::Delete(std::string_view key) {
  return Run<Status>(FsOp::kDelete, key, 0,
                     [&] { return base()->Delete(key); });
}

}  // namespace txflow
