#include "report/html_report.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "common/utf8.h"
#include "report/svg_chart.h"

namespace txflow::report {
namespace {

constexpr const char* kHostile =
    "</script><img src=x onerror=alert(1)>\"'&<svg onload=alert(2)>";

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

ReportData HostileData() {
  ReportData d;
  d.root = std::string("mem://r/") + kHostile;
  d.detections = 1;
  d.detection_files = 1;
  d.per_pattern = {1, 0, 0};
  d.detections_over_time[0].Add(1795618737447, 1);
  d.merchants[kHostile] = 1;
  d.table.push_back({"detections/detections_1795618737_000001.csv",
                     1,
                     kHostile,
                     "PatId1",
                     kHostile,
                     kHostile,
                     kHostile,
                     std::string("landing_zone/") + kHostile,
                     {{"merchant_total", kHostile}}});
  d.bad_rows = 1;
  d.bad_rows_by_reason[kHostile] = 1;
  d.problems.push_back(kHostile);
  d.stats_chunks = 1;
  d.records.Add(1795618737000, 10);
  d.latency_ms.Add(1795618737000, 1.5);
  d.backlog.Add(1795618737000, 2);
  return d;
}

TEST(RenderReport, InputTextNeverBecomesMarkup) {
  const std::string html = RenderReport(HostileData(), {});
  EXPECT_EQ(Count(html, "<img"), 0u);
  EXPECT_EQ(Count(html, "<svg onload"), 0u);
  EXPECT_EQ(Count(html, "onerror=alert"), Count(html, "&lt;img src=x"));
  // The page's own script element, and no other closes.
  EXPECT_EQ(Count(html, "</script>"), 1u);
  // Every place the name is shown: root, problem, merchant bar, reason bar,
  // and in the table the time, action, customer, merchant, chunk and
  // evidence value.
  EXPECT_EQ(Count(html, "&lt;/script&gt;&lt;img"), 10u);
}

// True if some tag <...> has the attribute `name` (preceded by whitespace,
// followed by '='). A scan, not std::regex: GCC 12 warns inside <regex> under
// ASan, and the sanitizer build treats warnings as errors.
bool AnyTagHasAttribute(const std::string& html, const std::string& name) {
  for (size_t open = html.find('<'); open != std::string::npos;
       open = html.find('<', open + 1)) {
    const size_t close = html.find('>', open);
    const std::string tag = html.substr(open, close - open);
    for (size_t at = tag.find(name + "="); at != std::string::npos;
         at = tag.find(name + "=", at + 1)) {
      if (at > 0 && std::isspace(static_cast<unsigned char>(tag[at - 1])))
        return true;
    }
    if (close == std::string::npos) break;
  }
  return false;
}

TEST(RenderReport, LoadsNothingFromOutside) {
  const std::string html = RenderReport(HostileData(), {});
  // No element with a src or href attribute (the hostile text has them, but
  // escaped, outside any tag).
  EXPECT_FALSE(AnyTagHasAttribute(html, "src"));
  EXPECT_FALSE(AnyTagHasAttribute(html, "href"));
  EXPECT_TRUE(AnyTagHasAttribute("<p><img src=x>", "src"));  // the scan works
  EXPECT_FALSE(AnyTagHasAttribute("<p>a src=x</p>", "src"));
  EXPECT_EQ(Count(html, "url("), 0u);
  // Only the SVG namespace name, which is an identifier, not a fetch.
  EXPECT_EQ(Count(html, "http"), Count(html, "http://www.w3.org/2000/svg") +
                                     Count(html, "http-equiv"));
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
}

TEST(RenderReport, EmptyRootSaysNoDataInEverySection) {
  const std::string html = RenderReport(ReportData{}, {});
  // Detections chart, stats, bad rows, merchants, table.
  EXPECT_EQ(Count(html, "class=\"nodata\""), 5u);
  EXPECT_EQ(Count(html, "<polyline"), 0u);
  EXPECT_EQ(Count(html, "id=\"search\""), 0u);
}

TEST(RenderReport, ChartsCarryTheirPoints) {
  ReportData d = HostileData();
  d.detections_over_time[1].Add(1795618797447, 1);
  d.detections_over_time[1].Add(1795618857447, 1);
  const std::string html = RenderReport(d, {});
  // Three pattern lines, throughput, latency mean and max, backlog.
  EXPECT_EQ(Count(html, "<polyline class=\"series\""), 7u);
  EXPECT_NE(html.find("data-points=\"2\""), std::string::npos);
  EXPECT_EQ(Count(html, "<rect class=\"bar\""), 2u);
  EXPECT_EQ(Count(html, "<tr>"), 2u);  // header and one detection
}

TEST(HtmlEscape, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(HtmlEscape("a<b>&\"'c"), "a&lt;b&gt;&amp;&quot;&#39;c");
}

TEST(HtmlEscape, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(HtmlEscape("\xff\xc3("), "\xef\xbf\xbd\xef\xbf\xbd(");
  EXPECT_EQ(HtmlEscape("\xc3\xa9<"), "\xc3\xa9&lt;");  // é kept
}

TEST(RenderReport, PageIsUtf8WhateverTheNames) {
  ReportData d = HostileData();
  const std::string bad = "Jos\xe9\xff\xc3(";  // Latin-1, stray, cut
  d.root += bad;
  d.merchants[bad] = 2;
  d.bad_rows_by_reason[bad] = 1;
  d.problems.push_back(bad);
  d.table.push_back({"detections/detections_1795618737_000001.csv",
                     2,
                     bad,
                     "PatId2",
                     bad,
                     bad,
                     bad,
                     "landing_zone/" + bad,
                     {{"merchant_total", bad}}});
  const std::string html = RenderReport(d, {});
  EXPECT_EQ(Utf8Sanitize(html), html) << "the page is not valid UTF-8";
  EXPECT_EQ(Count(html, "\xff"), 0u);
  EXPECT_GE(Count(html, "Jos\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd("), 10u);
}

TEST(LineChart, ScalesPointsIntoThePlotArea) {
  const std::string svg = LineChart({{"s", "#000", {{0, 0}, {1000, 10}}}}, "u");
  // x from the left edge (64) to the right (708); y from the bottom (184)
  // to the top (24): 10 is the axis maximum.
  EXPECT_NE(svg.find("points=\"64.0,184.0 708.0,24.0\""), std::string::npos)
      << svg;
  EXPECT_EQ(LineChart({{"s", "#000", {}}}, "u"), "");
}

}  // namespace
}  // namespace txflow::report
