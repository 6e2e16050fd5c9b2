// One merchant's detector state: the self-contained unit that can be applied,
// evaluated, serialized and restored on its own (SPEC §4.2-4.3). The local
// detector keeps one per merchant; a sharded engine (Spark) can keep them on
// different machines, keyed by merchant, without changing results.
//
// Per customer of the merchant (a "pair"): transaction count, amount sum in
// paise, weight sum in 10^-6 units, gender of the first transaction (the
// pair's gender, SPEC §4.2), and which patterns already fired.
// Per merchant: total transactions, number of customers whose pair gender is
// F / M (each customer once), whether DEI-NEEDED fired.
//
// Evaluate() is O(touched pairs · log n) plus O((k+1) log n) to find the k
// new UPGRADE customers: percentiles and candidates come from indexes (a
// Fenwick histogram of counts, a blocked order-statistic index of average
// weights), never from sorting all customers.
//
// Not thread-safe; one owner at a time.
#ifndef TXFLOW_DETECTOR_MERCHANT_STATE_H_
#define TXFLOW_DETECTOR_MERCHANT_STATE_H_

#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/prefetch.h"
#include "detector/count_histogram.h"
#include "detector/detection.h"
#include "detector/importance_table.h"
#include "detector/weight_index.h"
#include "txflow/status.h"

namespace txflow {

class MerchantState {
 public:
  explicit MerchantState(std::string merchant_id);
  // One owner: not copyable (the customer index points into its records).
  MerchantState(const MerchantState&) = delete;
  MerchantState& operator=(const MerchantState&) = delete;

  // Applies one good transaction.
  void Apply(std::string_view customer, Gender gender, int64_t amount_paise,
             int64_t weight_micro) {
    Apply(customer, HashCustomer(customer), gender, amount_paise, weight_micro);
  }
  // The same with the customer's HashCustomer() computed by the caller.
  void Apply(std::string_view customer, uint64_t hash, Gender gender,
             int64_t amount_paise, int64_t weight_micro);

  // Weight units (10^-6 rupees) per paisa: the weight of a transaction
  // without an importance table is its amount (SPEC §2.2).
  static constexpr int64_t kWeightPerPaisa = 10'000;
  // Applies one good transaction whose weight is its amount (no importance
  // table).
  void ApplyUnweighted(std::string_view customer, uint64_t hash, Gender gender,
                       int64_t amount_paise) {
    Apply(customer, hash, gender, amount_paise, amount_paise * kWeightPerPaisa);
  }

  // Applies one good transaction whose weight is the importance table's mean
  // for (customer, this merchant, category), or the amount without a match.
  // The weight is cached per customer with its category, so repeated
  // transactions do not search the table (results are identical to Apply
  // with the looked-up weight).
  void ApplyWeighted(std::string_view customer, Gender gender,
                     int64_t amount_paise, std::string_view category,
                     const ImportanceTable& importance) {
    ApplyWeighted(customer, HashCustomer(customer), gender, amount_paise,
                  category, importance);
  }
  void ApplyWeighted(std::string_view customer, uint64_t hash, Gender gender,
                     int64_t amount_paise, std::string_view category,
                     const ImportanceTable& importance);

