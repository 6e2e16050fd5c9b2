// Inline SVG charts for the report: no script, no external resource, every
// label HTML-escaped, so the page renders offline and input text cannot
// become markup.
#ifndef TXFLOW_REPORT_SVG_CHART_H_
#define TXFLOW_REPORT_SVG_CHART_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txflow::report {

// `s` with & < > " ' as character references: safe in element content and in
// quoted attribute values, which is everywhere the report puts input text.
// Bytes that are not UTF-8 (names from the source are bytes) become U+FFFD,
// so the page is valid UTF-8 whatever the input.
std::string HtmlEscape(std::string_view s);

struct Series {
  std::string name;
  std::string color;                               // CSS color
  std::vector<std::pair<int64_t, double>> points;  // (Unix ms, value)
};

// A line chart over time: one polyline per series (class "series", with
// data-points = its number of points), a time axis in UTC and a value axis
// from 0. `unit` labels the value axis. Empty string when no series has a
// point: the caller says "no data".
std::string LineChart(const std::vector<Series>& series, std::string_view unit);

// Horizontal bars, largest first as given: one <rect class="bar"> per item,
// its label and count beside it.
std::string BarChart(const std::vector<std::pair<std::string, uint64_t>>& items,
                     std::string_view color);

// "2026-11-25 14:58:16Z" for Unix ms (UTC).
std::string FormatUtc(int64_t unix_ms);

}  // namespace txflow::report

#endif  // TXFLOW_REPORT_SVG_CHART_H_
