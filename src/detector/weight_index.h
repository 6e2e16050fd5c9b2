// The order-statistic index over a merchant's customers by average weight,
// for PatId1. Each entry is a key (average weight, id); each id also has an
// "eligible count": the customer's transaction count while UPGRADE has not
// fired for it, 0 after. It answers
//   - Kth(k): the k-th smallest average, and
//   - Take(a, c): every entry with average <= a and eligible count >= c
//     (whose eligible counts it then sets to 0), skipping whole leaves and
//     groups that cannot hold one.
//
// Layout: a two-level B+-tree. Keys sorted by (average, id) sit in leaves of
// at most kMaxLeaf keys, held by index in a pool (a split takes a new leaf
// from the pool and moves nothing else). Leaves are grouped, in order, into
// groups of at most kMaxGroup leaves; a group holds its leaves' indexes and
// last keys (one contiguous array for the binary search), and the groups'
// last keys sit in one more contiguous array. An insert or erase is three
// short binary searches and a move of at most a leaf (2 KB) plus a group's
// directory (a few hundred bytes); a leaf split inserts into its group's
// directory only, and a group split (every ~kMaxGroup/2 leaf splits) moves
// the group array (n / (kMaxLeaf * kMaxGroup) entries) and renumbers the
// later leaves' groups, O(n / kMaxLeaf) amortized over ~2,000 inserts.
// Kth walks the group counts, then one group's leaf sizes:
// O(n / (kMaxLeaf * kMaxGroup) + kMaxGroup).
//
// Eligible counts live in an array by id, not in the entries, so changing one
// (most of a chunk's updates: a customer's average rarely changes when its
// weight comes from the importance table) does not search. Each leaf and
// group keeps an upper bound of the eligible counts of its keys with
// average <= covered_, the largest bound any Take() has asked for (a
// high-water mark: it never falls, so a percentile that falls and rises
// again recounts nothing; before, the bounds covered only the last Take()'s
// range and every rise recounted the blocks it re-entered). SetEligible() of
// a key above covered_ is one store; of a key below it, one store plus an
// append of the id to a pending list. Take() first raises the pending ids'
// leaf and group bounds, O(pending), in one prefetched pass (an array by id
// says which leaf holds each id; a load there would stall the detector's
// loop on a cache miss), then, if max_avg > covered_, recounts the leaves
// holding keys in (covered_, max_avg] once (Cover). It then visits only
// groups and leaves whose bound reaches min_eligible, and makes the bounds
// of the leaves it visits exact (stale-high bounds, left by erases, are
// fixed on the first visit). So its cost is O(pending + newly covered keys
// + groups below max_avg + kMaxLeaf * (leaves holding what it returns +
// stale leaves + the leaf straddling max_avg) + kMaxGroup); it never
// recounts a leaf it skips.
//
// Move() applies a batch of updates (a chunk's touched customers). A batch of
// at least n / kBatchDivisor key changes is merged in one sequential pass over
// all entries, O(n + m log m) with n <= kBatchDivisor * m, so still O(m) per
// key moved, straight into new leaves (no copy of all entries); its O(m)
// scratch is released afterwards. A smaller batch goes entry by entry.
// Either way the cost of a chunk is bounded by its rows, not by the history.
//
// Only the low keys are sorted. UPGRADE asks for one low percentile (P10 by
// default), so the index keeps in the tree only the keys with average <=
// limit_, about Kth()'s rank plus a slack (max(min_slack, size / 64) keys);
// a key above limit_ is its average in an array by id, and an insert, erase
// or move that stays above limit_ is one store (most of a chunk's moves at
// 100 M records, where the full tree's searches and leaf moves were a
// quarter of the detector's time). Kth() raises limit_ when its rank
// reaches the top of the tree (one pass over the array by id and a
// selection of the slack's keys: O(size), every ~slack ranks of drift) and
// lowers it when the tree holds more than four slacks beyond the rank (a
// cut from the tree's end, O(keys cut)); Take() above limit_ raises it
// first. A first build of every key at once (Move into an empty index)
// after ExpectRank() sorts only the keys up to that rank plus the slack,
// found by selection (O(n) instead of O(n log n): the restore's index
// build). Answers never depend on limit_: keys with equal averages are
// always on the same side of it.
//
// Memory: 16 bytes per key in the leaves (three-quarters full after a
// merge), 20 bytes per id (eligible count, leaf, average above limit_), 36 per
// leaf (vector, bound, group), a few hundred bytes per group, and 4 per pending
// raise (at most size() + 1024: SetEligible() raises them itself beyond that).
// Ids should be dense (memory is O(largest id)). Not thread-safe.
#ifndef TXFLOW_DETECTOR_WEIGHT_INDEX_H_
#define TXFLOW_DETECTOR_WEIGHT_INDEX_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace txflow {

