#include "common/task_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace txflow {
namespace {

TEST(TaskPool, RunsEveryTaskExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    TaskPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (size_t tasks : {0u, 1u, 2u, 7u, 100u}) {
      std::vector<std::atomic<int>> runs(tasks);
      pool.Run(tasks, [&](size_t i) { runs[i].fetch_add(1); });
      for (size_t i = 0; i < tasks; ++i) {
        EXPECT_EQ(runs[i].load(), 1) << threads << " threads, task " << i;
      }
    }
  }
}

TEST(TaskPool, ResultsWrittenByTasksAreVisibleWhenRunReturns) {
  TaskPool pool(4);
  for (int batch = 0; batch < 2000; ++batch) {
    std::vector<int> out(4, -1);  // plain ints: TSan checks the hand-off
    pool.Run(out.size(),
             [&](size_t i) { out[i] = batch * 10 + static_cast<int>(i); });
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i], batch * 10 + static_cast<int>(i));
    }
  }
}

TEST(TaskPool, UsesMoreThanOneThreadWhenTasksWait) {
  // Two tasks that each wait for the other to have started can only finish
  // when they run at the same time.
  TaskPool pool(2);
  std::atomic<int> started{0};
  std::set<std::thread::id> ids;
  std::mutex mu;
  pool.Run(2, [&](size_t) {
    started.fetch_add(1);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(ids.size(), 2u);
}

TEST(TaskPool, WaitsForTasksTakenByOtherThreads) {
  // The caller runs out of tasks while a worker still runs a slow one: Run
  // must not return before it finishes.
  TaskPool pool(3);
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> done{0};
    pool.Run(3, [&](size_t i) {
      if (i != 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      done.fetch_add(1);
    });
    ASSERT_EQ(done.load(), 3);
  }
}

TEST(TaskPool, CoresAvailableIsPositive) {
  EXPECT_GE(TaskPool::CoresAvailable(), 1);
  EXPECT_LE(
      TaskPool::CoresAvailable(),
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace txflow
