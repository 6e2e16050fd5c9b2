// A timing harness, not a test: the UPGRADE index (WeightIndex) against the
// previous layout (a copy kept here as OldWeightIndex), on one replayed
// workload per size. Usage: weight_index_bench [CHUNKS [--oscillate]
// [SIZES...]] (WEIGHT_INDEX_BENCH_WARM=1: no cache trashing between chunks).
//
// Per chunk and merchant, as MerchantState::Evaluate does it: a batch of
// touched customers (93 % keep their average and only raise their eligible
// count, 7 % move, a few are new), Move(), two Kth() for the 10th percentile
// of averages, and Take() of the customers below it whose count reaches the
// 90th percentile of counts. Both indexes get the same operations; their
// answers are compared, and per-chunk times reported as medians, p99 and max.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "detector/weight_index.h"

namespace txflow {
namespace {

// The layout before issue 15, verbatim but for the name.
class OldWeightIndex {
 public:
  // REQUIRES: (avg, id) is not present.
  void Insert(double avg, uint32_t id, uint64_t eligible);
  // REQUIRES: (avg, id) is present.
  void Erase(double avg, uint32_t id);
  // Sets the eligible count of the present key (avg, id).
  void SetEligible(double avg, uint32_t id, uint64_t eligible);
  uint64_t size() const { return size_; }

