#include "cli/progress.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

// X at record 40,000 of a source whose records take 100 bytes after a
// 50-byte header: 4,000,050 bytes cut of 10,000,050 seen, so 100,000
// records in all.
OffsetState XAt40Percent() {
  OffsetState x;
  x.next_record = 40'000;
  x.chunks_written = 4;
  x.header_bytes = 50;
  x.byte_offset = 50 + 40'000 * 100;
  x.source_size_seen = 50 + 100'000 * 100;
  return x;
}

TEST(FormatProgress, ChunkerAloneShowsShareAndEtaWhenDraining) {
  ProgressSnapshot s;
  s.x = XAt40Percent();
  s.records_per_second = 2000;
  s.drain = true;
  // 60,000 records left at 2,000/s: 30 s.
  EXPECT_EQ(FormatProgress(s),
            "x 40,000 rec in 4 chunks | 2.0k rec/s | 40% ETA 0:30");
}

TEST(FormatProgress, NoShareOrEtaWhenTheSourceMayGrow) {
  ProgressSnapshot s;
  s.x = XAt40Percent();
  s.records_per_second = 2000;
  EXPECT_EQ(FormatProgress(s), "x 40,000 rec in 4 chunks | 2.0k rec/s");
}

TEST(FormatProgress, DetectorEtaCountsTheRecordsItHasNotProcessed) {
  ProgressSnapshot s;
  s.x = XAt40Percent();
  s.y = true;
  s.y_records = 10'000;
  s.y_chunks = 1;
  s.y_detections = 1234;
  s.y_files = 24;
  s.records_per_second = 1.5e6;
  s.drain = true;
  // 90,000 of 100,000 records left at 1.5 M/s: 0.06 s, shown as 0:00.
  EXPECT_EQ(FormatProgress(s),
            "x 40,000 rec in 4 chunks | y 10,000 rec, 1 chunks, 1,234 "
            "detections, 24 files | 1.50M rec/s | 10% ETA 0:00");
}

TEST(FormatProgress, HoursAppearPastAnHour) {
  ProgressSnapshot s;
  s.x = XAt40Percent();
  s.records_per_second = 10;  // 60,000 records: 6,000 s = 1:40:00
  s.drain = true;
  EXPECT_EQ(FormatProgress(s),
            "x 40,000 rec in 4 chunks | 10 rec/s | 40% ETA 1:40:00");
}

TEST(FormatProgress, NoRateOrEtaBeforeARateIsMeasured) {
  ProgressSnapshot s;
  s.x = XAt40Percent();
  s.drain = true;
  EXPECT_EQ(FormatProgress(s), "x 40,000 rec in 4 chunks | 40%");
  s.records_per_second = 0;  // stalled: no ETA
  EXPECT_EQ(FormatProgress(s), "x 40,000 rec in 4 chunks | 0 rec/s | 40%");
  s.x = OffsetState();  // before the first record: no share either
  EXPECT_EQ(FormatProgress(s), "x 0 rec in 0 chunks | 0 rec/s");
}

}  // namespace
}  // namespace txflow
