// The order-statistic index over a merchant's customers by average weight,
// for PatId1. Each entry is (average weight, pair id) with an "eligible
// count": the customer's transaction count while UPGRADE has not fired for
// it, 0 after. Every tree node also keeps its subtree's size and largest
// eligible count, so
//   - Kth(k) finds the k-th smallest average in O(log n), and
//   - Collect(a, c) reports every entry with average <= a and eligible count
//     >= c while visiting only subtrees that can hold one: O((k+1) log n) for
//     k results, instead of walking all customers below the percentile.
// Not thread-safe.
#ifndef TXFLOW_DETECTOR_WEIGHT_INDEX_H_
#define TXFLOW_DETECTOR_WEIGHT_INDEX_H_

#include <cstdint>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <utility>
#include <vector>

namespace txflow {

namespace weight_index_internal {

struct Meta {
  uint64_t size = 0;
  uint64_t max_eligible = 0;
};

template <class NodeCItr, class NodeItr, class CmpFn, class Alloc>
struct Update {
  using metadata_type = Meta;
  void operator()(NodeItr it, NodeCItr end) {
    Meta m{1, (**it).second};
    for (NodeItr child : {it.get_l_child(), it.get_r_child()}) {
      if (child == end) continue;
      m.size += child.get_metadata().size;
      m.max_eligible =
          std::max(m.max_eligible, child.get_metadata().max_eligible);
    }
    const_cast<Meta&>(it.get_metadata()) = m;
  }
  virtual NodeCItr node_begin() const = 0;
  virtual NodeCItr node_end() const = 0;
  virtual ~Update() = default;
};

}  // namespace weight_index_internal

class WeightIndex {
 public:
  void Insert(double avg, uint32_t id, uint64_t eligible) {
    tree_.insert({{avg, id}, eligible});
  }
  void Erase(double avg, uint32_t id) { tree_.erase({avg, id}); }
  uint64_t size() const { return tree_.size(); }

  // The k-th smallest average, 0-based. REQUIRES: k < size().
  double Kth(uint64_t k) const {
    auto it = tree_.node_begin();
    while (true) {
      const auto left = it.get_l_child();
      const uint64_t ls =
          left == tree_.node_end() ? 0 : left.get_metadata().size;
      if (k < ls) {
        it = left;
      } else if (k == ls) {
        return (**it).first.first;
      } else {
        k -= ls + 1;
        it = it.get_r_child();
      }
    }
  }

  // Appends the ids of entries with average <= max_avg and eligible count >=
  // min_eligible (min_eligible >= 1), in ascending order of (average, id).
  void Collect(double max_avg, uint64_t min_eligible,
               std::vector<uint32_t>* out) const {
    Collect(tree_.node_begin(), max_avg, min_eligible, out);
  }

 private:
  using Tree =
      __gnu_pbds::tree<std::pair<double, uint32_t>, uint64_t,
                       std::less<std::pair<double, uint32_t>>,
                       __gnu_pbds::rb_tree_tag, weight_index_internal::Update>;

  void Collect(Tree::node_const_iterator it, double max_avg,
               uint64_t min_eligible, std::vector<uint32_t>* out) const {
    if (it == tree_.node_end() || it.get_metadata().max_eligible < min_eligible)
      return;
    Collect(it.get_l_child(), max_avg, min_eligible, out);
    const auto& [key, eligible] = **it;
    if (key.first > max_avg) return;  // the right subtree is larger still
    if (eligible >= min_eligible) out->push_back(key.second);
    Collect(it.get_r_child(), max_avg, min_eligible, out);
  }

  Tree tree_;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_WEIGHT_INDEX_H_
