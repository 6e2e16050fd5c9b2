#include "common/backoff.h"

#include <algorithm>
#include <random>

#include "common/random.h"

namespace txflow {

std::chrono::milliseconds BackoffDelay(int attempt, int64_t base_ms,
                                       int64_t cap_ms) {
  thread_local std::mt19937_64 rng{RandomU64()};
  int64_t d = std::max<int64_t>(base_ms, 1);
  for (int i = 0; i < attempt && d < cap_ms; ++i) d *= 2;
  d = std::min(d, std::max<int64_t>(cap_ms, 1));
  std::uniform_int_distribution<int64_t> half(0, d - d / 2);
  return std::chrono::milliseconds(d / 2 + half(rng));
}

}  // namespace txflow
