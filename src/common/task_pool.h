// A fixed set of threads that runs one batch of independent tasks at a time:
// Run(n, fn) calls fn(0), ..., fn(n-1), spread over the pool's threads and
// the caller, and returns once every call has returned. The detector uses it
// to apply and evaluate a chunk's merchants in parallel (docs/detector.md,
// "Threads").
//
// Tasks of one batch must not depend on each other's order; each index is
// run exactly once. Everything a task wrote is visible to the caller when
// Run returns (the completion is a mutex hand-off).
//
// Between batches a worker spins briefly before it sleeps, and so does the
// caller waiting for the last tasks (task_pool.cc says why), unless the pool
// has more threads than CoresAvailable(); an idle pool sleeps.
//
// Thread-safety: Run may be called from one thread at a time (the owner);
// fn must not call Run.
#ifndef TXFLOW_COMMON_TASK_POOL_H_
#define TXFLOW_COMMON_TASK_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace txflow {

class TaskPool {
 public:
  // `threads` counts the caller: TaskPool(1) starts no thread and Run runs
  // every task inline; TaskPool(n) starts n - 1 threads.
  explicit TaskPool(int threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Threads that run a batch, the caller included.
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void Run(size_t tasks, const std::function<void(size_t)>& fn);

  // The CPUs this process may run on: its affinity mask, capped by a cgroup
  // CPU quota (rounded up), at least 1.
  static int CoresAvailable();
  // The cgroup (v2, else v1) CPU quota in whole CPUs, rounded up; 0 when
  // there is none.
  static int64_t CpuQuotaCores();

 private:
  void WorkerLoop();
  // Takes and runs tasks of the current batch until none is left.
  void Drain(std::unique_lock<std::mutex>* lock);

  std::mutex mu_;
  std::condition_variable start_cv_;  // a batch began, or stop
  std::condition_variable done_cv_;   // the last task of a batch finished
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t tasks_ = 0;    // in the current batch
  size_t next_ = 0;     // the next task to hand out
  size_t running_ = 0;  // tasks handed out and not yet finished
  uint64_t batch_ = 0;  // batches started; wakes workers once per batch
  bool stop_ = false;
  // Spin only when every thread can have a CPU: with more threads than
  // CPUs a spinning thread takes the time of the one it waits for.
  const bool spin_;
  int sleeping_ = 0;           // workers waiting on start_cv_
  bool caller_waits_ = false;  // Run waits on done_cv_
  // Copies of batch_ and running_ that threads spin on before they sleep
  // (every change is still made under mu_).
  std::atomic<uint64_t> published_{0};
  std::atomic<size_t> unfinished_{0};
  std::vector<std::thread> workers_;
};

}  // namespace txflow

#endif  // TXFLOW_COMMON_TASK_POOL_H_
