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

// Batches of every size, so both the merge pass (large batches) and the one by
// one path (small ones, including unchanged averages) are checked against a
// brute-force map after each batch.
TEST(WeightIndex, BatchedMovesMatchBruteForce) {
  std::mt19937_64 rng(34);
  WeightIndex index;
  std::map<std::pair<double, uint32_t>, uint64_t> ref;
  std::map<uint32_t, double> avg_of;  // id -> current average
  for (int round = 0; round < 400; ++round) {
    std::vector<WeightIndex::Update> batch;
    const size_t want = 1 + rng() % (rng() % 4 == 0 ? 300 : 8);
    std::vector<uint32_t> ids;
    for (size_t j = 0; j < want; ++j) {
      const uint32_t id = static_cast<uint32_t>(rng() % 1500);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    for (uint32_t id : ids) {
      const auto it = avg_of.find(id);
      const bool indexed = it != avg_of.end();
      const double old_avg = indexed ? it->second : 0;
      const double new_avg = indexed && rng() % 3 == 0
                                 ? old_avg  // unchanged: eligible only
                                 : static_cast<double>(rng() % 60) / 4.0;
      const uint64_t eligible = rng() % 5 == 0 ? 0 : 1 + rng() % 40;
      batch.push_back({indexed, old_avg, new_avg, id, eligible});
      if (indexed) ref.erase({old_avg, id});
      avg_of[id] = new_avg;
    }
    for (const auto& u : batch) ref[{u.new_avg, u.id}] = u.eligible;
    index.Move(batch);
    ASSERT_EQ(index.size(), ref.size()) << "round " << round;
    for (int q = 0; q < 5; ++q) {
      const uint64_t k = rng() % ref.size();
      ASSERT_EQ(index.Kth(k),
                std::next(ref.begin(), static_cast<ptrdiff_t>(k))->first.first);
      const double max_avg = static_cast<double>(rng() % 64) / 4.0;
      const uint64_t min_eligible = 1 + rng() % 40;
      std::vector<uint32_t> got, expect;
      index.Collect(max_avg, min_eligible, &got);
      for (const auto& [key, eligible] : ref) {
        if (key.first <= max_avg && eligible >= min_eligible)
          expect.push_back(key.second);
      }
      ASSERT_EQ(got, expect) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace txflow
