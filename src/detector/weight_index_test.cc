#include "detector/weight_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace txflow {
namespace {

using Ref = std::map<std::pair<double, uint32_t>, uint64_t>;

// The brute-force answer to Take(), applied to the reference as well.
std::vector<uint32_t> RefTake(Ref* ref, double max_avg, uint64_t min_eligible) {
  std::vector<uint32_t> want;
  for (auto& [key, eligible] : *ref) {
    if (key.first <= max_avg && eligible >= min_eligible) {
      want.push_back(key.second);
      eligible = 0;
    }
  }
  return want;
}

// Differential: against a brute-force map, through inserts, erases, eligible
// changes, ties, and Take() bounds that go up and down (so keys enter and
// leave the range whose block bounds are kept).
TEST(WeightIndex, KthAndTakeMatchBruteForce) {
  std::mt19937_64 rng(12);
  WeightIndex index;
  Ref ref;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 8);
    if (ref.empty() || op < 3) {
      const double avg = static_cast<double>(rng() % 40) / 4.0;  // many ties
      const uint32_t id = static_cast<uint32_t>(rng() % 500);
      bool present = false;
      for (const auto& [key, e] : ref) present |= key.second == id;
      if (present) continue;  // an id has one key
      const uint64_t eligible = rng() % 4 == 0 ? 0 : 1 + rng() % 30;
      index.Insert(avg, id, eligible);
      ref[{avg, id}] = eligible;
    } else if (op < 5) {
      auto it =
          std::next(ref.begin(), static_cast<ptrdiff_t>(rng() % ref.size()));
      index.Erase(it->first.first, it->first.second);
      ref.erase(it);
    } else if (op < 7) {
      auto it =
          std::next(ref.begin(), static_cast<ptrdiff_t>(rng() % ref.size()));
      const uint64_t eligible = rng() % 4 == 0 ? 0 : 1 + rng() % 30;
      index.SetEligible(it->first.first, it->first.second, eligible);
      it->second = eligible;
    } else {
      const double max_avg = static_cast<double>(rng() % 44) / 4.0;
      const uint64_t min_eligible = 1 + rng() % 30;
      std::vector<uint32_t> got;
      index.Take(max_avg, min_eligible, &got);
      ASSERT_EQ(got, RefTake(&ref, max_avg, min_eligible)) << "step " << step;
    }
    ASSERT_EQ(index.size(), ref.size());
    if (ref.empty()) continue;
    const uint64_t k = rng() % ref.size();
    ASSERT_EQ(index.Kth(k),
              std::next(ref.begin(), static_cast<ptrdiff_t>(k))->first.first);
  }
}

// A key above the last Take()'s bound gets no block bound kept; raising its
// eligible count there must still be seen once a Take() reaches it.
TEST(WeightIndex, TakeSeesCountsRaisedAboveTheLastBound) {
  WeightIndex index;
  for (uint32_t id = 0; id < 1000; ++id) {
    index.Insert(static_cast<double>(id), id, 1);
  }
  std::vector<uint32_t> got;
  index.Take(100.0, 5, &got);  // keys <= 100 maintained, none taken
  EXPECT_TRUE(got.empty());
  index.SetEligible(700.0, 700, 9);  // above the bound: one store only
  index.SetEligible(50.0, 50, 9);    // below: its block's bound rises
  index.Take(100.0, 5, &got);
  EXPECT_EQ(got, std::vector<uint32_t>({50}));
  got.clear();
  index.Take(800.0, 5, &got);
  EXPECT_EQ(got, std::vector<uint32_t>({700}));
  got.clear();
  index.Take(800.0, 5, &got);  // taken ones are no longer eligible
  EXPECT_TRUE(got.empty());
}

// Batches of every size, so both the merge pass (large batches) and the one by
// one path (small ones, including unchanged averages) are checked against a
// brute-force map after each batch.
TEST(WeightIndex, BatchedMovesMatchBruteForce) {
  std::mt19937_64 rng(34);
  WeightIndex index;
  Ref ref;
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
    }
    const double max_avg = static_cast<double>(rng() % 64) / 4.0;
    const uint64_t min_eligible = 1 + rng() % 40;
    std::vector<uint32_t> got;
    index.Take(max_avg, min_eligible, &got);
    ASSERT_EQ(got, RefTake(&ref, max_avg, min_eligible)) << "round " << round;
  }
}

}  // namespace
}  // namespace txflow
