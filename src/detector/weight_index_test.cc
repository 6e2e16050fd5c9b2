#include "detector/weight_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace txflow {
namespace {

using Ref = std::map<std::pair<double, uint32_t>, uint64_t>;

// Every test runs with the default slack (the tree holds all keys at these
// sizes, until a test's Kth() asks for a low rank of a large index), and
// with a slack of a few keys, so that limit_ moves on almost every Kth():
// keys leave the tree from its end, come back by selection, and a Take()
// above limit_ raises it. `hint`: a first build is told a low rank
// (ExpectRank), so that it sorts only the keys up to it.
struct Config {
  uint64_t min_slack;
  bool hint;
  bool dense = false;  // the large tests' first build by BuildDense()
};
void PrintTo(const Config& c, std::ostream* os) {
  *os << "slack " << c.min_slack << (c.hint ? " hint" : "")
      << (c.dense ? " dense" : "");
}
class WeightIndexTest : public ::testing::TestWithParam<Config> {};
INSTANTIATE_TEST_SUITE_P(Slacks, WeightIndexTest,
                         ::testing::Values(Config{4096, false},
                                           Config{1, true, true},
                                           Config{5, false}, Config{3, true}),
                         [](const ::testing::TestParamInfo<Config>& p) {
                           return "Slack" + std::to_string(p.param.min_slack) +
                                  (p.param.hint ? "Hint" : "") +
                                  (p.param.dense ? "Dense" : "");
                         });

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
TEST_P(WeightIndexTest, KthAndTakeMatchBruteForce) {
  std::mt19937_64 rng(12);
  WeightIndex index(GetParam().min_slack);
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
TEST_P(WeightIndexTest, TakeSeesCountsRaisedAboveTheLastBound) {
  WeightIndex index(GetParam().min_slack);
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
  // Just above the bound, in the same leaf as the keys below it (whose
  // bound the raise does not reach, as the key was above the bound).
  index.SetEligible(801.0, 801, 9);
  index.Take(850.0, 5, &got);
  EXPECT_EQ(got, std::vector<uint32_t>({801}));
}

// Batches of every size, so both the merge pass (large batches) and the one by
// one path (small ones, including unchanged averages) are checked against a
// brute-force map after each batch.
TEST_P(WeightIndexTest, BatchedMovesMatchBruteForce) {
  std::mt19937_64 rng(34);
  WeightIndex index(GetParam().min_slack);
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

// The slow, obviously correct reference for the large tests: the set of keys
// in a map, each id's eligible count by id.
class Reference {
 public:
  void Insert(double avg, uint32_t id, uint64_t eligible) {
    keys_[{avg, id}] = eligible;
    avg_of_[id] = avg;
  }
  void Erase(uint32_t id) {
    keys_.erase({avg_of_.at(id), id});
    avg_of_.erase(id);
  }
  bool Has(uint32_t id) const { return avg_of_.count(id) != 0; }
  double AvgOf(uint32_t id) const { return avg_of_.at(id); }
  uint64_t& EligibleOf(uint32_t id) { return keys_.at({avg_of_.at(id), id}); }
  size_t size() const { return keys_.size(); }
  // The averages at ranks ks (sorted ascending), in one walk.
  std::vector<double> Kths(const std::vector<uint64_t>& ks) const {
    std::vector<double> out;
    uint64_t rank = 0;
    size_t i = 0;
    for (const auto& [key, e] : keys_) {
      while (i < ks.size() && ks[i] == rank) {
        out.push_back(key.first);
        ++i;
      }
      ++rank;
    }
    return out;
  }
  std::vector<uint32_t> Take(double max_avg, uint64_t min_eligible) {
    return RefTake(&keys_, max_avg, min_eligible);
  }

 private:
  Ref keys_;
  std::map<uint32_t, double> avg_of_;
};

// Checks Kth at ranks spread over the whole index (every leaf and group
// boundary region is hit across rounds), including the two ends.
void ExpectKthMatches(WeightIndex& index, const Reference& ref,
                      std::mt19937_64& rng, const std::string& where) {
  ASSERT_EQ(index.size(), ref.size()) << where;
  if (ref.size() == 0) return;
  std::vector<uint64_t> ks = {0, ref.size() - 1, ref.size() / 10,
                              ref.size() / 2};
  for (int i = 0; i < 12; ++i) ks.push_back(rng() % ref.size());
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  const std::vector<double> want = ref.Kths(ks);
  for (size_t i = 0; i < ks.size(); ++i) {
    ASSERT_EQ(index.Kth(ks[i]), want[i]) << where << " k=" << ks[i];
  }
}

// Differential at a size where leaves and groups split and empty many times:
// single Insert/Erase/SetEligible with heavy ties (a few dozen averages, so
// tens of leaves hold one average), ids reused after erase, bursts into one
// average (many splits of the same leaf, then of its group) and bursts of
// erases of one average (leaves and groups emptied), Take bounds that rise
// and fall.
TEST_P(WeightIndexTest, SingleOpsAcrossLeafAndGroupSplitsMatchReference) {
  std::mt19937_64 rng(56);
  WeightIndex index(GetParam().min_slack);
  Reference ref;
  constexpr uint32_t kIds = 30000;
  std::vector<uint32_t> absent(kIds);
  for (uint32_t id = 0; id < kIds; ++id) absent[id] = kIds - 1 - id;
  std::vector<uint32_t> present;
  auto insert = [&](double avg) {
    if (absent.empty()) return;
    const size_t at = rng() % absent.size();
    const uint32_t id = absent[at];
    absent[at] = absent.back();
    absent.pop_back();
    const uint64_t eligible = rng() % 4 == 0 ? 0 : 1 + rng() % 30;
    index.Insert(avg, id, eligible);
    ref.Insert(avg, id, eligible);
    present.push_back(id);
  };
  auto erase_at = [&](size_t at) {
    const uint32_t id = present[at];
    index.Erase(ref.AvgOf(id), id);
    ref.Erase(id);
    present[at] = present.back();
    present.pop_back();
    absent.push_back(id);
  };
  for (int round = 0; round < 120; ++round) {
    const int kind = static_cast<int>(rng() % 6);
    const double burst_avg = static_cast<double>(rng() % 40) / 4.0;
    const int ops = 200 + static_cast<int>(rng() % 800);
    for (int op = 0; op < ops; ++op) {
      const int r = static_cast<int>(rng() % 10);
      if (kind == 0) {
        insert(burst_avg);  // one average: the same region splits
      } else if (kind == 1 && !present.empty()) {
        // Erase the keys of one average (and some others): leaves empty.
        size_t at = rng() % present.size();
        for (int t = 0; t < 8 && ref.AvgOf(present[at]) != burst_avg; ++t) {
          at = rng() % present.size();
        }
        erase_at(at);
      } else if (present.empty() || r < 4) {
        insert(static_cast<double>(rng() % 40) / 4.0);
      } else if (r < 6) {
        erase_at(rng() % present.size());
      } else {
        const uint32_t id = present[rng() % present.size()];
        const uint64_t eligible = rng() % 4 == 0 ? 0 : 1 + rng() % 30;
        index.SetEligible(ref.AvgOf(id), id, eligible);
        ref.EligibleOf(id) = eligible;
      }
    }
    const std::string where = "round " + std::to_string(round);
    ExpectKthMatches(index, ref, rng, where);
    if (HasFatalFailure()) return;
    for (int t = 0; t < 2; ++t) {
      const double max_avg = static_cast<double>(rng() % 44) / 4.0;
      const uint64_t min_eligible = 1 + rng() % 30;
      std::vector<uint32_t> got;
      index.Take(max_avg, min_eligible, &got);
      ASSERT_EQ(got, ref.Take(max_avg, min_eligible)) << where;
    }
  }
}

// Differential through Move() at > 100 k entries (hundreds of groups): a first
// build, then chunk-like batches (most averages unchanged, some moved, some
// new ids, some reused after an erase), small ones entry by entry and large
// ones merged, with the percentile-style Kth/Take of Evaluate after each.
TEST_P(WeightIndexTest, LargeMovesMatchReference) {
  std::mt19937_64 rng(78);
  WeightIndex index(GetParam().min_slack);
  Reference ref;
  constexpr uint32_t kInitial = 120000;
  auto random_avg = [&] { return static_cast<double>(1 + rng() % 300) / 8.0; };
  std::vector<uint64_t> count(kInitial + 40000, 0);
  std::vector<WeightIndex::Update> batch;
  for (uint32_t id = 0; id < kInitial; ++id) {
    const double avg = random_avg();
    count[id] = 1 + rng() % 20;
    batch.push_back({false, 0, avg, id, count[id]});
    ref.Insert(avg, id, count[id]);
  }
  if (GetParam().hint) index.ExpectRank(kInitial / 10);
  if (GetParam().dense) {
    std::vector<double> avgs;
    std::vector<uint64_t> eligible;
    for (const auto& u : batch) {
      avgs.push_back(u.new_avg);
      eligible.push_back(u.eligible);
    }
    index.BuildDense(std::move(avgs), std::move(eligible));
  } else {
    index.Move(batch);
  }
  uint32_t next_id = kInitial;
  std::vector<uint32_t> erased;
  for (int round = 0; round < 60; ++round) {
    const std::string where = "round " + std::to_string(round);
    // Direct erases, so that ids come back later as new entries.
    for (int e = 0; e < 50; ++e) {
      const uint32_t id = static_cast<uint32_t>(rng() % next_id);
      if (!ref.Has(id)) continue;
      index.Erase(ref.AvgOf(id), id);
      ref.Erase(id);
      erased.push_back(id);
    }
    const bool large = round % 10 == 9;  // >= n / 16: the merge pass
    const size_t want = large ? 9000 + rng() % 4000 : 50 + rng() % 3000;
    const double hot_avg = random_avg();
    batch.clear();
    std::vector<bool> in_batch(count.size(), false);
    for (size_t u = 0; u < want; ++u) {
      uint32_t id;
      const int r = static_cast<int>(rng() % 100);
      if (r < 2 && !erased.empty()) {
        id = erased.back();
        erased.pop_back();
      } else if (r < 4 && next_id < count.size()) {
        id = next_id++;
      } else {
        id = static_cast<uint32_t>(rng() % next_id);
        if (!ref.Has(id)) continue;
      }
      if (in_batch[id]) continue;
      in_batch[id] = true;
      const bool indexed = ref.Has(id);
      const double old_avg = indexed ? ref.AvgOf(id) : 0;
      double new_avg = old_avg;
      if (!indexed || rng() % 100 < 10) {
        new_avg = rng() % 3 == 0 ? hot_avg : random_avg();  // ties pile up
      }
      count[id] = indexed ? count[id] + 1 : 1;
      const uint64_t eligible = rng() % 50 == 0 ? 0 : count[id];
      batch.push_back({indexed, old_avg, new_avg, id, eligible});
    }
    for (const auto& u : batch) {
      if (u.indexed) ref.Erase(u.id);
    }
    for (const auto& u : batch) ref.Insert(u.new_avg, u.id, u.eligible);
    index.Move(batch);
    ExpectKthMatches(index, ref, rng, where);
    if (HasFatalFailure()) return;
    // Evaluate's query: averages up to about the 10th percentile (rising and
    // falling between rounds), counts from a few up.
    const uint64_t k = ref.size() * (5 + rng() % 10) / 100;
    const double max_avg = index.Kth(k);
    const uint64_t min_eligible = 3 + rng() % 15;
    std::vector<uint32_t> got;
    index.Take(max_avg, min_eligible, &got);
    ASSERT_EQ(got, ref.Take(max_avg, min_eligible)) << where;
  }
}

// Every raise of a count must reach the bounds of the leaf and group that
// hold the key now, however often leaves and groups split or empty in
// between: each raise is to a count above all before it, so a Take() at that
// count must return exactly the raised id (a bound that saturates, as in the
// tests above, would hide a raise sent to the wrong leaf or group).
TEST_P(WeightIndexTest, EveryRaiseReachesTheKeysCurrentLeafAndGroup) {
  std::mt19937_64 rng(90);
  WeightIndex index(GetParam().min_slack);
  std::vector<double> avg_of;
  std::vector<uint32_t> present;
  auto insert = [&] {
    const uint32_t id = static_cast<uint32_t>(avg_of.size());
    const double avg = static_cast<double>(rng() % 50);  // ties
    avg_of.push_back(avg);
    present.push_back(id);
    index.Insert(avg, id, 1);
  };
  for (int i = 0; i < 20000; ++i) insert();
  for (uint64_t round = 0; round < 3000; ++round) {
    // Splits (and some emptied leaves) between raises.
    for (int i = 0; i < 20; ++i) insert();
    for (int i = 0; i < 5; ++i) {
      const size_t at = rng() % present.size();
      index.Erase(avg_of[present[at]], present[at]);
      present[at] = present.back();
      present.pop_back();
    }
    const uint32_t id = present[rng() % present.size()];
    const uint64_t count = 1000 + round;
    index.SetEligible(avg_of[id], id, count);
    // Up to exactly the key's average (a bound on a tie), or everything.
    const double max_avg = rng() % 2 ? avg_of[id] : 1e9;
    std::vector<uint32_t> got;
    index.Take(max_avg, count, &got);
    ASSERT_EQ(got, std::vector<uint32_t>({id})) << "round " << round;
  }
}

}  // namespace
}  // namespace txflow
