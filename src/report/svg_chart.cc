#include "report/svg_chart.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "common/utf8.h"

namespace txflow::report {
namespace {

constexpr double kWidth = 720, kHeight = 220;
constexpr double kLeft = 64, kRight = 12, kTop = 24, kBottom = 36;

std::string Num(double v, const char* format = "%.1f") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

// A round number >= v for the top of the value axis, so its label reads well.
double NiceCeiling(double v) {
  if (v <= 0) return 1;
  double step = 1;
  while (step * 10 <= v) step *= 10;
  while (step > v) step /= 10;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (step * m >= v) return step * m;
  }
  return step * 10;
}

std::string Axes(int64_t t0, int64_t t1, double top, std::string_view unit) {
  const double bottom = kHeight - kBottom;
  std::string s = "<line class=\"axis\" x1=\"" + Num(kLeft) + "\" y1=\"" +
                  Num(kTop) + "\" x2=\"" + Num(kLeft) + "\" y2=\"" +
                  Num(bottom) + "\"/><line class=\"axis\" x1=\"" + Num(kLeft) +
                  "\" y1=\"" + Num(bottom) + "\" x2=\"" + Num(kWidth - kRight) +
                  "\" y2=\"" + Num(bottom) + "\"/>";
  s += "<text x=\"" + Num(kLeft - 4) + "\" y=\"" + Num(kTop + 10) +
       "\" text-anchor=\"end\">" + HtmlEscape(Num(top, "%g")) + "</text>";
  s += "<text x=\"" + Num(kLeft - 4) + "\" y=\"" + Num(bottom) +
       "\" text-anchor=\"end\">0</text>";
  s += "<text x=\"4\" y=\"12\" class=\"unit\">" + HtmlEscape(unit) + "</text>";
  s += "<text x=\"" + Num(kLeft) + "\" y=\"" + Num(kHeight - 10) + "\">" +
       FormatUtc(t0) + "</text>";
  s += "<text x=\"" + Num(kWidth - kRight) + "\" y=\"" + Num(kHeight - 10) +
       "\" text-anchor=\"end\">" + FormatUtc(t1) + "</text>";
  return s;
}

std::string Polyline(const Series& s, int64_t t0, int64_t t1, double top) {
  const double span = std::max<double>(1, static_cast<double>(t1 - t0));
  const double plot_w = kWidth - kLeft - kRight,
               plot_h = kHeight - kTop - kBottom;
  std::string pts;
  for (const auto& [t, v] : s.points) {
    const double x = kLeft + plot_w * static_cast<double>(t - t0) / span;
    const double y = kTop + plot_h * (1 - v / top);
    pts += Num(x) + "," + Num(y) + " ";
  }
  if (!pts.empty()) pts.pop_back();
  return "<polyline class=\"series\" data-points=\"" +
         std::to_string(s.points.size()) + "\" fill=\"none\" stroke=\"" +
         HtmlEscape(s.color) + "\" stroke-width=\"1.5\" points=\"" + pts +
         "\"><title>" + HtmlEscape(s.name) + "</title></polyline>";
}

std::string Legend(const std::vector<Series>& series) {
  std::string s = "<div class=\"legend\">";
  for (const auto& one : series) {
    s += "<span><i style=\"background:" + HtmlEscape(one.color) + "\"></i>" +
         HtmlEscape(one.name) + "</span>";
  }
  return s + "</div>";
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : Utf8Sanitize(s)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatUtc(int64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string LineChart(const std::vector<Series>& series,
                      std::string_view unit) {
  int64_t t0 = INT64_MAX, t1 = INT64_MIN;
  double max = 0;
  for (const auto& s : series) {
    for (const auto& [t, v] : s.points) {
      t0 = std::min(t0, t);
      t1 = std::max(t1, t);
      max = std::max(max, v);
    }
  }
  if (t0 > t1) return "";
  const double top = NiceCeiling(max);
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + Num(kWidth, "%g") +
                    " " + Num(kHeight, "%g") +
                    "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">" +
                    Axes(t0, t1, top, unit);
  for (const auto& s : series) svg += Polyline(s, t0, t1, top);
  return svg + "</svg>" + Legend(series);
}

std::string BarChart(const std::vector<std::pair<std::string, uint64_t>>& items,
                     std::string_view color) {
  if (items.empty()) return "";
  constexpr double kRow = 22, kLabel = 300, kBarMax = 340;
  uint64_t max = 1;
  for (const auto& [label, n] : items) max = std::max(max, n);
  std::string svg = "<svg class=\"chart bars\" viewBox=\"0 0 " +
                    Num(kWidth, "%g") + " " +
                    Num(kRow * static_cast<double>(items.size()) + 4, "%g") +
                    "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">";
  double y = 2;
  for (const auto& [label, n] : items) {
    const double w = std::max(
        1.0, kBarMax * static_cast<double>(n) / static_cast<double>(max));
    svg += "<text x=\"" + Num(kLabel - 6) + "\" y=\"" + Num(y + 15) +
           "\" text-anchor=\"end\">" + HtmlEscape(label) + "</text>";
    svg += "<rect class=\"bar\" x=\"" + Num(kLabel) + "\" y=\"" + Num(y + 3) +
           "\" width=\"" + Num(w) + "\" height=\"" + Num(kRow - 6) +
           "\" fill=\"" + HtmlEscape(color) + "\"/>";
    svg += "<text x=\"" + Num(kLabel + w + 6) + "\" y=\"" + Num(y + 15) +
           "\">" + std::to_string(n) + "</text>";
    y += kRow;
  }
  return svg + "</svg>";
}

}  // namespace txflow::report
