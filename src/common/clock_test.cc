#include "common/clock.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

TEST(FormatUtcMs, FormatsEpochAndMilliseconds) {
  EXPECT_EQ(FormatUtcMs(0), "1970-01-01T00:00:00.000Z");
  // 2026-11-25T13:43:42Z is 1795614222 s after the epoch (date -u -d
  // 2026-11-25T13:43:42Z +%s).
  EXPECT_EQ(FormatUtcMs(1'795'614'222'123), "2026-11-25T13:43:42.123Z");
  EXPECT_EQ(FormatUtcMs(-1), "1969-12-31T23:59:59.999Z");
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock c(1000);
  EXPECT_EQ(c.NowMs(), 1000);
  c.AdvanceMs(500);
  EXPECT_EQ(c.NowMs(), 1500);
}

TEST(ParseUtcMs, InvertsFormatUtcMs) {
  for (int64_t ms : {int64_t{0}, int64_t{1'795'614'222'123}, int64_t{999}}) {
    EXPECT_EQ(ParseUtcMs(FormatUtcMs(ms)), ms);
  }
}

TEST(ParseUtcMs, AcceptsS3LastModifiedShapes) {
  // 2026-11-25T13:43:42Z is 1,795,614,222 s after the epoch (FormatUtcMs test).
  EXPECT_EQ(ParseUtcMs("2026-11-25T13:43:42Z"), 1'795'614'222'000);
  EXPECT_EQ(ParseUtcMs("2026-11-25T13:43:42.5Z"), 1'795'614'222'500);
  EXPECT_EQ(ParseUtcMs("2026-11-25T13:43:42.123456Z"), 1'795'614'222'123);
}

TEST(ParseUtcMs, RefusesOtherText) {
  for (const char* bad :
       {"", "2026-11-25", "2026-11-25T13:43:42", "2026-11-25T13:43:42+05:30",
        "2026-13-25T13:43:42Z", "2026-11-25T13:43:42.Z", "Fri, 27 Nov 2026"}) {
    EXPECT_EQ(ParseUtcMs(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace txflow
