#include "report/html_report.h"

#include <algorithm>

#include "report/svg_chart.h"

namespace txflow::report {
namespace {

constexpr const char* kPatternColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c"};
constexpr size_t kTopMerchants = 15;
constexpr size_t kLabelBytes = 48;

constexpr const char* kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1280px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.chart{width:100%;max-width:720px;height:auto;font-size:11px}
.chart text{fill:#444}.axis{stroke:#888}.unit{font-weight:bold}
.legend span{margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.nodata{color:#888;font-style:italic}.problems li{color:#a00}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#666}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
td.ev{font-family:monospace;font-size:11px;color:#333;min-width:420px}
#search{width:320px;padding:4px;margin:8px 0}
</style>)";

// Filters the table by the rows' text; textContent, never innerHTML, so
// searching cannot turn data into markup.
constexpr const char* kScript = R"(<script>
(function(){var q=document.getElementById('search');if(!q)return;
var rows=Array.prototype.slice.call(document.querySelectorAll('#detections tbody tr'));
var shown=document.getElementById('shown');
q.addEventListener('input',function(){var t=q.value.toLowerCase(),n=0;
rows.forEach(function(r){var m=r.textContent.toLowerCase().indexOf(t)>=0;r.hidden=!m;if(m)n++;});
shown.textContent=String(n);});})();
</script>)";

std::string NoData(std::string_view why) {
  return "<p class=\"nodata\">no data: " + HtmlEscape(why) + "</p>";
}

std::string Section(std::string_view title, std::string_view body) {
  return "<h2>" + HtmlEscape(title) + "</h2>\n" + std::string(body) + "\n";
}

// A label cut to kLabelBytes at a UTF-8 character boundary.
std::string Shorten(const std::string& s) {
  if (s.size() <= kLabelBytes) return s;
  size_t end = kLabelBytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "\xe2\x80\xa6";
}

// Per-bucket values as points: `value` maps a bucket to its y.
template <typename F>
std::vector<std::pair<int64_t, double>> Points(const TimeSeries& s, F value) {
  std::vector<std::pair<int64_t, double>> out;
  for (const auto& b : s.Buckets()) out.emplace_back(b.start_ms, value(b, s));
  return out;
}

double PerMinute(const TimeSeries::Bucket& b, const TimeSeries& s) {
  return b.sum * 60000.0 / static_cast<double>(s.width_ms());
}

std::string Overview(const ReportData& d) {
  std::string s = "<dl>";
  auto item = [&](std::string_view k, const std::string& v) {
    s += "<dt>" + HtmlEscape(k) + "</dt><dd>" + HtmlEscape(v) + "</dd>";
  };
  item("root", d.root);
  item("generated", FormatUtc(d.generated_at_ms));
  if (d.offset) {
    item("source", d.offset->source);
    item("records chunked", std::to_string(d.offset->next_record));
    item("chunks written", std::to_string(d.offset->chunks_written));
    item("chunker last tick", FormatUtc(d.offset->updated_at_ms));
  } else {
    item("chunker", "no state/offset.csv yet");
  }
  item("detections",
       std::to_string(d.detections) + " in " +
           std::to_string(d.detection_files) + " files (" + kPatterns[0] + " " +
           std::to_string(d.per_pattern[0]) + ", " + kPatterns[1] + " " +
           std::to_string(d.per_pattern[1]) + ", " + kPatterns[2] + " " +
           std::to_string(d.per_pattern[2]) + ")");
  item("chunks with stats", std::to_string(d.stats_chunks));
  item("bad rows", std::to_string(d.bad_rows));
  return s + "</dl>";
}

std::string Problems(const ReportData& d) {
  if (d.problems.empty()) return "";
  std::string s = "<ul class=\"problems\">";
  for (const auto& p : d.problems) s += "<li>" + HtmlEscape(p) + "</li>";
  if (d.more_problems > 0) {
    s += "<li>and " + std::to_string(d.more_problems) + " more</li>";
  }
  return Section("Files skipped", s + "</ul>");
}

std::string DetectionsChart(const ReportData& d) {
  std::vector<Series> series;
  for (size_t p = 0; p < kPatterns.size(); ++p) {
    series.push_back({kPatterns[p], kPatternColors[p],
                      Points(d.detections_over_time[p], PerMinute)});
  }
  std::string svg = LineChart(series, "detections/min");
  return Section("Detections per pattern over time",
                 svg.empty() ? NoData("no detection files yet") : svg);
}

std::string StatsCharts(const ReportData& d) {
  if (d.stats_chunks == 0) {
    return Section("Throughput, latency and backlog",
                   NoData("no per-chunk stats (state/detector/stats/) yet"));
  }
  auto per_second = [](const TimeSeries::Bucket& b, const TimeSeries& s) {
    return b.sum * 1000.0 / static_cast<double>(s.width_ms());
  };
  auto mean = [](const TimeSeries::Bucket& b, const TimeSeries&) {
    return b.sum / static_cast<double>(b.samples);
  };
  auto max = [](const TimeSeries::Bucket& b, const TimeSeries&) {
    return b.max;
  };
  std::string s = Section(
      "Throughput", LineChart({{"records/s", "#1f77b4",
                                Points(d.records.Smoothed(4, 12), per_second)}},
                              "records/s"));
  s += Section("Per-chunk latency",
               LineChart({{"mean", "#2ca02c", Points(d.latency_ms, mean)},
                          {"max", "#d62728", Points(d.latency_ms, max)}},
                         "ms"));
  std::string backlog =
      LineChart({{"backlog", "#9467bd", Points(d.backlog, max)}}, "chunks");
  s += Section("Backlog",
               backlog.empty() ? NoData("backlog not recorded") : backlog);
  return s;
}

std::vector<std::pair<std::string, uint64_t>> Top(
    const std::map<std::string, uint64_t>& counts, size_t n) {
  std::vector<std::pair<std::string, uint64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second > b.second;
  });
  if (v.size() > n) v.resize(n);
  for (auto& [label, count] : v) label = Shorten(label);
  return v;
}

std::string BarSections(const ReportData& d) {
  std::string reasons = BarChart(Top(d.bad_rows_by_reason, 50), "#d62728");
  std::string s =
      Section("Bad rows by reason",
              reasons.empty() ? NoData("no quarantined rows") : reasons);
  std::string merchants = BarChart(Top(d.merchants, kTopMerchants), "#1f77b4");
  if (d.other_merchants > 0) {
    merchants += "<p>" + std::to_string(d.other_merchants) +
                 " detections of merchants beyond the first names counted "
                 "are not shown.</p>";
  }
  return s +
         Section("Top merchants by detections",
                 merchants.empty() ? NoData("no detections yet") : merchants);
}

std::string EvidenceCell(const DetectionRow& r) {
  if (r.chunk.empty()) return "<td class=\"ev\">(no evidence file)</td>";
  std::string s = "<td class=\"ev\">" + HtmlEscape(r.chunk);
  for (size_t i = 0; i < r.evidence.size(); ++i) {
    s += (i == 0 ? "<br>" : " \u00b7 ") + HtmlEscape(r.evidence[i].first) +
         "=" + HtmlEscape(r.evidence[i].second);
  }
  return s + "</td>";
}

std::string TableRow(const DetectionRow& r) {
  std::string s = "<tr>";
  for (const std::string* v :
       {&r.detection_time, &r.pattern, &r.action, &r.customer, &r.merchant}) {
    s += "<td>" + HtmlEscape(*v) + "</td>";
  }
  s += "<td>" + HtmlEscape(r.file.substr(r.file.rfind('/') + 1)) + ":" +
       std::to_string(r.row) + "</td>";
  return s + EvidenceCell(r) + "</tr>\n";
}

std::string Table(const ReportData& d, const ReportLimits& limits) {
  if (d.table.empty()) {
    return Section("Detections", NoData("no detection files yet"));
  }
  std::string s =
      "<p>The last " + std::to_string(d.table.size()) + " of " +
      std::to_string(d.detections) + " detections (at most " +
      std::to_string(limits.table_rows) +
      ", newest last); showing <span id=\"shown\">" +
      std::to_string(d.table.size()) +
      "</span>.</p><input id=\"search\" type=\"search\" "
      "placeholder=\"filter: customer, merchant, pattern, chunk...\">"
      "<table id=\"detections\"><thead><tr><th>detectionTime</th>"
      "<th>patternId</th><th>ActionType</th><th>customerName</th>"
      "<th>MerchantId</th><th>file:row</th><th>evidence</th></tr></thead>"
      "<tbody>\n";
  for (const auto& r : d.table) s += TableRow(r);
  return Section("Detections", s + "</tbody></table>");
}

}  // namespace

std::string RenderReport(const ReportData& data, const ReportLimits& limits) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
      "<title>txflow report</title>";
  html += kStyle;
  html += "</head><body>\n<h1>txflow report</h1>\n";
  html += Overview(data) + Problems(data) + DetectionsChart(data) +
          StatsCharts(data) + BarSections(data) + Table(data, limits);
  html += kScript;
  return html + "</body></html>\n";
}

}  // namespace txflow::report
