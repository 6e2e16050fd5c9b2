#include "common/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace txflow {
namespace {

TEST(BackoffDelay, StaysBetweenHalfAndAllOfTheCappedExponential) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    // 100 ms doubling, capped at 10 s: the bound is computed independently.
    const int64_t d = attempt >= 7 ? 10'000 : int64_t{100} << attempt;
    for (int i = 0; i < 200; ++i) {
      const auto w = BackoffDelay(attempt, 100, 10'000).count();
      ASSERT_GE(w, d / 2) << attempt;
      ASSERT_LE(w, d) << attempt;
    }
  }
}

TEST(BackoffDelay, IsJittered) {
  std::set<int64_t> seen;
  for (int i = 0; i < 100; ++i)
    seen.insert(BackoffDelay(5, 100, 10'000).count());
  EXPECT_GT(seen.size(), 20u);
}

}  // namespace
}  // namespace txflow
