#include "detector/weight_index.h"

#include <algorithm>

#include "common/prefetch.h"

namespace txflow {

std::pair<size_t, size_t> WeightIndex::Find(const Key& key) const {
  // The first group (then leaf) whose last key is >= key, or the last one.
  const size_t g = std::min<size_t>(
      static_cast<size_t>(
          std::lower_bound(group_last_.begin(), group_last_.end(), key) -
          group_last_.begin()),
      groups_.size() - 1);
  const std::vector<Key>& last = groups_[g].last;
  const size_t j = std::min<size_t>(
      static_cast<size_t>(std::lower_bound(last.begin(), last.end(), key) -
                          last.begin()),
      last.size() - 1);
  return {g, j};
}

uint32_t WeightIndex::NewLeaf() {
  if (!free_.empty()) {
    const uint32_t l = free_.back();
    free_.pop_back();
    bounds_[l] = 0;
    return l;
  }
  leaves_.emplace_back();
  bounds_.push_back(0);
  leaf_group_.push_back(0);
  return static_cast<uint32_t>(leaves_.size() - 1);
}

void WeightIndex::RenumberFrom(size_t g) {
  for (; g < groups_.size(); ++g) {
    for (uint32_t l : groups_[g].leaves)
      leaf_group_[l] = static_cast<uint32_t>(g);
  }
}

void WeightIndex::InsertGroup(size_t g, Group group) {
  group_last_.insert(group_last_.begin() + static_cast<ptrdiff_t>(g),
                     group.last.back());
  groups_.insert(groups_.begin() + static_cast<ptrdiff_t>(g), std::move(group));
  // Group splits are rare (one per ~kMaxGroup / 2 leaf splits): renumbering
  // the later leaves then is cheaper than a level of indirection on every
  // SetEligible.
  RenumberFrom(g);
}

void WeightIndex::EraseGroup(size_t g) {
  group_last_.erase(group_last_.begin() + static_cast<ptrdiff_t>(g));
  groups_.erase(groups_.begin() + static_cast<ptrdiff_t>(g));
  RenumberFrom(g);
}

void WeightIndex::SplitLeaf(size_t g, size_t j) {
  const uint32_t upper_l = NewLeaf();  // may move leaves_: index it after
  const uint32_t l = groups_[g].leaves[j];
  Leaf& leaf = leaves_[l];
  Leaf& upper = leaves_[upper_l];
  upper.assign(leaf.begin() + kMaxLeaf / 2, leaf.end());
  leaf.resize(kMaxLeaf / 2);
  // Each half keeps the whole leaf's bound: a bound of a superset.
  bounds_[upper_l] = bounds_[l];
  leaf_group_[upper_l] = static_cast<uint32_t>(g);
  for (const Key& k : upper) leaf_of_[k.second] = upper_l;
  Group& group = groups_[g];
  group.last[j] = leaf.back();
  group.last.insert(group.last.begin() + static_cast<ptrdiff_t>(j) + 1,
                    upper.back());
  group.leaves.insert(group.leaves.begin() + static_cast<ptrdiff_t>(j) + 1,
                      upper_l);
  if (group.leaves.size() <= kMaxGroup) return;
  Group up;
  up.leaves.assign(group.leaves.begin() + kMaxGroup / 2, group.leaves.end());
  up.last.assign(group.last.begin() + kMaxGroup / 2, group.last.end());
  group.leaves.resize(kMaxGroup / 2);
  group.last.resize(kMaxGroup / 2);
  for (uint32_t x : up.leaves) up.count += leaves_[x].size();
  group.count -= up.count;
  up.bound = group.bound;
  group_last_[g] = group.last.back();
  InsertGroup(g + 1, std::move(up));
}

void WeightIndex::Insert(double avg, uint32_t id, uint64_t eligible) {
  Reserve(id);
  eligible_[id] = eligible;
  if (avg > limit_) {
    InsertAbove(avg, id);
  } else {
    InsertSorted(Key{avg, id}, eligible);
  }
}

void WeightIndex::InsertAbove(double avg, uint32_t id) {
  above_[id] = avg;
  ++above_count_;
}

void WeightIndex::EraseAbove(double avg, uint32_t id) {
  if (id < above_.size() && above_[id] == avg) {  // absent: nothing to do
    above_[id] = kNotAbove;
    --above_count_;
  }
}

void WeightIndex::InsertSorted(const Key& key, uint64_t eligible) {
  const uint32_t id = key.second;
  ++sorted_;
  if (groups_.empty()) {
    const uint32_t l = NewLeaf();
    leaves_[l].assign(1, key);
    bounds_[l] = eligible;
    leaf_group_[l] = 0;
    Group group;
    group.leaves = {l};
    group.last = {key};
    group.count = 1;
    group.bound = eligible;
    groups_.push_back(std::move(group));
    group_last_.push_back(key);
    leaf_of_[id] = l;
    return;
  }
  const auto [g, j] = Find(key);
  Group& group = groups_[g];
  const uint32_t l = group.leaves[j];
  Leaf& leaf = leaves_[l];
  leaf.insert(std::lower_bound(leaf.begin(), leaf.end(), key), key);
  bounds_[l] = std::max(bounds_[l], eligible);
  group.bound = std::max(group.bound, eligible);
  ++group.count;
  group.last[j] = leaf.back();
  group_last_[g] = group.last.back();
  leaf_of_[id] = l;
  if (leaf.size() > kMaxLeaf) SplitLeaf(g, j);
}

void WeightIndex::Erase(double avg, uint32_t id) {
  if (avg > limit_) {
    EraseAbove(avg, id);
  } else {
    EraseSorted(Key{avg, id});
  }
}

void WeightIndex::EraseSorted(const Key& key) {
  if (groups_.empty()) return;
  const auto [g, j] = Find(key);
  Group& group = groups_[g];
  const uint32_t l = group.leaves[j];
  Leaf& leaf = leaves_[l];
  const auto at = std::lower_bound(leaf.begin(), leaf.end(), key);
  if (at == leaf.end() || *at != key) return;  // absent: nothing to do
  leaf.erase(at);
  --sorted_;
  --group.count;
  // The bounds stay: bounds of a superset.
  if (!leaf.empty()) {
    group.last[j] = leaf.back();
  } else {
    free_.push_back(l);
    group.leaves.erase(group.leaves.begin() + static_cast<ptrdiff_t>(j));
    group.last.erase(group.last.begin() + static_cast<ptrdiff_t>(j));
    if (group.leaves.empty()) {
      EraseGroup(g);
      return;
    }
  }
  group_last_[g] = group.last.back();
}

void WeightIndex::SetEligible(double avg, uint32_t id, uint64_t eligible) {
  Reserve(id);
  eligible_[id] = eligible;
  // A lower count keeps every bound valid; a key above covered_ needs no
  // bound until a Take() covers it (Cover() recounts it then), nor one
  // outside the tree (its count is read when it enters).
  if (eligible == 0 || avg > covered_ || avg > limit_) return;
  pending_.push_back(id);
  // Bounded memory even if Take() is never called.
  if (pending_.size() > sorted_ + 1024) RaisePending();
}

void WeightIndex::RaisePending() {
  if (groups_.empty()) {
    pending_.clear();
    return;
  }
  constexpr size_t kAhead = 8;
  const size_t n = pending_.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) Prefetch(&leaf_of_[pending_[i + kAhead]]);
    const uint32_t id = pending_[i];
    const uint32_t l = leaf_of_[id];
    const uint64_t eligible = eligible_[id];
    // A count within the leaf's bound (most raises: the bound is the largest
    // of ~100 customers' counts) keeps every bound valid; the group's bound
    // is >= the leaf's, so it needs a look only when the leaf's rose.
    if (l >= bounds_.size() || eligible <= bounds_[l]) continue;
    bounds_[l] = eligible;
    Group& group =
        groups_[std::min<size_t>(leaf_group_[l], groups_.size() - 1)];
    group.bound = std::max(group.bound, eligible);
  }
  pending_.clear();
}

