#include "detector/weight_index.h"

#include <algorithm>

namespace txflow {

size_t WeightIndex::FindBlock(const Key& key) const {
  const auto it = std::lower_bound(last_keys_.begin(), last_keys_.end(), key);
  const size_t b = static_cast<size_t>(it - last_keys_.begin());
  return std::min(b, blocks_.size() - 1);
}

void WeightIndex::Recount(size_t b) {
  uint64_t bound = 0;
  for (const Key& k : blocks_[b].keys) {
    bound = std::max(bound, eligible_[k.second]);
  }
  blocks_[b].bound = bound;
}

void WeightIndex::Insert(double avg, uint32_t id, uint64_t eligible) {
  const Key key{avg, id};
  EligibleOf(id) = eligible;
  ++size_;
  if (blocks_.empty()) {
    blocks_.push_back(Block{{key}, eligible});
    last_keys_.push_back(key);
    return;
  }
  const size_t b = FindBlock(key);
  Block& block = blocks_[b];
  block.keys.insert(std::lower_bound(block.keys.begin(), block.keys.end(), key),
                    key);
  if (avg <= maintained_) block.bound = std::max(block.bound, eligible);
  last_keys_[b] = block.keys.back();
  if (block.keys.size() > kMaxBlock) {  // split in halves
    // Each half keeps the whole block's bound: a bound of a superset.
    Block upper{{block.keys.begin() + kMaxBlock / 2, block.keys.end()},
                block.bound};
    block.keys.resize(kMaxBlock / 2);
    last_keys_[b] = block.keys.back();
    last_keys_.insert(last_keys_.begin() + static_cast<ptrdiff_t>(b) + 1,
                      upper.keys.back());
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(b) + 1,
                   std::move(upper));
  }
}

void WeightIndex::Erase(double avg, uint32_t id) {
  const Key key{avg, id};
  const size_t b = FindBlock(key);
  Block& block = blocks_[b];
  const auto at = std::lower_bound(block.keys.begin(), block.keys.end(), key);
  if (at == block.keys.end() || *at != key) return;  // absent: nothing to do
  block.keys.erase(at);
  --size_;
  // The bound stays: a bound of a superset.
  if (block.keys.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(b));
    last_keys_.erase(last_keys_.begin() + static_cast<ptrdiff_t>(b));
  } else {
    last_keys_[b] = block.keys.back();
  }
}

void WeightIndex::SetEligible(double avg, uint32_t id, uint64_t eligible) {
  EligibleOf(id) = eligible;
  // Keys above maintained_ need no bound: a Take() that reaches them recounts
  // their block first.
  if (avg <= maintained_ && eligible > 0) {
    Block& block = blocks_[FindBlock(Key{avg, id})];
    block.bound = std::max(block.bound, eligible);
  }
}

void WeightIndex::Move(std::vector<Update>& updates) {
  // Unchanged averages only change eligible counts; the rest move keys.
  size_t moved = 0;
  for (const Update& u : updates) {
    if (u.indexed && u.old_avg == u.new_avg) {
      SetEligible(u.new_avg, u.id, u.eligible);
    } else {
      updates[moved++] = u;
    }
  }
  updates.resize(moved);
  if (updates.empty()) return;
  if (updates.size() * kBatchDivisor >= size_) {
    MergeAll(updates);
    return;
  }
  for (const Update& u : updates) {
    if (u.indexed) Erase(u.old_avg, u.id);
    Insert(u.new_avg, u.id, u.eligible);
  }
}

void WeightIndex::MergeAll(const std::vector<Update>& updates) {
  erased_.clear();
  inserted_.clear();
  for (const Update& u : updates) {
    if (u.indexed) erased_.push_back(Key{u.old_avg, u.id});
    inserted_.push_back(Key{u.new_avg, u.id});
    EligibleOf(u.id) = u.eligible;
  }
  std::sort(erased_.begin(), erased_.end());
  std::sort(inserted_.begin(), inserted_.end());
  merged_.clear();
  merged_.reserve(size_ - erased_.size() + inserted_.size());
  size_t e = 0, i = 0;
  for (const Block& block : blocks_) {
    for (const Key& x : block.keys) {
      while (i < inserted_.size() && inserted_[i] < x) {
        merged_.push_back(inserted_[i++]);
      }
      if (e < erased_.size() && erased_[e] == x) {
        ++e;  // keys are unique: this is the one entry with that key
        continue;
      }
      merged_.push_back(x);
    }
  }
  merged_.insert(merged_.end(), inserted_.begin() + static_cast<ptrdiff_t>(i),
                 inserted_.end());
  // Three-quarter-full blocks leave room for the next single inserts.
  constexpr size_t kFill = kMaxBlock * 3 / 4;
  const size_t n = merged_.size();
  const size_t nb = (n + kFill - 1) / kFill;
  blocks_.resize(nb);
  last_keys_.resize(nb);
  for (size_t b = 0; b < nb; ++b) {
    const size_t lo = b * n / nb, hi = (b + 1) * n / nb;
    Block& block = blocks_[b];
    block.keys.assign(merged_.begin() + static_cast<ptrdiff_t>(lo),
                      merged_.begin() + static_cast<ptrdiff_t>(hi));
    last_keys_[b] = block.keys.back();
    // Only blocks holding maintained keys need a bound.
    if (block.keys.front().first <= maintained_) {
      Recount(b);
    } else {
      block.bound = 0;
    }
  }
  size_ = n;
}

double WeightIndex::Kth(uint64_t k) const {
  for (const Block& block : blocks_) {
    if (k < block.keys.size()) return block.keys[k].first;
    k -= block.keys.size();
  }
  return blocks_.back().keys.back().first;  // unreachable when k < size()
}

void WeightIndex::Take(double max_avg, uint64_t min_eligible,
                       std::vector<uint32_t>* out) {
  for (size_t b = 0; b < blocks_.size(); ++b) {
    Block& block = blocks_[b];
    if (block.keys.front().first > max_avg) break;
    // Keys above the old maintained_ had no bound kept: count them now.
    if (block.keys.back().first > maintained_) Recount(b);
    if (block.bound < min_eligible) continue;
    // After this call the maintained keys are those <= max_avg: the bound
    // becomes exact over them, with the taken ones at 0.
    uint64_t bound = 0;
    for (const Key& k : block.keys) {
      if (k.first > max_avg) break;
      uint64_t& eligible = eligible_[k.second];
      if (eligible >= min_eligible) {
        out->push_back(k.second);
        eligible = 0;
      } else {
        bound = std::max(bound, eligible);
      }
    }
    block.bound = bound;
  }
  maintained_ = max_avg;
}

}  // namespace txflow
