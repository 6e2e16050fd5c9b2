// The order-statistic index over a merchant's customers by average weight,
// for PatId1. Each entry is (average weight, pair id) with an "eligible
// count": the customer's transaction count while UPGRADE has not fired for
// it, 0 after. It answers
//   - Kth(k): the k-th smallest average, and
//   - Collect(a, c): every entry with average <= a and eligible count >= c,
//     skipping whole blocks that cannot hold one.
//
// Layout: entries sorted by (average, id) in blocks of at most kMaxBlock,
// each block knowing its largest eligible count; the blocks' last keys sit in
// one contiguous array for the binary search. An update is two short binary
// searches and a move of at most a block (a few KB) — far fewer cache misses
// than a balanced tree's walk, which dominated at tens of thousands of
// customers per merchant. Kth walks the block sizes: O(n / kMaxBlock).
//
// Move() applies a batch of updates (a chunk's touched customers). A batch of
// at least n / kBatchDivisor moves is merged in one sequential pass over all
// entries, O(n + m log m) with n <= kBatchDivisor * m, so still O(m) per
// entry moved; a smaller batch goes entry by entry. Either way the cost of a
// chunk is bounded by its rows, not by the history.
// Not thread-safe.
#ifndef TXFLOW_DETECTOR_WEIGHT_INDEX_H_
#define TXFLOW_DETECTOR_WEIGHT_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace txflow {

class WeightIndex {
 public:
  // REQUIRES: (avg, id) is not present.
  void Insert(double avg, uint32_t id, uint64_t eligible);
  // REQUIRES: (avg, id) is present.
  void Erase(double avg, uint32_t id);
  uint64_t size() const { return size_; }

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

  // The k-th smallest average, 0-based. REQUIRES: k < size().
  double Kth(uint64_t k) const;

  // Appends the ids of entries with average <= max_avg and eligible count >=
  // min_eligible, in ascending order of (average, id).
  void Collect(double max_avg, uint64_t min_eligible,
               std::vector<uint32_t>* out) const;

 private:
  static constexpr size_t kMaxBlock = 128;
  static constexpr size_t kBatchDivisor = 16;
  using Key = std::pair<double, uint32_t>;
  struct Entry {
    Key key;
    uint64_t eligible;
  };
  struct Block {
    std::vector<Entry> entries;  // sorted by key, never empty
    uint64_t max_eligible = 0;
  };

  // Index of the first block whose last key is >= key (or the last block).
  size_t FindBlock(const Key& key) const;
  void Refresh(size_t b);  // recomputes last_keys_[b] and max_eligible
  // Sets the eligible count of the present key in place.
  void SetEligible(const Key& key, uint64_t eligible);
  void MergeAll(std::vector<Update>& updates);

  std::vector<Block> blocks_;
  std::vector<Key>
      last_keys_;  // last_keys_[b] == blocks_[b].entries.back().key
  uint64_t size_ = 0;
  // Scratch for MergeAll, kept to reuse its capacity.
  std::vector<Key> erased_;
  std::vector<Entry> inserted_, merged_;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_WEIGHT_INDEX_H_