void WeightIndex::Move(std::vector<Update>& updates) {
  // Unchanged averages only change eligible counts; keys above limit_ are
  // one store each; the rest move keys in the tree. Scratch local to the
  // call: a first build's is as large as the index, and keeping it would
  // double the index's memory for nothing.
  std::vector<Key> erased, inserted;
  inserted.reserve(updates.size());
  for (const Update& u : updates) {
    if (u.indexed && u.old_avg == u.new_avg) {
      SetEligible(u.new_avg, u.id, u.eligible);
      continue;
    }
    Reserve(u.id);
    eligible_[u.id] = u.eligible;
    if (u.indexed) {
      if (u.old_avg > limit_) {
        EraseAbove(u.old_avg, u.id);
      } else {
        erased.push_back(Key{u.old_avg, u.id});
      }
    }
    if (u.new_avg > limit_) {
      InsertAbove(u.new_avg, u.id);
    } else {
      inserted.push_back(Key{u.new_avg, u.id});
    }
  }
  if (sorted_ == 0 && above_count_ == 0 && erased.empty()) {
    Build(inserted);
  } else {
    Apply(erased, inserted);
  }
}

void WeightIndex::Apply(std::vector<Key>& erased, std::vector<Key>& inserted) {
  if (erased.empty() && inserted.empty()) return;
  if (std::max(erased.size(), inserted.size()) * kBatchDivisor >= sorted_) {
    std::sort(erased.begin(), erased.end());
    std::sort(inserted.begin(), inserted.end());
    MergeAll(erased, inserted);
    return;
  }
  for (const Key& k : erased) EraseSorted(k);
  for (const Key& k : inserted) InsertSorted(k, eligible_[k.second]);
}

