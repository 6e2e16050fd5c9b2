#include "detector/weight_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace txflow {
namespace {

// Differential: against a brute-force map, through inserts, erases, ties.
TEST(WeightIndex, KthAndCollectMatchBruteForce) {
  std::mt19937_64 rng(12);
  WeightIndex index;
  std::map<std::pair<double, uint32_t>, uint64_t> ref;
  for (int step = 0; step < 6000; ++step) {
    if (ref.empty() || rng() % 3 != 0) {
      const double avg = static_cast<double>(rng() % 40) / 4.0;  // many ties
      const uint32_t id = static_cast<uint32_t>(rng() % 500);
      if (ref.count({avg, id})) continue;
      const uint64_t eligible = rng() % 4 == 0 ? 0 : 1 + rng() % 30;
      index.Insert(avg, id, eligible);
      ref[{avg, id}] = eligible;
    } else {
      auto it =
          std::next(ref.begin(), static_cast<ptrdiff_t>(rng() % ref.size()));
      index.Erase(it->first.first, it->first.second);
      ref.erase(it);
    }
    ASSERT_EQ(index.size(), ref.size());
    if (ref.empty()) continue;
    const uint64_t k = rng() % ref.size();
    ASSERT_EQ(index.Kth(k),
              std::next(ref.begin(), static_cast<ptrdiff_t>(k))->first.first);
    const double max_avg = static_cast<double>(rng() % 44) / 4.0;
    const uint64_t min_eligible = 1 + rng() % 30;
    std::vector<uint32_t> got, want;
    index.Collect(max_avg, min_eligible, &got);
    for (const auto& [key, eligible] : ref) {
      if (key.first <= max_avg && eligible >= min_eligible)
        want.push_back(key.second);
    }
    ASSERT_EQ(got, want) << "step " << step;
  }
}

}  // namespace
}  // namespace txflow