class WeightIndex {
 public:
  // min_slack: the least number of keys kept sorted beyond Kth()'s rank
  // (tests use a few, to move limit_ often).
  explicit WeightIndex(uint64_t min_slack = 4096) : min_slack_(min_slack) {}

  // REQUIRES: (avg, id) is not present.
  void Insert(double avg, uint32_t id, uint64_t eligible);
  // REQUIRES: (avg, id) is present.
  void Erase(double avg, uint32_t id);
  // Sets the eligible count of the present key (avg, id).
  void SetEligible(double avg, uint32_t id, uint64_t eligible);
  uint64_t size() const { return sorted_ + above_count_; }

  struct Update {
    bool indexed;  // false: a new entry (no old key)
    double old_avg;
    double new_avg;
    uint32_t id;
    uint64_t eligible;
  };
  // Replaces (old_avg, id) by (new_avg, id) with the new eligible count, for
  // every update; the ids are distinct. REQUIRES: each indexed old key is
  // present, each new key absent after the removals.
  void Move(std::vector<Update>& updates);

  // The k-th smallest average, 0-based. REQUIRES: k < size(). Moves limit_
  // (above) when k is near or far from the top of the sorted keys.
  double Kth(uint64_t k);
  // The rank Kth() will be asked for next (a hint: a first build then sorts
  // only the keys up to about it).
  void ExpectRank(uint64_t k) { expected_rank_ = k; }
  // A first build of the keys (avgs[i], i) with eligible counts eligible[i],
  // for every i < avgs.size(), taking over both arrays (no scratch as large
  // as the index) and their capacity (room for ids to come). REQUIRES: the
  // index is empty; equal sizes.
  void BuildDense(std::vector<double> avgs, std::vector<uint64_t> eligible);

  // Appends the ids of entries with average <= max_avg and eligible count >=
  // min_eligible (>= 1), in ascending order of (average, id), and sets their
  // eligible counts to 0.
  void Take(double max_avg, uint64_t min_eligible, std::vector<uint32_t>* out);