uint64_t WeightIndex::BuildKeep(uint64_t n) const {
  if (expected_rank_ >= n) return n;
  return std::min<uint64_t>(
      n, expected_rank_ + 1 + std::max<uint64_t>(min_slack_, n / 64));
}

double WeightIndex::BuildLimit(const std::vector<double>& all) const {
  const uint64_t keep = BuildKeep(all.size());
  if (keep >= all.size()) return std::numeric_limits<double>::infinity();
  std::vector<double> avgs = all;  // the selection reorders its copy
  std::nth_element(avgs.begin(),
                   avgs.begin() + static_cast<ptrdiff_t>(keep - 1), avgs.end());
  return avgs[keep - 1];  // its ties are kept with it
}

void WeightIndex::Build(std::vector<Key>& keys) {
  std::vector<double> avgs;
  avgs.reserve(keys.size());
  for (const Key& k : keys) avgs.push_back(k.first);
  limit_ = BuildLimit(avgs);
  const auto above =
      std::partition(keys.begin(), keys.end(),
                     [this](const Key& k) { return k.first <= limit_; });
  for (auto it = above; it != keys.end(); ++it)
    InsertAbove(it->first, it->second);
  keys.erase(above, keys.end());
  std::sort(keys.begin(), keys.end());
  MergeAll({}, keys);
}

void WeightIndex::BuildDense(std::vector<double> avgs,
                             std::vector<uint64_t> eligible) {
  limit_ = BuildLimit(avgs);
  std::vector<Key> kept;
  kept.reserve(BuildKeep(avgs.size()));  // plus ties, if any
  for (uint32_t id = 0; id < avgs.size(); ++id) {
    if (avgs[id] <= limit_) {
      kept.push_back(Key{avgs[id], id});
      avgs[id] = kNotAbove;
    } else {
      ++above_count_;
    }
  }
  eligible_ = std::move(eligible);
  leaf_of_.reserve(eligible_.capacity());  // the caller's room for new ids
  leaf_of_.assign(eligible_.size(), 0);
  above_ = std::move(avgs);
  std::sort(kept.begin(), kept.end());
  MergeAll({}, kept);
}

