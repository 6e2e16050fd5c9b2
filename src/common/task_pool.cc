#include "common/task_pool.h"

#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace txflow {
namespace {

// How long a thread spins for the next batch (a worker) or for the other
// threads' last tasks (the caller) before it sleeps on a condition variable.
// The detector hands out three batches per chunk a fraction of a millisecond
// apart, and on a VM waking a sleeping thread costs tens of microseconds to
// more than a hundred, which ate the whole gain of a second thread. Spinning
// is bounded, so an idle detector still sleeps.
constexpr auto kSpin = std::chrono::microseconds(200);

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Spins until done() or kSpin has passed; returns done().
template <typename Done>
bool SpinUntil(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    CpuRelax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= deadline) {
      return done();
    }
  }
}

}  // namespace

TaskPool::TaskPool(int threads) : spin_(threads <= CoresAvailable()) {
  for (int i = 1; i < threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

TaskPool::~TaskPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    published_.store(~uint64_t{0}, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void TaskPool::Run(size_t tasks, const std::function<void(size_t)>& fn) {
  if (workers_.empty() || tasks <= 1) {
    for (size_t i = 0; i < tasks; ++i) fn(i);
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  fn_ = &fn;
  tasks_ = tasks;
  next_ = 0;
  ++batch_;
  // Spinning workers see the new batch here; sleeping ones need the signal.
  published_.store(batch_, std::memory_order_release);
  if (sleeping_ > 0) start_cv_.notify_all();
  Drain(&lock);
  // Tasks other threads took may still run: the batch (and fn) lives until
  // they are done.
  if (running_ != 0) {
    lock.unlock();
    SpinUntil(
        [this] { return unfinished_.load(std::memory_order_acquire) == 0; });
    lock.lock();
    caller_waits_ = true;
    done_cv_.wait(lock, [this] { return next_ == tasks_ && running_ == 0; });
    caller_waits_ = false;
  }
  fn_ = nullptr;
}

void TaskPool::Drain(std::unique_lock<std::mutex>* lock) {
  while (next_ < tasks_) {
    const size_t i = next_++;
    ++running_;
    unfinished_.store(running_, std::memory_order_release);
    const std::function<void(size_t)>* fn = fn_;
    lock->unlock();
    (*fn)(i);
    lock->lock();
    --running_;
    unfinished_.store(running_, std::memory_order_release);
    if (running_ == 0 && next_ == tasks_ && caller_waits_) {
      done_cv_.notify_all();
    }
  }
}

void TaskPool::WorkerLoop() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!stop_ && batch_ == seen) {
      lock.unlock();
      SpinUntil(
          [&] { return published_.load(std::memory_order_acquire) != seen; });
      lock.lock();
      ++sleeping_;
      start_cv_.wait(lock, [&] { return stop_ || batch_ != seen; });
      --sleeping_;
    }
    if (stop_) return;
    seen = batch_;
    Drain(&lock);
  }
}

int TaskPool::CoresAvailable() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  // A CPU quota (docker --cpus, Kubernetes limits) does not show in the
  // affinity mask: more threads than it allows only wait for each other.
  const int64_t quota = CpuQuotaCores();
  if (quota > 0 && quota < n) n = static_cast<int>(quota);
  return n > 0 ? n : 1;
}

int64_t TaskPool::CpuQuotaCores() {
  // cgroup v2: cpu.max is "max PERIOD" or "QUOTA PERIOD" (microseconds).
  int64_t quota = -1, period = 0;
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string first;
  if (v2 >> first >> period) {
    if (first == "max") return 0;
    quota = std::strtoll(first.c_str(), nullptr, 10);
  } else {
    // cgroup v1: cfs_quota_us is -1 when unlimited.
    std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    std::ifstream p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    if (!(q >> quota) || !(p >> period)) return 0;
  }
  if (quota <= 0 || period <= 0) return 0;
  return (quota + period - 1) / period;  // 1.5 CPUs: 2 threads
}
}  // namespace txflow
