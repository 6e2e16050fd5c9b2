#include "detector/sidecar_files.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

Evidence Known(uint64_t total) {
  Evidence e;
  e.known = true;
  e.chunk = "landing_zone/chunk-000000010000.csv";
  e.merchant_total = total;
  return e;
}

// One row per pattern, cells worked out by hand: averages rounded half away
// from zero to 6 decimals, amounts in rupees, empty cells where the pattern
// does not apply.
TEST(EvidenceFile, RowsPerPatternWithEmptyCellsWhereTheyDoNotApply) {
  Evidence up = Known(50'001);
  up.count = 3;
  up.weight_micro = 2'000'000;          // 2/3 unit = 0.666667 (rounded up)
  up.count_bound_x100 = 250;            // 2.50
  up.weight_bound_micro = 1'500'000.5;  // 1.500001 (half away from zero)
  Evidence child = Known(90);
  child.count = 80;
  child.amount_paise = -80 * 2299 - 1;  // -22.990125 rupees on average
  Evidence dei = Known(205);
  dei.female = 101;
  dei.male = 102;
  Thresholds t;
  t.child_max_avg_paise = 2305;
  const std::string text = EncodeEvidenceFile(
      {{Pattern::kUpgrade, "C,1", "M1", 5, up},
       {Pattern::kChild, "C2", "M2", 5, child},
       {Pattern::kDei, "", "M3", 5, dei},
       {Pattern::kChild, "C4", "M4", 5, Evidence{}}},  // from a v1 checkpoint
      t);
  const std::string body =
      std::string(kEvidenceHeader) +
      "1,landing_zone/chunk-000000010000.csv,PatId1,\"C,1\",M1,50001,3,2.50,"
      "0.666667,1.500001,,,,,50000,90,10,80,23.05,100\n"
      "2,landing_zone/chunk-000000010000.csv,PatId2,C2,M2,90,,,,,80,"
      "-22.990125,,,50000,90,10,80,23.05,100\n"
      "3,landing_zone/chunk-000000010000.csv,PatId3,\"\",M3,205,,,,,,,101,"
      "102,50000,90,10,80,23.05,100\n"
      "4,\"\",PatId2,C4,M4,,,,,,,,,,50000,90,10,80,23.05,100\n";
  ASSERT_EQ(text.substr(0, body.size()), body);
  EXPECT_EQ(CheckChecksumTrailer(text, kEvidenceTag, "e").value(), body);
}

TEST(EvidenceFile, DamagedOrTruncatedFilesAreRefused) {
  const std::string text = EncodeEvidenceFile(
      {{Pattern::kDei, "", "M3", 5, Known(1)}}, Thresholds{});
  ASSERT_TRUE(CheckChecksumTrailer(text, kEvidenceTag, "e").ok());
  EXPECT_FALSE(CheckChecksumTrailer(text, kChunkStatsTag, "e").ok());
  for (size_t cut = 0; cut < text.size(); ++cut) {
    EXPECT_FALSE(
        CheckChecksumTrailer(text.substr(0, cut), kEvidenceTag, "e").ok())
        << cut;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    std::string flipped = text;
    flipped[i] ^= 0x04;
    EXPECT_FALSE(CheckChecksumTrailer(flipped, kEvidenceTag, "e").ok()) << i;
  }
}

TEST(EvidenceFile, KeyIsTheDetectionFilesNameUnderEvidence) {
  EXPECT_EQ(EvidenceKeyFor("detections/detections_1795614222_000007.csv"),
            "detections/evidence/detections_1795614222_000007.csv");
  EXPECT_EQ(DetectionKeyForEvidence(
                "detections/evidence/detections_1795614222_000007.csv"),
            "detections/detections_1795614222_000007.csv");
  EXPECT_EQ(DetectionKeyForEvidence("detections/evidence/notes.txt"), "");
  EXPECT_EQ(DetectionKeyForEvidence("detections/detections_1_000001.csv"), "");
}

TEST(ChunkStatsFile, RowsHaveMillisecondsWithThreeDecimals) {
  EXPECT_EQ(ChunkStatsKey(10'000),
            "state/detector/stats/stats_000000010000.csv");
  const std::string text =
      EncodeChunkStats({{"landing_zone/chunk-000000000000.csv", 10000, 2, 3,
                         3'412, 1'795'614'222'123, -1},
                        {"landing_zone/chunk-000000010000.csv", 5, 0, 0, 7,
                         1'795'614'222'130, 0}});
  const std::string body =
      std::string(kChunkStatsHeader) +
      "landing_zone/chunk-000000000000.csv,10000,2,3,3.412,1795614222123,-1\n"
      "landing_zone/chunk-000000010000.csv,5,0,0,0.007,1795614222130,0\n";
  ASSERT_EQ(text.substr(0, body.size()), body);
  EXPECT_EQ(CheckChecksumTrailer(text, kChunkStatsTag, "s").value(), body);
}

}  // namespace
}  // namespace txflow