void WeightIndex::MergeAll(const std::vector<Key>& erased,
                           const std::vector<Key>& inserted) {
  // The new leaves' bounds are computed from every count: exact.
  pending_.clear();
  // Three-quarter-full leaves and groups leave room for the next inserts.
  constexpr size_t kFill = kMaxLeaf * 3 / 4;
  constexpr size_t kGroupFill = kMaxGroup * 3 / 4;
  const size_t n = sorted_ + inserted.size() - erased.size();
  const size_t nb = (n + kFill - 1) / kFill;
  // Straight into new leaves; each old leaf is freed once read, so the peak
  // is the old leaves plus the new, not a third copy of every key.
  std::vector<Leaf> fresh(nb);
  std::vector<uint64_t> fresh_bounds(nb, 0);
  size_t cur = 0, written = 0;
  auto emit = [&](const Key& k) {
    if (cur == fresh.size()) {  // only if REQUIRES broke
      fresh.emplace_back();
      fresh_bounds.push_back(0);
    }
    Leaf& leaf = fresh[cur];
    if (leaf.empty()) leaf.reserve(kMaxLeaf);
    leaf.push_back(k);
    leaf_of_[k.second] = static_cast<uint32_t>(cur);
    fresh_bounds[cur] = std::max(fresh_bounds[cur], eligible_[k.second]);
    ++written;
    if (cur + 1 < nb && written == (cur + 1) * n / nb) ++cur;
  };
  size_t e = 0, i = 0;
  for (const Group& group : groups_) {
    for (uint32_t l : group.leaves) {
      for (const Key& x : leaves_[l]) {
        while (i < inserted.size() && inserted[i] < x) emit(inserted[i++]);
        if (e < erased.size() && erased[e] == x) {
          ++e;  // keys are unique: this is the one entry with that key
          continue;
        }
        emit(x);
      }
      Leaf().swap(leaves_[l]);
    }
  }
  while (i < inserted.size()) emit(inserted[i++]);
  while (!fresh.empty() && fresh.back().empty()) fresh.pop_back();
  fresh_bounds.resize(fresh.size());
  leaves_ = std::move(fresh);
  bounds_ = std::move(fresh_bounds);
  leaf_group_.assign(leaves_.size(), 0);
  free_.clear();
  groups_.clear();
  group_last_.clear();
  const size_t nl = leaves_.size();
  const size_t ng = (nl + kGroupFill - 1) / kGroupFill;
  groups_.resize(ng);
  group_last_.resize(ng);
  for (size_t g = 0; g < ng; ++g) {
    Group& group = groups_[g];
    for (size_t l = g * nl / ng; l < (g + 1) * nl / ng; ++l) {
      leaf_group_[l] = static_cast<uint32_t>(g);
      group.leaves.push_back(static_cast<uint32_t>(l));
      group.last.push_back(leaves_[l].back());
      group.count += leaves_[l].size();
      group.bound = std::max(group.bound, bounds_[l]);
    }
    group_last_[g] = group.last.back();
  }
  sorted_ = written;
}

double WeightIndex::Kth(uint64_t k) {
  const uint64_t slack = Slack();
  if (k >= sorted_) {
    Raise(k + 1 + slack, -std::numeric_limits<double>::infinity());
  } else if (sorted_ - k > 4 * slack) {
    Trim(k + 1 + slack);
  }
  return KthSorted(k);
}

double WeightIndex::KthSorted(uint64_t k) const {
  for (const Group& group : groups_) {
    if (k >= group.count) {
      k -= group.count;
      continue;
    }
    for (uint32_t l : group.leaves) {
      const Leaf& keys = leaves_[l];
      if (k < keys.size()) return keys[k].first;
      k -= keys.size();
    }
  }
  return group_last_.back().first;  // unreachable when k < sorted_
}

