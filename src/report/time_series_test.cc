#include "report/time_series.h"

#include <gtest/gtest.h>

namespace txflow::report {
namespace {

TEST(TimeSeries, SamplesInOneWidthShareABucket) {
  TimeSeries s(1000, 10);
  s.Add(5000, 2);
  s.Add(5999, 3);
  s.Add(6000, 7);
  const auto b = s.Buckets();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].start_ms, 5000);
  EXPECT_EQ(b[0].sum, 5);
  EXPECT_EQ(b[0].max, 3);
  EXPECT_EQ(b[0].samples, 2u);
  EXPECT_EQ(b[1].start_ms, 6000);
  EXPECT_EQ(b[1].sum, 7);
}

TEST(TimeSeries, NeverHoldsMoreThanMaxBucketsAndKeepsTotals) {
  TimeSeries s(1000, 8);
  double total = 0;
  for (int i = 0; i < 1000; ++i) {
    s.Add(int64_t{i} * 1000, i);
    total += i;
  }
  const auto b = s.Buckets();
  EXPECT_LE(b.size(), 8u);
  // 1000 one-second buckets into <= 8: the width doubled to 128 s (8 * 128 =
  // 1024 >= 1000 > 8 * 64).
  EXPECT_EQ(s.width_ms(), 128000);
  double sum = 0, max = 0;
  uint64_t n = 0;
  for (const auto& x : b) {
    sum += x.sum;
    max = std::max(max, x.max);
    n += x.samples;
    EXPECT_EQ(x.start_ms % s.width_ms(), 0);
  }
  EXPECT_EQ(sum, total);
  EXPECT_EQ(max, 999);
  EXPECT_EQ(n, 1000u);
}

TEST(TimeSeries, OrderOfSamplesDoesNotMatter) {
  TimeSeries up(1000, 4), down(1000, 4);
  for (int i = 0; i < 50; ++i) up.Add(int64_t{i} * 700, i % 7);
  for (int i = 49; i >= 0; --i) down.Add(int64_t{i} * 700, i % 7);
  const auto a = up.Buckets(), b = down.Buckets();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].start_ms, b[i].start_ms);
    EXPECT_EQ(a[i].sum, b[i].sum);
    EXPECT_EQ(a[i].max, b[i].max);
  }
}

TEST(TimeSeries, SmoothedMergesUntilBucketsHoldEnoughSamples) {
  TimeSeries s(1000, 100);
  for (int i = 0; i < 40; ++i) s.Add(int64_t{i} * 700, 5000);  // 28 s
  EXPECT_EQ(s.Buckets().size(), 28u);
  const TimeSeries wide = s.Smoothed(4, 2);
  // 4 s buckets hold 5 or 6 samples (7 buckets); 2 s ones hold about 3.
  EXPECT_EQ(wide.width_ms(), 4000);
  EXPECT_EQ(wide.Buckets().size(), 7u);
  EXPECT_EQ(wide.samples(), 40u);
  EXPECT_EQ(s.width_ms(), 1000);  // the original is unchanged
  EXPECT_EQ(s.Smoothed(100, 5).Buckets().size(), 4u);  // stops at min_buckets
}

}  // namespace
}  // namespace txflow::report
