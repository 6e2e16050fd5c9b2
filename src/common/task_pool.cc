#include "common/task_pool.h"

#include <sched.h>

namespace txflow {

TaskPool::TaskPool(int threads) {
  for (int i = 1; i < threads; ++i)
    workers_.emplace_back([this] { WorkerLoop(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
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
  start_cv_.notify_all();
  Drain(&lock);
  // Tasks other threads took may still run: the batch (and fn) lives until
  // they are done.
  done_cv_.wait(lock, [this] { return next_ == tasks_ && running_ == 0; });
  fn_ = nullptr;
}

void TaskPool::Drain(std::unique_lock<std::mutex>* lock) {
  while (next_ < tasks_) {
    const size_t i = next_++;
    ++running_;
    const std::function<void(size_t)>* fn = fn_;
    lock->unlock();
    (*fn)(i);
    lock->lock();
    if (--running_ == 0 && next_ == tasks_) done_cv_.notify_all();
  }
}

void TaskPool::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t seen = 0;
  while (true) {
    start_cv_.wait(lock, [&] { return stop_ || batch_ != seen; });
    if (stop_) return;
    seen = batch_;
    Drain(&lock);
  }
}

int TaskPool::CoresAvailable() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

}  // namespace txflow