void WeightIndex::Raise(uint64_t target, double at_least) {
  double limit = std::max(limit_, at_least);
  if (target > sorted_) {
    // The (target - sorted_)-th smallest average above limit_, if there are
    // that many.
    std::vector<double> avgs;
    avgs.reserve(above_count_);
    for (double a : above_) {
      if (a == a) avgs.push_back(a);  // not NaN: above
    }
    const uint64_t need = target - sorted_;
    if (need >= avgs.size()) {
      limit = std::numeric_limits<double>::infinity();
    } else {
      std::nth_element(avgs.begin(),
                       avgs.begin() + static_cast<ptrdiff_t>(need - 1),
                       avgs.end());
      limit = std::max(limit, avgs[need - 1]);
    }
  }
  if (limit == limit_) return;
  limit_ = limit;
  std::vector<Key> inserted, erased;
  for (uint32_t id = 0; id < above_.size(); ++id) {
    if (above_[id] <= limit_) {  // false for NaN
      inserted.push_back(Key{above_[id], id});
      above_[id] = kNotAbove;
      --above_count_;
    }
  }
  Apply(erased, inserted);
}

void WeightIndex::Trim(uint64_t keep) {
  const double limit = KthSorted(keep - 1);
  if (limit >= limit_) return;
  // From the tree's end: whole leaves and groups, then part of one leaf.
  while (!groups_.empty()) {
    Group& group = groups_.back();
    const uint32_t l = group.leaves.back();
    Leaf& leaf = leaves_[l];
    if (leaf.back().first <= limit) break;
    while (!leaf.empty() && leaf.back().first > limit) {
      InsertAbove(leaf.back().first, leaf.back().second);
      leaf.pop_back();
      --group.count;
      --sorted_;
    }
    if (leaf.empty()) {
      Leaf().swap(leaf);
      free_.push_back(l);
      group.leaves.pop_back();
      group.last.pop_back();
      if (group.leaves.empty()) {
        groups_.pop_back();
        group_last_.pop_back();
        continue;
      }
    } else {
      group.last.back() = leaf.back();
    }
    group_last_.back() = group.last.back();
  }
  limit_ = limit;
}

void WeightIndex::Cover(double max_avg) {
  // From the leaf that would hold the first key above covered_.
  auto [g, j] = Find(Key{covered_, std::numeric_limits<uint32_t>::max()});
  for (; g < groups_.size(); ++g, j = 0) {
    Group& group = groups_[g];
    for (; j < group.leaves.size(); ++j) {
      const uint32_t l = group.leaves[j];
      if (leaves_[l].front().first > max_avg) return;
      uint64_t bound = 0;
      for (const Key& k : leaves_[l])
        bound = std::max(bound, eligible_[k.second]);
      bounds_[l] = bound;
      group.bound = std::max(group.bound, bound);
    }
  }
}

void WeightIndex::Take(double max_avg, uint64_t min_eligible,
                       std::vector<uint32_t>* out) {
  if (max_avg > limit_) Raise(0, max_avg);
  if (groups_.empty()) return;
  RaisePending();
  if (max_avg > covered_) {
    Cover(max_avg);
    covered_ = max_avg;
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    // Group g starts after group g - 1's last key.
    if (g > 0 && group_last_[g - 1].first > max_avg) break;
    Group& group = groups_[g];
    if (group.bound < min_eligible) continue;
    uint64_t group_bound = 0;
    for (size_t j = 0; j < group.leaves.size(); ++j) {
      const uint32_t l = group.leaves[j];
      const bool reached = j == 0 || group.last[j - 1].first <= max_avg;
      if (reached && bounds_[l] >= min_eligible) {
        // The whole leaf, so that its bound becomes exact (the taken at 0).
        uint64_t bound = 0;
        for (const Key& k : leaves_[l]) {
          uint64_t& eligible = eligible_[k.second];
          if (k.first <= max_avg && eligible >= min_eligible) {
            out->push_back(k.second);
            eligible = 0;
          } else {
            bound = std::max(bound, eligible);
          }
        }
        bounds_[l] = bound;
      }
      group_bound = std::max(group_bound, bounds_[l]);
    }
    group.bound = group_bound;
  }
}

}  // namespace txflow
