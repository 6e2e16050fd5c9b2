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

}  // namespace
}  // namespace txflow
