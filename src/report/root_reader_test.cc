#include "report/root_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/crc32c.h"
#include "testing/test_storage.h"

namespace txflow::report {
namespace {

constexpr const char* kDetHeader =
    "YStartTime,detectionTime,patternId,ActionType,customerName,MerchantId\n";
constexpr const char* kEvHeader =
    "row,chunk,patternId,customerName,MerchantId,merchant_total,customer_count,"
    "count_p90,customer_avg_weight,weight_p10,child_count,child_avg_amount,"
    "female_customers,male_customers,upgrade_min_txns,upgrade_count_"
    "percentile,upgrade_weight_percentile,child_min_txns,child_max_avg,dei_"
    "min_female\n";
constexpr const char* kStatsHeaderLine =
    "chunk,records,bad_rows,detections,process_ms,processed_at_ms,backlog_"
    "chunks\n";

std::string WithTrailer(const std::string& body, const char* tag) {
  char crc[9];
  std::snprintf(crc, sizeof(crc), "%08x", Crc32c(body));
  return body + "# " + tag + " crc32c=" + crc + "\n";
}

std::string Det(const std::string& time, const std::string& pattern,
                const std::string& action, const std::string& customer,
                const std::string& merchant) {
  return "2026-11-25T20:00:00.000+05:30," + time + "," + pattern + "," +
         action + "," + customer + "," + merchant + "\n";
}

class RootReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::move(OpenFileSystem(testing::TestRoot(std::string("report-") +
                                                       info->name())))
                .value();
  }
  void Put(const std::string& key, const std::string& text) {
    ASSERT_TRUE(root_->Write(key, text).ok()) << key;
  }
  ReportData Read(ReportLimits limits = {}) {
    auto d = ReadReportData(root_.get(), limits, 0);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return std::move(d).value();
  }
  // Two detection files: three detections, then two.
  void PutTwoDetectionFiles() {
    Put("detections/detections_1795618737_000001.csv",
        std::string(kDetHeader) +
            Det("2026-11-25T20:28:57.447+05:30", "PatId1", "UPGRADE", "C1",
                "M1") +
            Det("2026-11-25T20:28:57.500+05:30", "PatId2", "CHILD", "C2",
                "M1") +
            Det("2026-11-25T20:28:58.000+05:30", "PatId3", "DEI-NEEDED", "\"\"",
                "M2"));
    Put("detections/detections_1795618800_000002.csv",
        std::string(kDetHeader) +
            Det("2026-11-25T20:30:00.000+05:30", "PatId1", "UPGRADE", "C3",
                "M2") +
            Det("2026-11-25T20:30:00.001+05:30", "PatId1", "UPGRADE", "C4",
                "M2"));
  }
  std::unique_ptr<FileSystem> root_;
};

TEST_F(RootReaderTest, EmptyRootReadsAsNothingWithoutProblems) {
  ReportData d = Read();
  EXPECT_EQ(d.detections, 0u);
  EXPECT_EQ(d.stats_chunks, 0u);
  EXPECT_EQ(d.bad_rows, 0u);
  EXPECT_FALSE(d.offset.has_value());
  EXPECT_TRUE(d.problems.empty());
  EXPECT_TRUE(d.table.empty());
}

TEST_F(RootReaderTest, CountsDetectionsByPatternAndMerchant) {
  PutTwoDetectionFiles();
  ReportData d = Read();
  EXPECT_EQ(d.detection_files, 2u);
  EXPECT_EQ(d.detections, 5u);
  EXPECT_EQ(d.per_pattern, (std::array<uint64_t, 3>{3, 1, 1}));
  EXPECT_EQ(d.merchants.at("M1"), 2u);
  EXPECT_EQ(d.merchants.at("M2"), 3u);
  EXPECT_EQ(d.detections_over_time[0].samples(), 3u);
  // The DEI-NEEDED row's "" is read as an empty name.
  EXPECT_EQ(d.table[2].customer, "");
  EXPECT_TRUE(d.problems.empty());
}

