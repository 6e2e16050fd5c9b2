// DetectionFileCursor: the split of detections into files of 50 (SPEC §4.4).
// Expected spans are worked out by hand from the spec's rule, not from the
// code: 50 to a file, files numbered from 1 without a gap, a flush writes
// the rest as a shorter file.
#include "detector/detection_file.h"

#include <gtest/gtest.h>

#include <vector>

namespace txflow {
namespace {

using Spans = std::vector<DetectionFileSpan>;

TEST(DetectionFileCursor, FewerThanAFileStayPending) {
  DetectionFileCursor c;
  EXPECT_EQ(c.Add(49), Spans{});
  EXPECT_EQ(c.pending(), 49u);
  EXPECT_EQ(c.files(), 0u);
  EXPECT_EQ(c.FileSeqOf(48), 1u);  // the 49th joins file 1
}

TEST(DetectionFileCursor, FiftyMakeOneFile) {
  DetectionFileCursor c;
  EXPECT_EQ(c.Add(50), (Spans{{1, 0, 50}}));
  EXPECT_EQ(c.pending(), 0u);
  EXPECT_EQ(c.files(), 1u);
}

TEST(DetectionFileCursor, OneHundredTwentyMakeTwoFilesAndLeaveTwenty) {
  DetectionFileCursor c;
  EXPECT_EQ(c.Add(120), (Spans{{1, 0, 50}, {2, 50, 50}}));
  EXPECT_EQ(c.pending(), 20u);
  EXPECT_EQ(c.files(), 2u);
}

TEST(DetectionFileCursor, SeqContinuesAcrossCalls) {
  DetectionFileCursor c;
  EXPECT_EQ(c.Add(30), Spans{});
  // 30 pending + 30: file 1 is the first 50 of the list, 10 stay.
  EXPECT_EQ(c.Add(30), (Spans{{1, 0, 50}}));
  EXPECT_EQ(c.pending(), 10u);
  // 10 pending + 95 = 105: files 2 and 3, 5 stay.
  EXPECT_EQ(c.Add(95), (Spans{{2, 0, 50}, {3, 50, 50}}));
  EXPECT_EQ(c.pending(), 5u);
  EXPECT_EQ(c.files(), 3u);
  EXPECT_EQ(c.Add(0), Spans{});
}

TEST(DetectionFileCursor, ContinuesAfterTheFilesItStartsFrom) {
  DetectionFileCursor c(/*files=*/7, /*pending=*/45);
  EXPECT_EQ(c.Add(4), Spans{});
  EXPECT_EQ(c.Add(1), (Spans{{8, 0, 50}}));
}

TEST(DetectionFileCursor, FlushWritesTheShortRemainder) {
  DetectionFileCursor c(/*files=*/3, /*pending=*/7);
  EXPECT_EQ(c.Flush(), (Spans{{4, 0, 7}}));
  EXPECT_EQ(c.pending(), 0u);
  EXPECT_EQ(c.files(), 4u);
  // The short file is closed: the next detection starts file 5.
  EXPECT_EQ(c.FileSeqOf(0), 5u);
  EXPECT_EQ(c.Add(50), (Spans{{5, 0, 50}}));
}

TEST(DetectionFileCursor, FlushWithNothingPendingWritesNothing) {
  DetectionFileCursor c(/*files=*/2, /*pending=*/0);
  EXPECT_EQ(c.Flush(), Spans{});
  EXPECT_EQ(c.files(), 2u);
}

TEST(DetectionFileCursor, FlushWritesCompleteFilesBeforeTheShortOne) {
  DetectionFileCursor c(/*files=*/0, /*pending=*/73);
  EXPECT_EQ(c.Flush(), (Spans{{1, 0, 50}, {2, 50, 23}}));
  EXPECT_EQ(c.files(), 2u);
  EXPECT_EQ(c.pending(), 0u);
}

// A restart can find more than a file's worth pending (a crash between the
// detections' commit and their files): the next Add hands them out.
TEST(DetectionFileCursor, MoreThanAFilePendingAtStartIsHandedOutByAdd) {
  DetectionFileCursor c(/*files=*/4, /*pending=*/130);
  EXPECT_EQ(c.FileSeqOf(0), 5u);
  EXPECT_EQ(c.FileSeqOf(49), 5u);
  EXPECT_EQ(c.FileSeqOf(50), 6u);
  EXPECT_EQ(c.FileSeqOf(129), 7u);
  EXPECT_EQ(c.FileSeqOf(130), 7u);  // the next detection: 31st of file 7
  EXPECT_EQ(c.Add(0), (Spans{{5, 0, 50}, {6, 50, 50}}));
  EXPECT_EQ(c.pending(), 30u);
  EXPECT_EQ(c.FileSeqOf(30), 7u);
}

TEST(DetectionFileCursor, FileSeqOfCountsFromTheFrontOfThePendingList) {
  DetectionFileCursor c;
  EXPECT_EQ(c.Add(30), Spans{});
  EXPECT_EQ(c.FileSeqOf(30), 1u);  // 31st detection
  EXPECT_EQ(c.FileSeqOf(49), 1u);  // 50th
  EXPECT_EQ(c.FileSeqOf(50), 2u);  // 51st
}

TEST(DetectionFile, KeyIsNamedByTheLastDetectionsSecond) {
  const std::vector<Detection> rows = {
      {Pattern::kDei, "C1", "M1", 1'795'614'100'000, {}},
      {Pattern::kChild, "C2", "M1", 1'795'614'222'999, {}}};
  EXPECT_EQ(DetectionFileKeyFor(7, rows),
            "detections/detections_1795614222_000007.csv");
}

}  // namespace
}  // namespace txflow
