#include "detector/weight_index.h"

#include <algorithm>

namespace txflow {

size_t WeightIndex::FindBlock(const Key& key) const {
  const auto it = std::lower_bound(last_keys_.begin(), last_keys_.end(), key);
  const size_t b = static_cast<size_t>(it - last_keys_.begin());
  return std::min(b, blocks_.size() - 1);
}

void WeightIndex::Refresh(size_t b) {
  Block& block = blocks_[b];
  last_keys_[b] = block.entries.back().key;
  block.max_eligible = 0;
  for (const Entry& e : block.entries) {
    block.max_eligible = std::max(block.max_eligible, e.eligible);
  }
}

void WeightIndex::Insert(double avg, uint32_t id, uint64_t eligible) {
  const Key key{avg, id};
  ++size_;
  if (blocks_.empty()) {
    blocks_.push_back(Block{{Entry{key, eligible}}, eligible});
    last_keys_.push_back(key);
    return;
  }
  const size_t b = FindBlock(key);
  Block& block = blocks_[b];
  auto at =
      std::lower_bound(block.entries.begin(), block.entries.end(), key,
                       [](const Entry& e, const Key& k) { return e.key < k; });
  block.entries.insert(at, Entry{key, eligible});
  block.max_eligible = std::max(block.max_eligible, eligible);
  last_keys_[b] = block.entries.back().key;
  if (block.entries.size() > kMaxBlock) {  // split in halves
    Block upper;
    upper.entries.assign(block.entries.begin() + kMaxBlock / 2,
                         block.entries.end());
    block.entries.resize(kMaxBlock / 2);
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(b) + 1,
                   std::move(upper));
    last_keys_.insert(last_keys_.begin() + static_cast<ptrdiff_t>(b) + 1,
                      Key{});
    Refresh(b);
    Refresh(b + 1);
  }
}

void WeightIndex::Erase(double avg, uint32_t id) {
  const Key key{avg, id};
  const size_t b = FindBlock(key);
  Block& block = blocks_[b];
  auto at =
      std::lower_bound(block.entries.begin(), block.entries.end(), key,
                       [](const Entry& e, const Key& k) { return e.key < k; });
  if (at == block.entries.end() || at->key != key)
    return;  // absent: nothing to do
  const uint64_t eligible = at->eligible;
  block.entries.erase(at);
  --size_;
  if (block.entries.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(b));
    last_keys_.erase(last_keys_.begin() + static_cast<ptrdiff_t>(b));
    return;
  }
  if (eligible == block.max_eligible) {
    Refresh(b);
  } else {
    last_keys_[b] = block.entries.back().key;
  }
}

void WeightIndex::SetEligible(const Key& key, uint64_t eligible) {
  const size_t b = FindBlock(key);
  Block& block = blocks_[b];
  auto at =
      std::lower_bound(block.entries.begin(), block.entries.end(), key,
                       [](const Entry& e, const Key& k) { return e.key < k; });
  const uint64_t old = at->eligible;
  at->eligible = eligible;
  if (eligible >= block.max_eligible) {
    block.max_eligible = eligible;
  } else if (old == block.max_eligible) {
    Refresh(b);
  }
}

void WeightIndex::Move(std::vector<Update>& updates) {
  if (updates.empty()) return;
  if (updates.size() * kBatchDivisor >= size_) {
    MergeAll(updates);
    return;
  }
  for (const Update& u : updates) {
    if (u.indexed && u.old_avg == u.new_avg) {
      SetEligible(Key{u.new_avg, u.id}, u.eligible);
      continue;
    }
    if (u.indexed) Erase(u.old_avg, u.id);
    Insert(u.new_avg, u.id, u.eligible);
  }
}

void WeightIndex::MergeAll(std::vector<Update>& updates) {
  erased_.clear();
  inserted_.clear();
  for (const Update& u : updates) {
    if (u.indexed) erased_.push_back(Key{u.old_avg, u.id});
    inserted_.push_back(Entry{Key{u.new_avg, u.id}, u.eligible});
  }
  std::sort(erased_.begin(), erased_.end());
  std::sort(inserted_.begin(), inserted_.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });
  merged_.clear();
  merged_.reserve(size_ - erased_.size() + inserted_.size());
  size_t e = 0, i = 0;
  for (const Block& block : blocks_) {
    for (const Entry& x : block.entries) {
      while (i < inserted_.size() && inserted_[i].key < x.key) {
        merged_.push_back(inserted_[i++]);
      }
      if (e < erased_.size() && erased_[e] == x.key) {
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
    blocks_[b].entries.assign(merged_.begin() + static_cast<ptrdiff_t>(lo),
                              merged_.begin() + static_cast<ptrdiff_t>(hi));
    Refresh(b);
  }
  size_ = n;
}

double WeightIndex::Kth(uint64_t k) const {
  for (const Block& block : blocks_) {
    if (k < block.entries.size()) return block.entries[k].key.first;
    k -= block.entries.size();
  }
  return blocks_.back().entries.back().key.first;  // unreachable when k <
                                                   // size()
}

void WeightIndex::Collect(double max_avg, uint64_t min_eligible,
                          std::vector<uint32_t>* out) const {
  for (const Block& block : blocks_) {
    if (block.entries.front().key.first > max_avg) return;
    if (block.max_eligible < min_eligible) continue;
    for (const Entry& e : block.entries) {
      if (e.key.first > max_avg) return;
      if (e.eligible >= min_eligible) out->push_back(e.key.second);
    }
  }
}

}  // namespace txflow
