#include "detector/count_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace txflow {
namespace {

// Differential: against a sorted vector, through inserts, erases and growth.
TEST(CountHistogram, KthMatchesSortedMultiset) {
  std::mt19937_64 rng(8);
  CountHistogram h;
  std::vector<uint64_t> ref;
  for (int step = 0; step < 20'000; ++step) {
    if (ref.empty() || rng() % 3 != 0) {
      const uint64_t v = 1 + (step < 10'000 ? rng() % 50 : rng() % 5'000);
      h.Add(v, +1);
      ref.insert(std::upper_bound(ref.begin(), ref.end(), v), v);
    } else {
      const size_t at = rng() % ref.size();
      h.Add(ref[at], -1);
      ref.erase(ref.begin() + static_cast<ptrdiff_t>(at));
    }
    ASSERT_EQ(h.size(), ref.size());
    if (!ref.empty()) {
      const uint64_t k = rng() % ref.size();
      ASSERT_EQ(h.Kth(k), ref[k]) << "step " << step << " k " << k;
      ASSERT_EQ(h.Kth(0), ref.front());
      ASSERT_EQ(h.Kth(ref.size() - 1), ref.back());
    }
  }
}

// Move(from, to) against the same reference: small steps up (a customer's
// count growing), jumps past the tree's size (growth) and steps down.
TEST(CountHistogram, MoveMatchesEraseThenInsert) {
  std::mt19937_64 rng(15);
  CountHistogram h;
  std::vector<uint64_t> ref;
  for (int i = 0; i < 300; ++i) {
    const uint64_t v = 1 + rng() % 20;
    h.Add(v, +1);
    ref.insert(std::upper_bound(ref.begin(), ref.end(), v), v);
  }
  for (int step = 0; step < 20'000; ++step) {
    const size_t at = rng() % ref.size();
    const uint64_t from = ref[at];
    const int kind = static_cast<int>(rng() % 10);
    const uint64_t to = kind < 7   ? from + 1 + rng() % 3
                        : kind < 8 ? from + 1 + rng() % 9'000
                                   : 1 + rng() % from;
    h.Move(from, to);
    ref.erase(ref.begin() + static_cast<ptrdiff_t>(at));
    ref.insert(std::upper_bound(ref.begin(), ref.end(), to), to);
    ASSERT_EQ(h.size(), ref.size());
    const uint64_t k = rng() % ref.size();
    ASSERT_EQ(h.Kth(k), ref[k]) << "step " << step << " k " << k;
    ASSERT_EQ(h.Kth(ref.size() - 1), ref.back()) << "step " << step;
  }
}

}  // namespace
}  // namespace txflow