  // For callers that batch rows: the hash the lookups use, and two cache
  // hints. PrefetchSlot(h) starts loading the customer's slot; a little later
  // PrefetchPair(h) reads that slot and starts loading the customer's record.
  // Hints only: they change nothing, whatever happens in between.
  // The same hash as ImportanceTable::FieldHash, so that the importance
  // lookup reuses it.
  static uint64_t HashCustomer(std::string_view customer) {
    return ImportanceTable::FieldHash(customer);
  }
  // ImportanceTable::KeyHash of (customer, this merchant, category).
  uint64_t ImportanceKeyHash(uint64_t customer_hash,
                             std::string_view category) const {
    return ImportanceTable::KeyHash(customer_hash, id_hash_,
                                    ImportanceTable::FieldHash(category));
  }
  void PrefetchSlot(uint64_t hash) const {
    if (!slots_.empty()) Prefetch(&slots_[hash & (slots_.size() - 1)]);
  }
  // Returns true when the customer is certainly new here (its weight will
  // then be looked up in the importance table).
  bool PrefetchPair(uint64_t hash) const {
    if (slots_.empty()) return true;
    // The customer's slot is the first one with its tag on the probe path
    // (usually the first slot, else one in the same cache line).
    const size_t mask = slots_.size() - 1;
    const uint64_t tag = hash >> 32;
    for (size_t i = hash & mask, probes = 0; probes < 8;
         i = (i + 1) & mask, ++probes) {
      const uint64_t slot = slots_[i];
      if (slot == 0) return true;
      if ((slot >> 32) == tag) {
        Prefetch(&pairs_[static_cast<uint32_t>(slot) - 1]);
        return false;
      }
    }
    return false;
  }

  // Appends the detections that the transactions applied since the last call
  // make true for the first time (unsorted; the caller orders them), marks
  // them reported, and forgets which pairs were touched. Each carries its
  // Evidence: the values this call compared (all but Evidence::chunk, which
  // the caller knows), computed only for the detections found.
  void Evaluate(const Thresholds& t, std::vector<Detection>* out);

  // Appends a self-describing binary image; Deserialize consumes one from
  // *in. The image holds no derived data: indexes are rebuilt on restore.
  void Serialize(std::string* out) const;
  static Result<std::unique_ptr<MerchantState>> Deserialize(
      std::string_view* in);
  // Deserialize in two steps, for a caller that restores many merchants:
  // DeserializeUnindexed reads one image (sequential: images follow one
  // another in a checkpoint), BuildIndex builds its customer lookup table
  // (the larger part of the work, and independent per merchant, so it may
  // run on another thread). The state is usable only after BuildIndex
  // returned OK; Corruption for a duplicate customer.
  static Result<std::unique_ptr<MerchantState>> DeserializeUnindexed(
      std::string_view* in);
  Status BuildIndex();
  // Moves *in past one Serialize image, or one SerializeDelta image (whose
  // merchant id goes to *id), without building anything: how a restore
  // finds where each merchant's bytes are, to restore merchants on several
  // threads. False for bytes that are no such image (the full decoders
  // then say what is wrong).
  static bool SkipImage(std::string_view* in);
  // Builds the UPGRADE order statistics now if the merchant is over
  // t.upgrade_min_txns and they are not built yet, instead of in the first
  // Evaluate after a restore (one sorted build over all pairs: seconds for
  // the largest merchants at 100 M records, on the first chunk's time).
  // Changes no result: Evaluate builds the same indexes itself otherwise.
  void PrepareIndexes(const Thresholds& t);
  static bool SkipDelta(std::string_view* in, std::string* id);

  // Incremental checkpoints (docs/formats.md, "Detector delta"). Pair ids
  // are assigned in insertion order and Deserialize keeps them, so a delta
  // names an existing pair by id. Apply and Evaluate mark the pairs they
  // change dirty (once each); "the last checkpoint" is the last
  // MarkCheckpointed() (or the restore, or construction).
  //
  // Whether anything changed since the last checkpoint.
  bool dirty() const { return !dirty_ids_.empty(); }
  // Pairs changed or created since the last checkpoint.
  size_t dirty_pairs() const { return dirty_ids_.size(); }
  // Appends this merchant's changes since the last checkpoint: its
  // aggregates, the dirty pairs that existed then (by id, ascending) and the
  // pairs created since (with their names, in id order). Bounded by the
  // rows applied since, not by the state size.
  void SerializeDelta(std::string* out) const;
  // Forgets the dirty marks: what is now in memory is checkpointed.
  void MarkCheckpointed();
  // Applies one SerializeDelta image from *in to this state (which must be
  // the state that delta was taken against). Corruption for a malformed
  // image, or one that does not fit this state (another merchant, ids out
  // of range, a pair count that does not follow on); the state is then
  // unusable. Indexes are rebuilt as after Deserialize.
  Status ApplyDelta(std::string_view* in);
  // The merchant id a SerializeDelta image starts with (without consuming).
  static Result<std::string> DeltaMerchant(std::string_view in);

