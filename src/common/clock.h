// Wall-clock time behind an interface, so tests can move time by hand
// (linger, lock leases) instead of sleeping.
#ifndef TXFLOW_COMMON_CLOCK_H_
#define TXFLOW_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace txflow {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() = 0;
};

// The real clock. Thread-safe; the process-wide instance is SystemClock::Get().
class SystemClock final : public Clock {
 public:
  static SystemClock* Get();
  int64_t NowMs() override;
};

// A clock that only moves when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t NowMs() override { return now_.load(); }
  void AdvanceMs(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

// "2026-11-25T13:43:42.123Z" (UTC, milliseconds).
std::string FormatUtcMs(int64_t unix_ms);

// The inverse of FormatUtcMs: "2026-11-25T13:43:42.123Z" or without the
// fraction ("...:42Z", as S3's LastModified may be) to Unix ms; nullopt for
// anything else.
std::optional<int64_t> ParseUtcMs(std::string_view text);

// "2026-11-25T19:13:42.123+05:30": local time at `offset_minutes` east of
// UTC, milliseconds, explicit offset.
std::string FormatWithOffsetMs(int64_t unix_ms, int offset_minutes);

}  // namespace txflow

#endif  // TXFLOW_COMMON_CLOCK_H_