 private:
  static constexpr size_t kMaxLeaf = 128;
  static constexpr size_t kMaxGroup = 64;
  static constexpr size_t kBatchDivisor = 16;
  using Key = std::pair<double, uint32_t>;
  // A leaf's keys, sorted, never empty while in a group. Its bound and group
  // are in arrays of their own (bounds_, leaf_group_): SetEligible reads
  // them for a random leaf, and a few bytes a leaf stay in cache where a
  // leaf's vector header would not.
  using Leaf = std::vector<Key>;
  struct Group {
    std::vector<uint32_t> leaves;  // leaf indexes, in key order
    std::vector<Key> last;         // last[j] == leaves_[leaves[j]].keys.back()
    uint64_t count = 0;            // keys in the group's leaves
    uint64_t bound = 0;            // >= every leaf's bound
  };
  // The keys kept sorted beyond a rank Kth() is asked for.
  uint64_t Slack() const { return std::max<uint64_t>(min_slack_, size() / 64); }
  // Tree operations, for keys with average <= limit_.
  void InsertSorted(const Key& key, uint64_t eligible);
  void EraseSorted(const Key& key);
  // Above limit_: the average in above_ (NaN: not above).
  void InsertAbove(double avg, uint32_t id);
  void EraseAbove(double avg, uint32_t id);
  // Erases then inserts sorted keys, one by one or in one merge.
  void Apply(std::vector<Key>& erased, std::vector<Key>& inserted);
  // Raises limit_ to at least `at_least` and until at least `target` keys
  // are sorted (or all are), moving those keys into the tree.
  void Raise(uint64_t target, double at_least);
  // Lowers limit_ to the average at rank keep - 1, moving the keys above it
  // out of the tree.
  void Trim(uint64_t keep);
  // The k-th smallest sorted key's average. REQUIRES: k < sorted_.
  double KthSorted(uint64_t k) const;
  // The group and position in it of the leaf that holds key, or would.
  std::pair<size_t, size_t> Find(const Key& key) const;
  uint32_t NewLeaf();
  void InsertGroup(size_t g, Group group);
  void EraseGroup(size_t g);
  void RenumberFrom(size_t g);
  void SplitLeaf(size_t g, size_t j);
  // REQUIRES: erased and inserted sorted; eligible_ set for inserted ids.
  void MergeAll(const std::vector<Key>& erased,
                const std::vector<Key>& inserted);
  // A first build of `keys` (unsorted) into an empty index: after
  // ExpectRank(), only the lowest ones up to the rank plus the slack (and
  // their ties) go into the tree.
  void Build(std::vector<Key>& keys);
  // The limit a first build of these averages keeps: the one at rank
  // ExpectRank() + slack, or +infinity (all kept).
  double BuildLimit(const std::vector<double>& avgs) const;
  // How many of n keys a first build keeps sorted (before ties).
  uint64_t BuildKeep(uint64_t n) const;
  // Raises the bounds for the counts SetEligible() only stored.
  void RaisePending();
  // Makes exact the bounds of the leaves holding a key in (covered_,
  // max_avg], and raises their groups' bounds.
  void Cover(double max_avg);
  void Reserve(uint32_t id) {
    if (id >= eligible_.size()) {
      eligible_.resize(size_t{id} + 1, 0);
      leaf_of_.resize(size_t{id} + 1, 0);
      above_.resize(size_t{id} + 1, kNotAbove);
    }
  }

  std::vector<Leaf> leaves_;  // the pool
  // By leaf: >= the eligible count of every key in the leaf.
  std::vector<uint64_t> bounds_;
  std::vector<uint32_t> leaf_group_;  // by leaf: its index in groups_
  std::vector<uint32_t> free_;        // unused pool entries
  std::vector<Group> groups_;         // in key order
  std::vector<Key> group_last_;     // group_last_[g] == groups_[g].last.back()
  std::vector<uint64_t> eligible_;  // by id
  // By id: the leaf holding its key (stale after its erase: raising a stale
  // leaf's bound is harmless, a bound may be too high).
  std::vector<uint32_t> leaf_of_;
  // Ids whose count SetEligible() raised since the last Take(), their leaf
  // and group bounds not yet raised: SetEligible() is then one store and an
  // append (the detector calls it for most touched customers, and a load of
  // the leaf there would stall on a cache miss); Take() raises them in one
  // pass, where the misses overlap.
  std::vector<uint32_t> pending_;
  // The largest max_avg any Take() has asked for: the bounds cover the keys
  // with average <= covered_ (SetEligible() of a key above it is one store,
  // no pending raise). It never falls, so a bound that falls and rises again
  // recounts nothing.
  double covered_ = -std::numeric_limits<double>::infinity();
  // The tree holds exactly the keys with average <= limit_; the others are
  // in above_.
  double limit_ = std::numeric_limits<double>::infinity();
  static constexpr double kNotAbove = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> above_;  // by id
  uint64_t above_count_ = 0;
  uint64_t sorted_ = 0;  // keys in the tree
  uint64_t min_slack_;
  uint64_t expected_rank_ = std::numeric_limits<uint64_t>::max();
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_WEIGHT_INDEX_H_