  // Set when a transaction would have taken a customer's amount or weight
  // sum past int64: that transaction was not applied (the rest were), and
  // the state no longer follows the source, so the owner must stop.
  const std::optional<std::string>& overflowed_customer() const {
    return overflowed_;
  }

  const std::string& id() const { return id_; }
  size_t customers() const { return pairs_.size(); }

  // The aggregates SPEC §4.2 names, for engines that publish them (the
  // Spark job's state tables). Reads only.
  uint64_t total() const { return total_; }
  uint64_t female_customers() const { return female_; }
  uint64_t male_customers() const { return male_; }
  struct PairStats {
    uint64_t count;
    int64_t amount_paise;
    int64_t weight_micro;
    Gender gender;  // of the pair's first transaction
  };
  // The pair (customer, this merchant); nullopt when the customer has no
  // transaction here.
  std::optional<PairStats> FindPair(std::string_view customer) const;

 private:
  // One cache line per customer: a lookup reads its slot and this line.
  struct alignas(64) Pair {
    uint64_t count = 0;
    int64_t amount_paise = 0;
    int64_t weight_micro = 0;
    // Importance weight cache (not serialized; rebuilt on use), valid for
    // the category categories_[cached_category] when weight_cached.
    int64_t cached_weight = 0;
    // The customer: inline when it has at most kInlineName bytes, else in
    // long_names_ (name_ then holds its address and size).
    char name_[22];
    uint8_t name_size_ = 0;  // kLongName: not inline
    uint8_t cached_category = 0;
    Gender first_gender = Gender::kOther;
    bool child_reported = false, upgrade_reported = false;
    bool touched = false;
    bool dirty = false;  // changed since the last checkpoint (dirty_ids_)
    bool weight_cached = false, cached_has_weight = false;

    std::string_view name() const {
      if (name_size_ != kLongName) return {name_, name_size_};
      const char* data;
      size_t size;
      std::memcpy(&data, name_, sizeof data);
      std::memcpy(&size, name_ + sizeof data, sizeof size);
      return {data, size};
    }
    double Avg() const {
      return static_cast<double>(weight_micro) / static_cast<double>(count);
    }
  };
  static constexpr size_t kInlineName = sizeof(Pair::name_);
  static constexpr uint8_t kLongName = 0xFF;
  static_assert(sizeof(Pair) == 64);
  // A pair's counters when a chunk first touched it: its key in the indexes.
  struct Touch {
    uint32_t id;
    uint64_t old_count;  // 0: new since the last Evaluate (not indexed)
    int64_t old_weight_micro;
  };

