#include "io/conditional_write_probe.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "io/fault_injection_file_system.h"
#include "io/file_system_wrapper.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

std::unique_ptr<FileSystem> Open(const std::string& name) {
  return std::move(OpenFileSystem(testing::TestRoot(name)).value());
}

size_t ProbeObjects(FileSystem* fs) {
  ListOptions o;
  o.prefix = std::string(kProbePrefix);
  auto list = fs->List(o);
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  return list.ok() ? list->size() : 0;
}

// A store like s3proxy 2.6.0's filesystem provider: conditions ignored, the
// write always goes through.
class IgnoringFileSystem : public FileSystemWrapper {
 public:
  IgnoringFileSystem(std::unique_ptr<FileSystem> base, bool create_only,
                     bool if_match)
      : FileSystemWrapper(std::move(base)),
        create_only_(create_only),
        if_match_(if_match) {}
  Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) override {
    WriteOptions o = options;
    if ((o.mode == WriteMode::kCreateOnly && create_only_) ||
        (o.mode == WriteMode::kReplaceIfMatch && if_match_)) {
      o.mode = WriteMode::kOverwrite;
    }
    return base()->Write(key, data, o);
  }

 private:
  bool create_only_, if_match_;
};

// The n-th write takes effect but is reported refused (AlreadyExists or
// PreconditionFailed): what an S3 client reports when a retried conditional
// write meets its own first attempt and cannot read the object back.
class LosingFileSystem : public FileSystemWrapper {
 public:
  LosingFileSystem(std::unique_ptr<FileSystem> base, int n)
      : FileSystemWrapper(std::move(base)), n_(n) {}
  Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) override {
    auto r = base()->Write(key, data, options);
    if (++writes_ != n_ || !r.ok()) return r;
    if (options.mode == WriteMode::kCreateOnly) {
      return Status::AlreadyExists(Uri(key) + ": already exists");
    }
    return Status::PreconditionFailed(Uri(key) + ": changed");
  }

 private:
  int n_, writes_ = 0;
};

TEST(ConditionalWriteProbe, HonouringStorePassesAndLeavesNothing) {
  auto fs = Open("probe-good");
  EXPECT_TRUE(CheckConditionalWrites(fs.get()).ok());
  EXPECT_EQ(ProbeObjects(fs.get()), 0u);
  // Again on the same root: each probe has its own key.
  EXPECT_TRUE(CheckConditionalWrites(fs.get()).ok());
  EXPECT_EQ(ProbeObjects(fs.get()), 0u);
}

TEST(ConditionalWriteProbe, LocalRootPasses) {
  const std::string dir =
      ::testing::TempDir() + "probe-local-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto fs = OpenFileSystem(dir);
  ASSERT_TRUE(fs.ok());
  EXPECT_TRUE(CheckConditionalWrites(fs->get()).ok());
  EXPECT_EQ(ProbeObjects(fs->get()), 0u);
  std::filesystem::remove_all(dir);
}

