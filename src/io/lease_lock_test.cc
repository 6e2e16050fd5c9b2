#include "io/lease_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/fault_injection_file_system.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

std::unique_ptr<FileSystem> Mem(const std::string& name) {
  return std::move(OpenFileSystem(testing::TestRoot(name)).value());
}

constexpr std::chrono::milliseconds kTtl{30'000};

TEST(LeaseLock, SecondOwnerIsRefusedWithHolderNamed) {
  auto fs = Mem("lease-second");
  ManualClock clock(1'000'000);
  LeaseLock a(fs.get(), "state/chunker.lock", &clock, kTtl);
  LeaseLock b(fs.get(), "state/chunker.lock", &clock, kTtl);
  ASSERT_TRUE(a.Acquire().ok());
  Status s = b.Acquire();
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("held by pid " + std::to_string(::getpid())),
            std::string::npos)
      << s.message();
  EXPECT_FALSE(b.held());
}

TEST(LeaseLock, ReleaseLetsTheNextOwnerIn) {
  auto fs = Mem("lease-release");
  ManualClock clock(1'000'000);
  LeaseLock a(fs.get(), "l", &clock, kTtl);
  LeaseLock b(fs.get(), "l", &clock, kTtl);
  ASSERT_TRUE(a.Acquire().ok());
  ASSERT_TRUE(a.Release().ok());
  EXPECT_TRUE(b.Acquire().ok());
  // a's release must not delete b's lock.
  EXPECT_TRUE(a.Release().ok());
  EXPECT_TRUE(fs->Stat("l").ok());
}

TEST(LeaseLock, ExpiredLeaseIsTakenOverAndOldOwnerLearnsOnRenew) {
  auto fs = Mem("lease-expire");
  ManualClock clock(1'000'000);
  LeaseLock a(fs.get(), "l", &clock, kTtl);
  LeaseLock b(fs.get(), "l", &clock, kTtl);
  ASSERT_TRUE(a.Acquire().ok());
  clock.AdvanceMs(kTtl.count() - 1);
  EXPECT_FALSE(b.Acquire().ok());  // not yet expired
  clock.AdvanceMs(2);
  ASSERT_TRUE(b.Acquire().ok());
  Status renew = a.Renew();
  EXPECT_EQ(renew.code(), StatusCode::kAborted);
  EXPECT_FALSE(a.held());
}

// A renewal that took effect but whose answer was lost must not make the
// owner believe it lost the lock (found by the binary's fault storm).
TEST(LeaseLock, RenewWhoseAnswerWasLostStillHoldsTheLock) {
  auto base = Mem("lease-lost-answer");
  FileSystem* raw = base.get();
  auto fs = std::make_unique<FaultInjectionFileSystem>(std::move(base));
  ManualClock clock(1'000'000);
  LeaseLock a(fs.get(), "l", &clock, kTtl);
  LeaseLock b(fs.get(), "l", &clock, kTtl);
  ASSERT_TRUE(a.Acquire().ok());
  for (int round = 0; round < 3; ++round) {
    clock.AdvanceMs(kTtl.count() / 2);
    fs->FailNth(FsOp::kWrite, 1, Status::Unavailable("lost"),
                FaultTiming::kAfter);
    ASSERT_TRUE(a.Renew().ok()) << "round " << round;
    EXPECT_TRUE(a.held());
  }
  clock.AdvanceMs(kTtl.count() / 2);  // within the last renewal's lease
  EXPECT_EQ(b.Acquire().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(a.Release().ok());
  EXPECT_TRUE(raw->Stat("l").status().IsNotFound());
}

TEST(LeaseLock, RenewKeepsAnotherContenderOut) {
  auto fs = Mem("lease-renew");
  ManualClock clock(1'000'000);
  LeaseLock a(fs.get(), "l", &clock, kTtl);
  LeaseLock b(fs.get(), "l", &clock, kTtl);
  ASSERT_TRUE(a.Acquire().ok());
  for (int i = 0; i < 10; ++i) {
    clock.AdvanceMs(kTtl.count() / 2);
    ASSERT_TRUE(a.Renew().ok());
  }
  EXPECT_EQ(b.Acquire().code(), StatusCode::kAlreadyExists);
}

TEST(LeaseLock, DeadProcessOnThisHostIsTakenOverAtOnce) {
  ManualClock clock(1'000'000);
  // mem stores are per process, so the child locks a local root.
  const std::string dir =
      ::testing::TempDir() + "lease-dead-" + std::to_string(::getpid());
  auto local = std::move(OpenFileSystem(dir).value());
  const pid_t child = ::fork();
  if (child == 0) {
    LeaseLock held(local.get(), "l", &clock, kTtl);
    ::_exit(held.Acquire().ok() ? 0 : 1);  // exits without releasing
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  LeaseLock next(local.get(), "l", &clock, kTtl);
  EXPECT_TRUE(next.Acquire().ok());  // no waiting for the 30 s lease
  EXPECT_TRUE(next.Release().ok());
}

TEST(LeaseLock, GarbageLockObjectIsCorruptionNotSilentTakeover) {
  auto fs = Mem("lease-garbage");
  ManualClock clock(1'000'000);
  ASSERT_TRUE(fs->Write("l", "not a lock", {}).ok());
  LeaseLock a(fs.get(), "l", &clock, kTtl);
  EXPECT_EQ(a.Acquire().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace txflow