TEST_F(RootReaderTest, TableKeepsTheLastRowsInDetectionOrder) {
  PutTwoDetectionFiles();
  ReportLimits limits;
  limits.table_rows = 3;
  ReportData d = Read(limits);
  ASSERT_EQ(d.table.size(), 3u);
  EXPECT_EQ(d.table[0].customer, "");  // file 1, row 3
  EXPECT_EQ(d.table[0].row, 3u);
  EXPECT_EQ(d.table[1].customer, "C3");
  EXPECT_EQ(d.table[2].customer, "C4");
  EXPECT_EQ(d.detections, 5u);  // aggregates still count all
}

TEST_F(RootReaderTest, EvidenceJoinsItsDetectionRowAndOmitsEmptyCells) {
  PutTwoDetectionFiles();
  Put("detections/evidence/detections_1795618737_000001.csv",
      WithTrailer(std::string(kEvHeader) +
                      "1,landing_zone/chunk-000000000000.csv,PatId1,C1,M1,"
                      "250,12,11,5.000000,7.000000,,,,,"
                      "10000,90,10,,,\n"
                      "3,landing_zone/chunk-000000010000.csv,PatId3,,M2,"
                      "80,,,,,,,4,9,,,,,,10\n",
                  "txflow-evidence-1"));
  ReportData d = Read();
  EXPECT_EQ(d.evidence_files, 1u);
  EXPECT_TRUE(d.problems.empty()) << d.problems[0];
  EXPECT_EQ(d.table[0].chunk, "landing_zone/chunk-000000000000.csv");
  ASSERT_FALSE(d.table[0].evidence.empty());
  EXPECT_EQ(d.table[0].evidence[0],
            (std::pair<std::string, std::string>{"merchant_total", "250"}));
  EXPECT_EQ(d.table[0].evidence.size(), 8u);
  EXPECT_EQ(d.table[1].chunk, "");  // row 2 has no evidence row
  EXPECT_EQ(d.table[2].chunk, "landing_zone/chunk-000000010000.csv");
  EXPECT_EQ(d.table[2].evidence,
            (std::vector<std::pair<std::string, std::string>>{
                {"merchant_total", "80"},
                {"female_customers", "4"},
                {"male_customers", "9"},
                {"dei_min_female", "10"}}));
  EXPECT_EQ(d.table[3].chunk, "");  // file 2 has no sidecar yet
}

TEST_F(RootReaderTest, DamagedEvidenceIsNamedAndNotUsed) {
  PutTwoDetectionFiles();
  std::string ev = WithTrailer(
      std::string(kEvHeader) +
          "1,landing_zone/chunk-000000000000.csv,PatId1,C1,M1,250,12,11,"
          "5.000000,7.000000,,,,,10000,90,10,,,\n",
      "txflow-evidence-1");
  ev[ev.find("250")] = '9';
  Put("detections/evidence/detections_1795618737_000001.csv", ev);
  ReportData d = Read();
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_NE(d.problems[0].find("detections_1795618737_000001.csv"),
            std::string::npos);
  EXPECT_NE(d.problems[0].find("checksum"), std::string::npos);
  EXPECT_EQ(d.table[0].chunk, "");
}

TEST_F(RootReaderTest, EvidenceForAnotherDetectionIsAProblem) {
  PutTwoDetectionFiles();
  Put("detections/evidence/detections_1795618737_000001.csv",
      WithTrailer(std::string(kEvHeader) +
                      "1,landing_zone/chunk-000000000000.csv,PatId1,C9,M1,"
                      "250,12,11,5.000000,7.000000,,,,,10000,90,10,,,\n",
                  "txflow-evidence-1"));
  ReportData d = Read();
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_NE(d.problems[0].find("another detection"), std::string::npos);
}

TEST_F(RootReaderTest, StatsReplayKeepsTheLastRowOfAChunk) {
  Put("state/detector/stats/stats_000000000000.csv",
      WithTrailer(std::string(kStatsHeaderLine) +
                      "landing_zone/chunk-000000000000.csv,100,0,1,10.000,"
                      "1795618737000,3\n"
                      "landing_zone/chunk-000000000100.csv,100,2,0,20.000,"
                      "1795618738000,2\n",
                  "txflow-stats-1"));
  // After a crash, the replay rewrote chunk 100 with another timing.
  Put("state/detector/stats/stats_000000000100.csv",
      WithTrailer(std::string(kStatsHeaderLine) +
                      "landing_zone/chunk-000000000100.csv,100,2,0,40.500,"
                      "1795618740000,-1\n"
                      "landing_zone/chunk-000000000200.csv,50,0,0,5.000,"
                      "1795618741000,0\n",
                  "txflow-stats-1"));
  ReportData d = Read();
  EXPECT_TRUE(d.problems.empty());
  EXPECT_EQ(d.stats_chunks, 3u);
  double latency = 0, records = 0;
  for (const auto& b : d.latency_ms.Buckets()) latency += b.sum;
  for (const auto& b : d.records.Buckets()) records += b.sum;
  EXPECT_DOUBLE_EQ(latency, 10 + 40.5 + 5);
  EXPECT_EQ(records, 250);
  EXPECT_EQ(d.backlog.samples(), 2u);  // -1 is "unknown", not a sample
}