TEST(ConditionalWriteProbe, IgnoredCreateOnlyIsRefusedByName) {
  IgnoringFileSystem fs(Open("probe-no-create"), true, false);
  Status s = CheckConditionalWrites(&fs);
  EXPECT_EQ(s.code(), StatusCode::kNotSupported);
  std::string root = fs.Uri("");  // "s3://b/p/" on S3: named without the '/'
  if (root.back() == '/') root.pop_back();
  EXPECT_EQ(s.message().rfind(root + ": ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("ignores If-None-Match: * (a create-only write "
                             "overwrote an existing object)"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("If-Match"), std::string::npos) << s.message();
  EXPECT_EQ(ProbeObjects(&fs), 0u);
}

TEST(ConditionalWriteProbe, IgnoredIfMatchIsRefusedByName) {
  IgnoringFileSystem fs(Open("probe-no-match"), false, true);
  Status s = CheckConditionalWrites(&fs);
  EXPECT_EQ(s.code(), StatusCode::kNotSupported);
  EXPECT_NE(s.message().find("ignores If-Match (a replace-if-match write with "
                             "a stale version succeeded)"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("If-None-Match"), std::string::npos)
      << s.message();
  EXPECT_EQ(ProbeObjects(&fs), 0u);
}

TEST(ConditionalWriteProbe, StoreIgnoringBothIsOneLineNamingBoth) {
  IgnoringFileSystem fs(Open("probe-none"), true, true);
  Status s = CheckConditionalWrites(&fs);
  EXPECT_EQ(s.code(), StatusCode::kNotSupported);
  EXPECT_NE(s.message().find("ignores If-None-Match: * and If-Match"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("one writer per root"), std::string::npos);
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  EXPECT_FALSE(s.IsRetryable());
}

// A step that should succeed but is reported refused although it took effect
// (a lost answer) is read back and counted as done.
TEST(ConditionalWriteProbe, LostAnswersDoNotMisreportAGoodStore) {
  for (int n = 1; n <= 4; ++n) {
    LosingFileSystem fs(Open("probe-lost-" + std::to_string(n)), n);
    Status s = CheckConditionalWrites(&fs);
    EXPECT_TRUE(s.ok()) << "write " << n << ": " << s.ToString();
    EXPECT_EQ(ProbeObjects(&fs), 0u);
  }
}

// Transient errors anywhere leave the verdict open; a rerun decides it, and
// never wrongly: a good store passes, whatever failed, before or after it
// took effect.
TEST(ConditionalWriteProbe, RetryableFaultsThenRerunPasses) {
  int n = 0;
  for (FsOp op :
       {FsOp::kWrite, FsOp::kRead, FsOp::kStat, FsOp::kList, FsOp::kDelete}) {
    for (FaultTiming timing : {FaultTiming::kBefore, FaultTiming::kAfter}) {
      for (uint64_t nth = 1; nth <= 4; ++nth) {
        FaultInjectionFileSystem fs(Open("probe-fault-" + std::to_string(++n)));
        fs.FailNth(op, nth, Status::Unavailable("injected 503"), timing);
        Status s = CheckConditionalWrites(&fs);
        EXPECT_TRUE(s.ok() || s.IsRetryable()) << s.ToString();
        if (!s.ok()) {
          EXPECT_NE(s.message().find("conditional-write check: "),
                    std::string::npos)
              << s.message();
        }
        EXPECT_TRUE(CheckConditionalWrites(&fs).ok());
      }
    }
  }
}

// Only age decides: a fresh object is a live probe's even when its pid is
// not running here (it may run in another PID namespace sharing this host
// name, where sweeping it would fail a good store's check).
TEST(ConditionalWriteProbe, SweepsOnlyScratchObjectsOverAnHourOld) {
  auto fs = Open("probe-sweep");
  const std::string mine = ConditionalWriteProbeKey();
  const size_t last = mine.rfind('-');
  const std::string host = mine.substr(
      kProbePrefix.size(), mine.rfind('-', last - 1) - kProbePrefix.size());
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t two_hours = int64_t{7200} * 1'000'000'000;
  const std::string p(kProbePrefix);
  const std::string fresh_dead_pid_here =
      p + host + "-" + std::to_string(dead) + "-" + std::to_string(now);
  const std::string old_here = p + host + "-" + std::to_string(dead) + "-" +
                               std::to_string(now - two_hours);
  const std::string fresh_elsewhere = p + "other.host-5-" + std::to_string(now);
  const std::string old_elsewhere =
      p + "other.host-5-" + std::to_string(now - two_hours);
  const std::string odd = p + "not-a-probe";
  for (const auto& k :
       {fresh_dead_pid_here, old_here, fresh_elsewhere, old_elsewhere, odd}) {
    ASSERT_TRUE(fs->Write(k, "x").ok()) << k;
  }
  ASSERT_TRUE(CheckConditionalWrites(fs.get()).ok());
  EXPECT_TRUE(fs->Stat(old_here).status().IsNotFound());
  EXPECT_TRUE(fs->Stat(old_elsewhere).status().IsNotFound());
  EXPECT_TRUE(fs->Stat(fresh_dead_pid_here).ok());
  EXPECT_TRUE(fs->Stat(fresh_elsewhere).ok());
  EXPECT_TRUE(fs->Stat(odd).ok());
  for (const auto& k : {fresh_dead_pid_here, fresh_elsewhere, odd}) {
    fs->Delete(k).IgnoreError();
  }
}

}  // namespace
}  // namespace txflow
