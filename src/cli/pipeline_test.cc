// OpenDetector (cli/pipeline.h): a table whose read failed with a retryable
// error (retried already, by StartImportance's reader) is reported at once,
// without retrying Open over it (which would wait out the whole backoff).
#include "cli/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>

#include "common/clock.h"
#include "common/log.h"
#include "detector/checkpoint.h"
#include "detector/detector.h"
#include "detector/importance_table.h"
#include "io/file_system_wrapper.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

class CountingFs : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::string> Read(std::string_view key) override {
    if (key == kDetectorCurrentKey) ++current_reads;
    return FileSystemWrapper::Read(key);
  }
  std::atomic<int> current_reads{0};
};

TEST(OpenDetector, DoesNotRetryOpenOverAFailedTableRead) {
  SetLogQuiet(true);
  auto base = std::move(
      OpenFileSystem(testing::TestRoot("open-detector/root")).value());
  ManualClock clock(1'795'614'222'000);
  DetectorOptions o;
  {
    auto good = std::move(
        ImportanceTable::Parse(
            "Source,Target,Weight,typeTrans,fraud\n'C1','M1',1,'es_a',0\n", "t")
            .value());
    Detector d(base.get(), &good, o, &clock);
    ASSERT_TRUE(d.Open().ok());
    ASSERT_TRUE(d.Checkpoint().ok());
  }
  ASSERT_TRUE(base->Stat(kDetectorCurrentKey).ok());
  CountingFs fs(std::move(base));
  int reads = 0;
  PendingImportance pending(
      [&reads]() -> Result<ObjectBytes> {
        ++reads;
        return Status::Unavailable("t: 503");
      },
      "t");
  Detector d(&fs, &pending, o, &clock);
  Status s = OpenDetector(&d, &pending);
  EXPECT_EQ(s.ToString(), Status::Unavailable("t: 503").ToString());
  EXPECT_EQ(fs.current_reads.load(), 1);  // one Open, not kMaxRetries + 1
  EXPECT_EQ(reads, 1);
}

}  // namespace
}  // namespace txflow
