#include "common/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace txflow {

SystemClock* SystemClock::Get() {
  static SystemClock clock;
  return &clock;
}

int64_t SystemClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// ISO 8601 with milliseconds; `offset_minutes` < 0 west of UTC. `zulu`
// writes "Z" instead of "+00:00".
std::string FormatIso8601(int64_t unix_ms, int offset_minutes, bool zulu) {
  const int64_t local_ms = unix_ms + int64_t{offset_minutes} * 60'000;
  int64_t secs = local_ms / 1000;
  int64_t ms = local_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[96];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03d",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  if (zulu) {
    std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), "Z");
  } else {
    const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), "%c%02d:%02d",
                  offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
  }
  return buf;
}

}  // namespace

std::string FormatUtcMs(int64_t unix_ms) {
  return FormatIso8601(unix_ms, 0, true);
}

std::optional<int64_t> ParseUtcMs(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
                  &s, &n) != 6 ||
      n != 19) {
    return std::nullopt;
  }
  int ms = 0;
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    // Milliseconds from the first three digits; S3 may send more or fewer.
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) ms = ms * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  if (rest != "Z" || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
      mi > 59 || s > 60) {
    return std::nullopt;
  }
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return int64_t{timegm(&tm)} * 1000 + ms;
}

std::string FormatWithOffsetMs(int64_t unix_ms, int offset_minutes) {
  return FormatIso8601(unix_ms, offset_minutes, false);
}

}  // namespace txflow
