#include "io/fault_injection_file_system.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

std::unique_ptr<FaultInjectionFileSystem> NewFaultFs(const std::string& store) {
  auto base = OpenFileSystem("mem://" + store);
  EXPECT_TRUE(base.ok());
  return std::make_unique<FaultInjectionFileSystem>(std::move(base).value());
}

TEST(FaultInjection, FailNthBeforeLeavesStoreUnchanged) {
  auto fs = NewFaultFs("fi-before");
  fs->FailNth(FsOp::kWrite, 2, Status::IOError("boom"));
  ASSERT_TRUE(fs->Write("a", "1", {}).ok());
  auto second = fs->Write("b", "2", {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIOError);
  EXPECT_TRUE(fs->base()->Stat("b").status().IsNotFound());
  EXPECT_TRUE(fs->Write("c", "3", {}).ok());  // the rule fired once only
  EXPECT_EQ(fs->calls(FsOp::kWrite), 3u);
  EXPECT_EQ(fs->faults_injected(), 1u);
}

TEST(FaultInjection, FailNthAfterAppliesButReportsError) {
  auto fs = NewFaultFs("fi-after");
  fs->FailNth(FsOp::kWrite, 1, Status::Unavailable("lost response"),
              FaultTiming::kAfter);
  auto r = fs->Write("a", "payload", {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsRetryable());
  EXPECT_EQ(*fs->base()->Read("a"), "payload");
}

TEST(FaultInjection, FailNthCountsOnlyItsOwnKind) {
  auto fs = NewFaultFs("fi-kind");
  ASSERT_TRUE(fs->Write("a", "1", {}).ok());
  fs->FailNth(FsOp::kRead, 2, Status::IOError("read fault"));
  EXPECT_TRUE(fs->Stat("a").ok());
  EXPECT_TRUE(fs->Read("a").ok());
  EXPECT_FALSE(fs->Read("a").ok());
  EXPECT_TRUE(fs->Read("a").ok());
}

TEST(FaultInjection, RandomFaultsAreRetryableAndReproducible) {
  auto run = [](const std::string& store) {
    auto fs = NewFaultFs(store);
    fs->SetRandomFaults(0.3, 42);
    std::vector<bool> outcome;
    for (int i = 0; i < 200; ++i) {
      auto r = fs->Write("k" + std::to_string(i), "x", {});
      if (!r.ok()) {
        EXPECT_TRUE(r.status().IsRetryable());
      }
      outcome.push_back(r.ok());
    }
    return outcome;
  };
  auto first = run("fi-rand-1");
  EXPECT_EQ(first, run("fi-rand-2"));
  const auto failures = std::count(first.begin(), first.end(), false);
  EXPECT_GT(failures, 30);  // 200 * 0.3 = 60 expected
  EXPECT_LT(failures, 90);
}

TEST(FaultInjection, CrashLosesTheCrashingWriteAndKillsLaterCalls) {
  auto fs = NewFaultFs("fi-crash");
  fs->CrashAfterMutations(2);
  ASSERT_TRUE(fs->Write("a", "1", {}).ok());
  ASSERT_TRUE(fs->Delete("zzz").ok());
  auto lost = fs->Write("b", "2", {});
  EXPECT_EQ(lost.status().code(), StatusCode::kAborted);
  EXPECT_TRUE(fs->crashed());
  EXPECT_EQ(fs->Read("a").status().code(), StatusCode::kAborted);
  fs->Revive();
  EXPECT_EQ(*fs->Read("a"), "1");
  EXPECT_TRUE(fs->Read("b").status().IsNotFound());
}

TEST(FaultInjection, WriteBudgetModelsFullDisk) {
  auto fs = NewFaultFs("fi-full");
  fs->SetWriteBudget(10);
  ASSERT_TRUE(fs->Write("a", "123456", {}).ok());
  auto full = fs->Write("b", "12345", {});
  EXPECT_EQ(full.status().code(), StatusCode::kNoSpace);
  EXPECT_TRUE(fs->base()->Stat("b").status().IsNotFound());
  EXPECT_TRUE(fs->Write("c", "1234", {}).ok());  // still fits exactly
  fs->ClearFaults();
  EXPECT_TRUE(fs->Write("d", std::string(100, 'x'), {}).ok());
}

}  // namespace
}  // namespace txflow