  // Evidence with the merchant's part filled (known, merchant_total).
  Evidence MerchantEvidence() const;
  // The same plus the pair's count, amount and weight sums.
  Evidence PairEvidence(const Pair& p) const;
  void SetName(Pair* p, std::string_view customer);
  // The pair id of `customer` (whose HashCustomer is `hash`), if it has one.
  std::optional<uint32_t> FindId(std::string_view customer,
                                 uint64_t hash) const;
  // The pair id of `customer` (whose HashCustomer is `hash`), creating the
  // pair if new.
  uint32_t PairId(std::string_view customer, uint64_t hash, Gender gender);
  void Update(uint32_t id, int64_t amount_paise, int64_t weight_micro);
  // Builds counts_ and avgs_ from every pair (avgs_ told t's weight
  // percentile rank first, so that it sorts only the low keys); sets
  // indexed_. REQUIRES: not indexed_, no touched pair.
  void IndexAll(const Thresholds& t);
  // On every applied row: a flag in the record the row just updated (in
  // cache) and an append, so the row loop pays no extra miss (a bitmap by
  // id cost 3 % of the detector's time at 100 M records); the sort is the
  // checkpoint's (SerializeDelta).
  void MarkDirty(uint32_t id) {
    Pair& p = pairs_[id];
    if (!p.dirty) {
      p.dirty = true;
      dirty_ids_.push_back(id);
    }
  }
  // The pair fields every image carries (name aside), and their inverse.
  static void PutPair(const Pair& p, std::string* out);
  static bool GetPair(std::string_view* in, Pair* p);
  // Rebuilds slots_ and hash_lo_ for pairs [from, size()); false on a
  // duplicate name.
  bool IndexPairs(uint32_t from);
  // Counts a new customer as female or male by its pair gender.
  void CountGender(Gender first);
  void InsertSlot(uint32_t id, uint64_t hash);
  void Rehash(size_t slots);
  // The index of `category` in categories_ (added if new), or
  // kNoCategoryIndex when the table is full.
  uint32_t CategoryIndex(std::string_view category);
  static constexpr uint32_t kMaxCategories = 256;  // fits Pair::cached_category
  static constexpr uint32_t kNoCategoryIndex = 0xFFFFFFFF;

  std::string id_;
  uint64_t id_hash_;  // ImportanceTable::FieldHash(id_)
  uint64_t total_ = 0;
  uint64_t female_ = 0, male_ = 0;
  bool dei_reported_ = false;
  std::optional<std::string> overflowed_;
  // Records in segments of kSegment, so growth never moves a record: a
  // vector's doubling would copy every record in one chunk's time.
  class PairStore {
   public:
    Pair& operator[](uint32_t id) {
      return segments_[id >> kShift][id & (kSegment - 1)];
    }
    const Pair& operator[](uint32_t id) const {
      return segments_[id >> kShift][id & (kSegment - 1)];
    }
    size_t size() const { return size_; }
    Pair& emplace_back() {
      if ((size_ & (kSegment - 1)) == 0) {
        segments_.push_back(std::make_unique<Pair[]>(kSegment));
      }
      return (*this)[static_cast<uint32_t>(size_++)];
    }
    void resize(size_t n) {
      while (size_ < n) emplace_back();
    }

   private:
    static constexpr uint32_t kShift = 12, kSegment = 1u << kShift;
    std::vector<std::unique_ptr<Pair[]>> segments_;
    size_t size_ = 0;
  };
  PairStore pairs_;
  // The low 32 bits of each pair's hash (the high 32 are its slot's tag), so
  // growing slots_ rehashes from one sequential array without rereading
  // names.
  std::vector<uint32_t> hash_lo_;
  // Open addressing: a slot holds the high 32 bits of the customer's hash
  // and pair id + 1 in the low 32 (0: empty). A probe compares names only
  // when the hash bits match, so a lookup touches one record, and allocates
  // nothing.
  std::vector<uint64_t> slots_;
  std::vector<Touch> touched_pairs_;
  // Pairs changed since the last checkpoint (each once, Pair::dirty), and
  // how many pairs existed then (later ids are new).
  std::vector<uint32_t> dirty_ids_;
  uint32_t checkpointed_pairs_ = 0;
  // Names longer than kInlineName; a deque never moves its strings.
  std::deque<std::string> long_names_;
  // The categories this merchant's rows named, for the weight cache.
  std::vector<std::string> categories_;
  std::vector<uint64_t> category_hashes_;  // FieldHash of each
  uint32_t last_category_ = kNoCategoryIndex;
  // Order statistics over all pairs; built when the merchant first exceeds
  // the UPGRADE threshold, then updated for touched pairs only.
  bool indexed_ = false;
  CountHistogram counts_;
  WeightIndex avgs_;
  std::vector<WeightIndex::Update> moves_;  // scratch for Evaluate
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_MERCHANT_STATE_H_
