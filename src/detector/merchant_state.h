// One merchant's detector state: the self-contained unit that can be applied,
// evaluated, serialized and restored on its own (SPEC §4.2-4.3). The local
// detector keeps one per merchant; a sharded engine (Spark) can keep them on
// different machines, keyed by merchant, without changing results.
//
// Per customer of the merchant (a "pair"): transaction count, amount sum in
// paise, weight sum in 10^-6 units, gender of the first transaction, whether
// it was ever seen with gender F / M, and which patterns already fired.
// Per merchant: total transactions, number of customers seen as F / as M,
// whether DEI-NEEDED fired.
//
// Evaluate() is O(touched pairs · log n) plus O((k+1) log n) to find the k
// new UPGRADE customers: percentiles and candidates come from indexes (a
// Fenwick histogram of counts, a blocked order-statistic index of average
// weights), never from sorting all customers.
//
// Not thread-safe; one owner at a time.
#ifndef TXFLOW_DETECTOR_MERCHANT_STATE_H_
#define TXFLOW_DETECTOR_MERCHANT_STATE_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detector/count_histogram.h"
#include "detector/detection.h"
#include "detector/importance_table.h"
#include "detector/weight_index.h"
#include "txflow/status.h"

namespace txflow {

class MerchantState {
 public:
  explicit MerchantState(std::string merchant_id);

  // Applies one good transaction.
  void Apply(std::string_view customer, Gender gender, int64_t amount_paise,
             int64_t weight_micro);

  // Applies one good transaction whose weight is the importance table's mean
  // for (customer, this merchant, category), or the amount without a match.
  // The weight is cached per customer with its category, so repeated
  // transactions do not search the table (results are identical to Apply
  // with the looked-up weight).
  void ApplyWeighted(std::string_view customer, Gender gender,
                     int64_t amount_paise, std::string_view category,
                     const ImportanceTable& importance);

  // Appends the detections that the transactions applied since the last call
  // make true for the first time (unsorted; the caller orders them), marks
  // them reported, and forgets which pairs were touched.
  void Evaluate(const Thresholds& t, std::vector<Detection>* out);

  // Appends a self-describing binary image; Deserialize consumes one from
  // *in. The image holds no derived data: indexes are rebuilt on restore.
  void Serialize(std::string* out) const;
  static Result<std::unique_ptr<MerchantState>> Deserialize(
      std::string_view* in);

  const std::string& id() const { return id_; }
  uint64_t total() const { return total_; }
  size_t customers() const { return pairs_.size(); }
  bool touched() const { return !touched_pairs_.empty(); }

 private:
  struct Pair {
    std::string name;  // the customer; beside the counters for locality
    uint64_t count = 0;
    int64_t amount_paise = 0;
    int64_t weight_micro = 0;
    Gender first_gender = Gender::kOther;
    bool seen_female = false, seen_male = false;
    bool child_reported = false, upgrade_reported = false;
    bool touched = false;
    // Keys under which the pair sits in the indexes (valid when indexed_).
    uint64_t indexed_count = 0;
    double indexed_avg = 0;
    // Importance weight cache (not serialized; rebuilt on use).
    bool weight_cached = false, cached_has_weight = false;
    int64_t cached_weight = 0;
    std::string cached_category;
    double Avg() const {
      return static_cast<double>(weight_micro) / static_cast<double>(count);
    }
  };

  void Index(uint32_t id);
  void Reindex(uint32_t id);
  // The pair id of `customer`, creating the pair if new.
  uint32_t PairId(std::string_view customer, Gender gender);
  void Update(uint32_t id, Gender gender, int64_t amount_paise,
              int64_t weight_micro);
  void InsertSlot(uint32_t id);

  std::string id_;
  uint64_t total_ = 0;
  uint64_t female_ = 0, male_ = 0;
  bool dei_reported_ = false;
  std::vector<Pair> pairs_;
  // Open addressing: slot holds pair id + 1 (0: empty); probed with the
  // customer's bytes, so a lookup allocates nothing.
  std::vector<uint32_t> slots_;
  std::vector<uint32_t> touched_pairs_;
  // Order statistics over all pairs; built when the merchant first exceeds
  // the UPGRADE threshold, then updated for touched pairs only.
  bool indexed_ = false;
  CountHistogram counts_;
  WeightIndex avgs_;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_MERCHANT_STATE_H_
