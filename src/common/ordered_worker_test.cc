#include "common/ordered_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <vector>

namespace txflow {
namespace {

TEST(OrderedWorker, RunsTasksInSubmissionOrder) {
  std::vector<int> ran;  // written by the worker only, read after Sync
  OrderedWorker worker(4);
  for (int i = 0; i < 1000; ++i) {
    worker.Submit([&ran, i] {
      ran.push_back(i);
      return Status::OK();
    });
  }
  ASSERT_TRUE(worker.Sync().ok());
  ASSERT_EQ(ran.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(ran[i], i);
  EXPECT_EQ(worker.pending(), 0u);
}

TEST(OrderedWorker, StopsAtTheFirstFailureUntilSyncRunsItAgain) {
  std::vector<int> ran;
  int failures_left = 2;
  OrderedWorker worker(8);
  worker.Submit([&] {
    ran.push_back(1);
    return Status::OK();
  });
  worker.Submit([&] {
    ran.push_back(2);
    if (failures_left-- > 0) return Status::Unavailable("disk busy");
    return Status::OK();
  });
  worker.Submit([&] {
    ran.push_back(3);
    return Status::OK();
  });
  // First Sync: task 2 fails once (its first run, started by Submit) or,
  // if Sync resumed it, twice; either way task 3 has not run.
  Status s = worker.Sync();
  while (!s.ok()) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable);
    EXPECT_EQ(ran.back(), 2) << "nothing runs after a failed task";
    EXPECT_NE(worker.pending(), 0u);
    s = worker.Sync();
  }
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 2, 2, 3}));
  EXPECT_TRUE(worker.error().ok());
}

TEST(OrderedWorker, SubmitWaitsWhileTheQueueIsFull) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  OrderedWorker worker(1);
  worker.Submit([released] {
    released.wait();
    return Status::OK();
  });
  std::atomic<bool> submitted{false};
  std::thread submitter([&] {
    worker.Submit([] { return Status::OK(); });
    submitted = true;
  });
  // Whatever the timing, the second task cannot be queued while the first
  // still occupies the only place.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(submitted.load());
  release.set_value();
  submitter.join();
  EXPECT_TRUE(submitted.load());
  EXPECT_TRUE(worker.Sync().ok());
}

TEST(OrderedWorker, AFailedWorkerQueuesWithoutWaiting) {
  OrderedWorker worker(1);
  worker.Submit([] { return Status::IOError("broken"); });
  EXPECT_FALSE(worker.Sync().ok());
  // Full (the failed task holds the place) but failed: Submit returns.
  worker.Submit([] { return Status::OK(); });
  EXPECT_EQ(worker.pending(), 2u);
  EXPECT_EQ(worker.error().code(), StatusCode::kIOError);
}

TEST(OrderedWorker, DestructionDropsTasksAfterAFailure) {
  auto ran_after = std::make_shared<std::atomic<bool>>(false);
  {
    OrderedWorker worker(4);
    worker.Submit([] { return Status::IOError("broken"); });
    worker.Submit([ran_after] {
      *ran_after = true;
      return Status::OK();
    });
    EXPECT_FALSE(worker.Sync().ok());
  }
  EXPECT_FALSE(ran_after->load());
}

}  // namespace
}  // namespace txflow
