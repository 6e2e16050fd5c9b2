#include "obs/metrics.h"

#include <gtest/gtest.h>

namespace txflow::obs {
namespace {

TEST(ObsMetrics, CounterRendersHelpTypeAndValueWithLabels) {
  Registry r;
  r.AddCounter("a_total", "Things.", {{"k", "v1"}}).Add(3);
  r.AddCounter("a_total", "Things.", {{"k", "v2"}});
  EXPECT_EQ(r.Render(),
            "# HELP a_total Things.\n# TYPE a_total counter\n"
            "a_total{k=\"v1\"} 3\na_total{k=\"v2\"} 0\n");
}

TEST(ObsMetrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram& h = r.AddHistogram("t_seconds", "T.", {0.5, 1});
  h.Observe(0.5);  // le is inclusive: 0.5 falls in the 0.5 bucket
  h.Observe(0.75);
  h.Observe(7);
  EXPECT_EQ(r.Render(),
            "# HELP t_seconds T.\n# TYPE t_seconds histogram\n"
            "t_seconds_bucket{le=\"0.5\"} 1\nt_seconds_bucket{le=\"1\"} 2\n"
            "t_seconds_bucket{le=\"+Inf\"} 3\nt_seconds_sum 8.25\n"
            "t_seconds_count 3\n");
}

TEST(ObsMetrics, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("a\\b\"c\nd"), "a\\\\b\"c\\nd");
}

TEST(ObsMetrics, SampleValuesRoundTripAndNameInfinities) {
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(12), "12");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatSampleValue(-1.0 / 0.0), "-Inf");
}

TEST(ObsMetrics, GaugeFuncIsReadAtRender) {
  Registry r;
  double v = 1;
  r.AddGaugeFunc("g", "G.", [&] { return v; });
  v = 2.5;
  EXPECT_NE(r.Render().find("\ng 2.5\n"), std::string::npos);
}

TEST(ObsMetricsDeathTest, BadNamesAndConflictingFamiliesAbort) {
  Registry r;
  EXPECT_DEATH(r.AddCounter("1bad", "x"), "bad metric name");
  EXPECT_DEATH(r.AddCounter("c", "x", {{"le", "1"}}), "bad label name");
  r.AddCounter("c_total", "x");
  EXPECT_DEATH(r.AddGauge("c_total", "x"), "registered twice");
}

}  // namespace
}  // namespace txflow::obs
