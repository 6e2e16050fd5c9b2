#include "common/ordered_worker.h"

#include <utility>

namespace txflow {

OrderedWorker::OrderedWorker(size_t max_queued)
    : max_queued_(max_queued == 0 ? 1 : max_queued),
      thread_([this] { Run(); }) {}

OrderedWorker::~OrderedWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

void OrderedWorker::Submit(Task task) {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock,
                [&] { return tasks_.size() < max_queued_ || !error_.ok(); });
  tasks_.push_back(std::move(task));
  lock.unlock();
  work_cv_.notify_one();
}

Status OrderedWorker::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_.ok()) {
    error_ = Status::OK();  // resume at the failed task
    work_cv_.notify_one();
  }
  done_cv_.wait(lock, [&] { return tasks_.empty() || !error_.ok(); });
  return error_;
}

Status OrderedWorker::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

size_t OrderedWorker::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

void OrderedWorker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock,
                  [&] { return stop_ || (!tasks_.empty() && error_.ok()); });
    if (stop_) return;
    Task& task = tasks_.front();
    lock.unlock();
    Status s = task();
    lock.lock();
    // The task stays queued until it succeeds.
    if (s.ok()) {
      tasks_.pop_front();
    } else {
      error_ = std::move(s);
    }
    done_cv_.notify_all();
  }
}

}  // namespace txflow
