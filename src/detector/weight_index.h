// The order-statistic index over a merchant's customers by average weight,
// for PatId1. Each entry is a key (average weight, id); each id also has an
// "eligible count": the customer's transaction count while UPGRADE has not
// fired for it, 0 after. It answers
//   - Kth(k): the k-th smallest average, and
//   - Take(a, c): every entry with average <= a and eligible count >= c
//     (whose eligible counts it then sets to 0), skipping whole blocks that
//     cannot hold one.
//
// Layout: keys sorted by (average, id) in blocks of at most kMaxBlock; the
// blocks' last keys sit in one contiguous array for the binary search. An
// insert or erase is two short binary searches and a move of at most a block
// (a few KB) — far fewer cache misses than a balanced tree's walk. Kth walks
// the block sizes: O(n / kMaxBlock).
//
// Eligible counts live in an array by id, not in the entries, so changing one
// (most of a chunk's updates: a customer's average rarely changes when its
// weight comes from the importance table) does not search the blocks. Take()
// skips blocks by an upper bound of their eligible counts, and only keys with
// average <= the last Take()'s bound ("maintained" keys) keep those bounds
// current; a block that a later Take() reaches beyond that is recounted once.
// So an update to a customer above the tenth percentile costs one store.
//
// Move() applies a batch of updates (a chunk's touched customers). A batch of
// at least n / kBatchDivisor key changes is merged in one sequential pass over
// all entries, O(n + m log m) with n <= kBatchDivisor * m, so still O(m) per
// key moved; a smaller batch goes entry by entry. Either way the cost of a
// chunk is bounded by its rows, not by the history.
//
// Ids should be dense (memory is O(largest id)). Not thread-safe.
#ifndef TXFLOW_DETECTOR_WEIGHT_INDEX_H_
#define TXFLOW_DETECTOR_WEIGHT_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace txflow {

class WeightIndex {
 public:
  // REQUIRES: (avg, id) is not present.
  void Insert(double avg, uint32_t id, uint64_t eligible);
  // REQUIRES: (avg, id) is present.
  void Erase(double avg, uint32_t id);
  // Sets the eligible count of the present key (avg, id).
  void SetEligible(double avg, uint32_t id, uint64_t eligible);
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
  // min_eligible (>= 1), in ascending order of (average, id), and sets their
  // eligible counts to 0.
  void Take(double max_avg, uint64_t min_eligible, std::vector<uint32_t>* out);

 private:
  static constexpr size_t kMaxBlock = 128;
  static constexpr size_t kBatchDivisor = 16;
  using Key = std::pair<double, uint32_t>;
  struct Block {
    std::vector<Key> keys;  // sorted, never empty
    // >= the eligible count of every maintained key in the block.
    uint64_t bound = 0;
  };

  // Index of the first block whose last key is >= key (or the last block).
  size_t FindBlock(const Key& key) const;
  // Sets block b's bound to the largest eligible count in it.
  void Recount(size_t b);
  void MergeAll(const std::vector<Update>& updates);
  uint64_t& EligibleOf(uint32_t id) {
    if (id >= eligible_.size()) eligible_.resize(size_t{id} + 1, 0);
    return eligible_[id];
  }

  std::vector<Block> blocks_;
  std::vector<Key> last_keys_;      // last_keys_[b] == blocks_[b].keys.back()
  std::vector<uint64_t> eligible_;  // by id
  // Keys with average <= maintained_ are covered by their block's bound.
  double maintained_ = -std::numeric_limits<double>::infinity();
  uint64_t size_ = 0;
  // Scratch for MergeAll, kept to reuse its capacity.
  std::vector<Key> erased_, inserted_, merged_;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_WEIGHT_INDEX_H_