TEST_F(RootReaderTest, StatsOfAnotherVersionAreSkippedWithAProblem) {
  Put("state/detector/stats/stats_000000000000.csv",
      WithTrailer(std::string(kStatsHeaderLine) +
                      "landing_zone/chunk-000000000000.csv,100,0,1,10.000,"
                      "1795618737000,3\n",
                  "txflow-stats-2"));
  ReportData d = Read();
  EXPECT_EQ(d.stats_chunks, 0u);
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_NE(d.problems[0].find("txflow-stats-1"), std::string::npos);
}

TEST_F(RootReaderTest, QuarantineCountsRowsByKindOfReason) {
  Put("quarantine/chunk-000000000000.csv",
      "chunk,record,byte_offset,reason,raw\n"
      "landing_zone/chunk-000000000000.csv,1,51,amount '1e2' is not a decimal "
      "number,\"'C2','M1','F',1e2\"\n"
      "landing_zone/chunk-000000000000.csv,2,80,empty customer,\"a\nb\"\n");
  Put("quarantine/chunk-000000000010.csv",
      "chunk,record,byte_offset,reason,raw\n"
      "landing_zone/chunk-000000000010.csv,12,51,amount 'x' is not a decimal "
      "number,x\n");
  ReportData d = Read();
  EXPECT_EQ(d.bad_rows, 3u);
  EXPECT_EQ(d.bad_rows_by_reason.at("amount '\xe2\x80\xa6' is not a decimal "
                                    "number"),
            2u);
  EXPECT_EQ(d.bad_rows_by_reason.at("empty customer"), 1u);
}

TEST_F(RootReaderTest, DamagedOffsetIsAProblemNotAFailure) {
  Put("state/offset.csv", "format,source\ntxflow-offset-9,x\n");
  ReportData d = Read();
  EXPECT_FALSE(d.offset.has_value());
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_NE(d.problems[0].find("state/offset.csv"), std::string::npos);
}

TEST(ParseIsoMs, ReadsTheDetectionFileTimeWithItsOffset) {
  // Expected values from Python's datetime, not from this code.
  EXPECT_EQ(ParseIsoMs("2026-11-25T20:28:57.447+05:30"), 1795618737447);
  EXPECT_EQ(ParseIsoMs("1969-12-31T23:00:00.000-04:00"), 10800000);
  EXPECT_EQ(ParseIsoMs("2026-11-25T20:28:57+05:30"), std::nullopt);
  EXPECT_EQ(ParseIsoMs("2026-13-25T20:28:57.447+05:30"), std::nullopt);
}

TEST(CheckTrailer, AcceptsTheLineWithOrWithoutFinalNewline) {
  const std::string body = "a,b\n1,2\n";
  const std::string file = WithTrailer(body, "txflow-stats-1");
  EXPECT_EQ(CheckTrailer(file, "txflow-stats-1", "u").value(), body);
  EXPECT_EQ(CheckTrailer(file.substr(0, file.size() - 1), "txflow-stats-1", "u")
                .value(),
            body);
  EXPECT_FALSE(CheckTrailer(body, "txflow-stats-1", "u").ok());
  EXPECT_FALSE(CheckTrailer(file, "txflow-evidence-1", "u").ok());
}

TEST(ReasonKind, HidesTheQuotedInput) {
  EXPECT_EQ(ReasonKind("amount 'a'b' is not a decimal number"),
            "amount '\xe2\x80\xa6' is not a decimal number");
  EXPECT_EQ(ReasonKind("has 3 fields, header has 10"),
            "has 3 fields, header has 10");
}

}  // namespace
}  // namespace txflow::report
