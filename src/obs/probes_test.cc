#include "obs/probes.h"

#include <gtest/gtest.h>

#include <string>

#include "obs/telemetry.h"
#include "txflow/file_system.h"

namespace txflow::obs {
namespace {

TEST(ObsBacklogTracker,
     LagIsTheAgeOfTheFirstSightingOfTheOldestUnprocessedChunk) {
  BacklogTracker t;
  double lag = -1;
  EXPECT_EQ(t.Done(0, 1000, &lag), 0u);
  EXPECT_EQ(lag, 0);
  t.Saw(2, 1000);  // chunks 0 and 1 seen at t=1s
  t.Saw(5, 3000);  // chunks 2..4 seen at t=3s
  EXPECT_EQ(t.Done(0, 4000, &lag), 5u);
  EXPECT_DOUBLE_EQ(lag, 3.0);  // chunk 0, seen at 1s
  EXPECT_EQ(t.Done(2, 4500, &lag), 3u);
  EXPECT_DOUBLE_EQ(lag, 1.5);  // chunk 2, seen at 3s
  EXPECT_EQ(t.Done(5, 5000, &lag), 0u);
  EXPECT_EQ(lag, 0);
}

TEST(ObsBadRowReasons, QuarantineReasonsMapToBoundedLabels) {
  EXPECT_EQ(BadRowReasonLabel("has 4 fields, header has 10"), "field_count");
  EXPECT_EQ(BadRowReasonLabel("empty customer"), "empty_customer");
  EXPECT_EQ(BadRowReasonLabel("empty category"), "empty_category");
  EXPECT_EQ(BadRowReasonLabel("amount '1e2' is not a decimal number"),
            "bad_amount");
  EXPECT_EQ(BadRowReasonLabel(
                "amount '1e20' is beyond +-100000000000.00, the range held "
                "exactly"),
            "amount_range");
  EXPECT_EQ(BadRowReasonLabel("unterminated double quote"), "malformed_csv");
}

// txflow_storage_requests_total{op="read",status="ok"} as rendered now.
double StorageReadsOk() {
  const std::string text = Telemetry::Get().registry().Render();
  const std::string name =
      "txflow_storage_requests_total{op=\"read\",status=\"ok\"} ";
  const size_t at = text.find(name);
  return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size()));
}

// Every way of reading a whole object counts one read: ReadInto and
// ReadMapped go to the backend's own (a local file's buffer reuse and
// mapping) and are counted there, not again through Read.
TEST(ObsStorageMetrics, EachWholeReadCountsOnce) {
  auto base = OpenFileSystem("mem://obs-storage-metrics/root");
  ASSERT_TRUE(base.ok());
  auto fs = Telemetry::Get().Instrument(std::move(base).value());
  ASSERT_TRUE(fs->Write("k", "bytes", {}).ok());
  std::string buffer;
  double before = StorageReadsOk();
  ASSERT_TRUE(fs->Read("k").ok());
  EXPECT_EQ(StorageReadsOk() - before, 1);
  before = StorageReadsOk();
  ASSERT_TRUE(fs->ReadInto("k", &buffer).ok());
  EXPECT_EQ(buffer, "bytes");
  EXPECT_EQ(StorageReadsOk() - before, 1);
  before = StorageReadsOk();
  auto mapped = fs->ReadMapped("k");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->view(), "bytes");
  EXPECT_EQ(StorageReadsOk() - before, 1);
}

}  // namespace
}  // namespace txflow::obs
