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

std::string FormatWithOffsetMs(int64_t unix_ms, int offset_minutes) {
  return FormatIso8601(unix_ms, offset_minutes, false);
}

}  // namespace txflow