  using Update = WeightIndex::Update;
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
size_t OldWeightIndex::FindBlock(const Key& key) const {
  const auto it = std::lower_bound(last_keys_.begin(), last_keys_.end(), key);
  const size_t b = static_cast<size_t>(it - last_keys_.begin());
  return std::min(b, blocks_.size() - 1);
}

void OldWeightIndex::Recount(size_t b) {
  uint64_t bound = 0;
  for (const Key& k : blocks_[b].keys) {
    bound = std::max(bound, eligible_[k.second]);
  }
  blocks_[b].bound = bound;
}

void OldWeightIndex::Insert(double avg, uint32_t id, uint64_t eligible) {
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

void OldWeightIndex::Erase(double avg, uint32_t id) {
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

void OldWeightIndex::SetEligible(double avg, uint32_t id, uint64_t eligible) {
  EligibleOf(id) = eligible;
  // Keys above maintained_ need no bound: a Take() that reaches them recounts
  // their block first.
  if (avg <= maintained_ && eligible > 0) {
    Block& block = blocks_[FindBlock(Key{avg, id})];
    block.bound = std::max(block.bound, eligible);
  }
}

void OldWeightIndex::Move(std::vector<Update>& updates) {
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

void OldWeightIndex::MergeAll(const std::vector<Update>& updates) {
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

double OldWeightIndex::Kth(uint64_t k) const {
  for (const Block& block : blocks_) {
    if (k < block.keys.size()) return block.keys[k].first;
    k -= block.keys.size();
  }
  return blocks_.back().keys.back().first;  // unreachable when k < size()
}

void OldWeightIndex::Take(double max_avg, uint64_t min_eligible,
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

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  return v[i];
}

struct Customer {
  double avg;
  uint64_t count;
  bool reported;
};

// Averages from a few hundred values, so there are many ties, as with the
// importance table's weights.
double RandomAvg(std::mt19937_64& rng) {
  return static_cast<double>(1 + rng() % 400) * 0.25;
}

// In the detector, a merchant's index is visited once per chunk, between
// the pair table's and 34 other indexes' work: its leaves have left the
// caches. Writing 64 MB between two chunks recreates that (untimed).
bool trash_caches = true;
bool oscillate = false;
void TrashCaches() {
  static std::vector<uint64_t> junk(8 << 20);
  if (!trash_caches) return;
  for (size_t i = 0; i < junk.size(); i += 8) junk[i] += i;
}

template <typename Index>
double RunChunk(Index& index, std::vector<WeightIndex::Update> batch, int chunk,
                uint64_t n, uint64_t min_count, std::vector<uint32_t>* found,
                double* p_weight) {
  TrashCaches();
  const auto t0 = Clock::now();
  index.Move(batch);
  // With --oscillate, every other chunk asks for the 20th percentile: the
  // bound falls and rises by a tenth of the entries (as a percentile that
  // sits between two large groups of tied averages does).
  const uint64_t lo = (n - 1) / (oscillate && chunk % 2 ? 5 : 10),
                 hi = std::min(n - 1, lo + 1);
  const double w_lo = index.Kth(lo), w_hi = index.Kth(hi);
  *p_weight = w_lo + (w_hi - w_lo) * 0.5;
  index.Take(*p_weight, min_count, found);
  return Ms(t0, Clock::now());
}

void Run(uint64_t size, int chunks, size_t per_chunk) {
  std::mt19937_64 rng(size);
  std::vector<Customer> cs(size);
  std::vector<WeightIndex::Update> first;
  for (uint32_t id = 0; id < size; ++id) {
    cs[id] = {RandomAvg(rng),
              1 + rng() % 20 + (rng() % 50 == 0 ? rng() % 200 : 0), false};
    first.push_back({false, 0, cs[id].avg, id, cs[id].count});
  }
  OldWeightIndex old_index;
  WeightIndex new_index;
  auto b = first;
  auto t0 = Clock::now();
  old_index.Move(b);
  const double old_build = Ms(t0, Clock::now());
  b = first;
  t0 = Clock::now();
  // As MerchantState::IndexAll: the 10th percentile's upper rank first.
  new_index.ExpectRank(10 * (size - 1) / 100 + 1);
  new_index.Move(b);
  const double new_build = Ms(t0, Clock::now());
  std::vector<double> old_ms, new_ms;
  std::vector<int> last_touch(size, -1);
  uint64_t taken = 0, min_count = 0;
  for (int chunk = 0; chunk < chunks; ++chunk) {
    if (chunk % 50 == 0) {  // the count percentile drifts slowly
      std::vector<uint64_t> counts;
      for (const Customer& c : cs) counts.push_back(c.count);
      std::nth_element(counts.begin(), counts.begin() + counts.size() * 9 / 10,
                       counts.end());
      min_count = counts[counts.size() * 9 / 10];
    }
    std::vector<WeightIndex::Update> batch;
    for (size_t u = 0; u < per_chunk; ++u) {
      if (rng() % 100 == 0) {  // a new customer
        const uint32_t id = static_cast<uint32_t>(cs.size());
        cs.push_back({RandomAvg(rng), 1, false});
        last_touch.push_back(chunk);
        batch.push_back({false, 0, cs[id].avg, id, 1});
        continue;
      }
      // Skewed: a tenth of the customers get half the touches.
      const uint32_t id = static_cast<uint32_t>(
          rng() % 2 ? rng() % (cs.size() / 10 + 1) : rng() % cs.size());
      if (last_touch[id] == chunk) continue;  // ids in a batch are distinct
      last_touch[id] = chunk;
      Customer& c = cs[id];
      const double old_avg = c.avg;
      ++c.count;
      if (rng() % 100 < 7) c.avg = RandomAvg(rng);
      batch.push_back({true, old_avg, c.avg, id, c.reported ? 0 : c.count});
    }
    const uint64_t n =
        new_index.size() + static_cast<uint64_t>(std::count_if(
                               batch.begin(), batch.end(),
                               [](const auto& u) { return !u.indexed; }));
    std::vector<uint32_t> got_old, got_new;
    double pw_old, pw_new;
    // Alternate which goes first, so neither always finds a warm cache.
    if (chunk % 2) {
      old_ms.push_back(
          RunChunk(old_index, batch, chunk, n, min_count, &got_old, &pw_old));
      new_ms.push_back(
          RunChunk(new_index, batch, chunk, n, min_count, &got_new, &pw_new));
    } else {
      new_ms.push_back(
          RunChunk(new_index, batch, chunk, n, min_count, &got_new, &pw_new));
      old_ms.push_back(
          RunChunk(old_index, batch, chunk, n, min_count, &got_old, &pw_old));
    }
    if (got_old != got_new || pw_old != pw_new) {
      std::fprintf(stderr, "MISMATCH at size %llu chunk %d\n",
                   static_cast<unsigned long long>(size), chunk);
      std::exit(1);
    }
    for (uint32_t id : got_new) cs[id].reported = true;
    taken += got_new.size();
  }
  std::printf(
      "%9llu  %7zu  build old %7.2f new %7.2f ms | chunk ms old p50 %.4f "
      "p99 %.4f max %.3f | new p50 %.4f p99 %.4f max %.3f | p50 old/new "
      "%.2f  taken %llu\n",
      static_cast<unsigned long long>(size), per_chunk, old_build, new_build,
      Pct(old_ms, 0.5), Pct(old_ms, 0.99), Pct(old_ms, 1.0), Pct(new_ms, 0.5),
      Pct(new_ms, 0.99), Pct(new_ms, 1.0), Pct(old_ms, 0.5) / Pct(new_ms, 0.5),
      static_cast<unsigned long long>(taken));
}

}  // namespace
}  // namespace txflow

int main(int argc, char** argv) {
  const int chunks = argc > 1 ? std::atoi(argv[1]) : 400;
  if (std::getenv("WEIGHT_INDEX_BENCH_WARM") != nullptr) {
    txflow::trash_caches = false;  // both indexes stay in cache: a lower bound
  }
  std::vector<uint64_t> sizes;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--oscillate") {
      txflow::oscillate = true;
      continue;
    }
    sizes.push_back(std::strtoull(argv[i], nullptr, 10));
  }
  if (sizes.empty()) sizes = {10000, 100000, 700000};
  for (uint64_t size : sizes) {
    const size_t per_chunk =
        std::max<size_t>(200, std::min<size_t>(5000, size / 100));
    txflow::Run(size, chunks, per_chunk);
  }
  return 0;
}
