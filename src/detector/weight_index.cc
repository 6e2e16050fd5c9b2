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
