// A multiset of positive integers (transaction counts) with O(log V) insert,
// erase and k-th smallest: a Fenwick tree over the values. It grows to the
// largest value seen. Not thread-safe.
#ifndef TXFLOW_DETECTOR_COUNT_HISTOGRAM_H_
#define TXFLOW_DETECTOR_COUNT_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace txflow {

class CountHistogram {
 public:
  // REQUIRES: v >= 1; for delta < 0, v is present often enough.
  void Add(uint64_t v, int64_t delta) {
    if (v >= tree_.size()) Grow(v);
    size_ += delta;
    hist_[v] += delta;
    for (uint64_t i = v; i < tree_.size(); i += i & (~i + 1)) tree_[i] += delta;
  }

  // Add(from, -1) then Add(to, +1), in one walk: the two update paths of the
  // tree join at their first common node, above which the changes cancel.
  // REQUIRES: from, to >= 1; from is present.
  void Move(uint64_t from, uint64_t to) {
    if (to >= tree_.size()) Grow(to);
    --hist_[from];
    ++hist_[to];
    uint64_t i = from, j = to;
    while (i != j) {
      if (i < j) {
        --tree_[i];
        i += i & (~i + 1);
      } else {
        ++tree_[j];
        j += j & (~j + 1);
      }
      // A path that leaves the tree has no common node left to meet.
      if (i >= tree_.size()) {
        for (; j < tree_.size(); j += j & (~j + 1)) ++tree_[j];
        return;
      }
      if (j >= tree_.size()) {
        for (; i < tree_.size(); i += i & (~i + 1)) --tree_[i];
        return;
      }
    }
  }

  // The k-th smallest value, 0-based. REQUIRES: k < size().
  uint64_t Kth(uint64_t k) const {
    uint64_t pos = 0;
    for (uint64_t step = top_; step != 0; step >>= 1) {
      if (pos + step < tree_.size() &&
          static_cast<uint64_t>(tree_[pos + step]) <= k) {
        pos += step;
        k -= static_cast<uint64_t>(tree_[pos]);
      }
    }
    return pos + 1;
  }

  uint64_t size() const { return static_cast<uint64_t>(size_); }

 private:
  void Grow(uint64_t v) {
    uint64_t cap = 64;
    while (cap <= v) cap *= 2;
    hist_.resize(cap, 0);
    tree_.assign(cap, 0);  // index 0 unused
    for (uint64_t i = 1; i < cap; ++i) {
      tree_[i] += hist_[i];
      const uint64_t parent = i + (i & (~i + 1));
      if (parent < cap) tree_[parent] += tree_[i];
    }
    top_ = cap / 2;
  }

  std::vector<int64_t> hist_;  // hist_[v]: how many times v is present
  std::vector<int64_t> tree_;  // Fenwick partial sums of hist_
  uint64_t top_ = 0;           // highest power of two below tree_.size()
  int64_t size_ = 0;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_COUNT_HISTOGRAM_H_
