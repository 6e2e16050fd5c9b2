#include "detector/merchant_state.h"

#include <algorithm>

#include "common/coding.h"
#include "common/int128.h"

namespace txflow {
namespace {

// Capacity for a by-id vector built whole for `n` pairs (a restore, a first
// index build): room for the pairs still to come, so the first new one does
// not copy the whole vector into fresh pages (at 100 M records that copy
// was 80 ms in the first chunk after a restore). Reserved pages are not
// touched until used.
size_t WithRoom(size_t n) { return n + n / 4 + 64; }

// SPEC §4.3: k = p(n-1), lo = floor(k/100), r = k mod 100, hi = min(lo+1, n-1).
struct Rank {
  uint64_t lo, hi, r;
};
Rank PercentileRank(uint64_t n, uint32_t p) {
  const uint64_t k = uint64_t{p} * (n - 1);
  return {k / 100, std::min(k / 100 + 1, n - 1), k % 100};
}

// 2: pairs no longer carry seen-as-F / seen-as-M bits (SPEC §4.2).
constexpr uint8_t kFormat = 2;

}  // namespace

MerchantState::MerchantState(std::string merchant_id)
    : id_(std::move(merchant_id)), id_hash_(ImportanceTable::FieldHash(id_)) {}

void MerchantState::InsertSlot(uint32_t id, uint64_t hash) {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = (hash & 0xFFFFFFFF00000000ull) | (id + 1);
}

void MerchantState::Rehash(size_t slots) {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(slots, 0);
  for (uint64_t slot : old) {
    if (slot == 0) continue;
    const uint32_t id = static_cast<uint32_t>(slot) - 1;
    InsertSlot(id, (slot & 0xFFFFFFFF00000000ull) | hash_lo_[id]);
  }
}

std::optional<uint32_t> MerchantState::FindId(std::string_view customer,
                                              uint64_t hash) const {
  if (slots_.empty()) return std::nullopt;
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> 32;
  for (size_t i = hash & mask; slots_[i] != 0; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if ((slot >> 32) != tag) continue;
    const uint32_t id = static_cast<uint32_t>(slot) - 1;
    if (pairs_[id].name() == customer) return id;
  }
  return std::nullopt;
}

uint32_t MerchantState::PairId(std::string_view customer, uint64_t hash,
                               Gender gender) {
  if (const auto id = FindId(customer, hash)) return *id;
  const uint32_t id = static_cast<uint32_t>(pairs_.size());
  Pair& p = pairs_.emplace_back();
  SetName(&p, customer);
  p.first_gender = gender;
  hash_lo_.push_back(static_cast<uint32_t>(hash));
  if (2 * pairs_.size() > slots_.size()) {  // keep the load factor under 1/2
    Rehash(std::max<size_t>(16, slots_.size() * 2));
  }
  InsertSlot(id, hash);
  return id;
}

std::optional<MerchantState::PairStats> MerchantState::FindPair(
    std::string_view customer) const {
  const auto id = FindId(customer, HashCustomer(customer));
  if (!id) return std::nullopt;
  const Pair& p = pairs_[*id];
  return PairStats{p.count, p.amount_paise, p.weight_micro, p.first_gender};
}

void MerchantState::Apply(std::string_view customer, uint64_t hash,
                          Gender gender, int64_t amount_paise,
                          int64_t weight_micro) {
  Update(PairId(customer, hash, gender), amount_paise, weight_micro);
}

void MerchantState::ApplyWeighted(std::string_view customer, uint64_t hash,
                                  Gender gender, int64_t amount_paise,
                                  std::string_view category,
                                  const ImportanceTable& importance) {
  const uint32_t id = PairId(customer, hash, gender);
  const uint32_t category_index = CategoryIndex(category);
  Pair& p = pairs_[id];
  if (!p.weight_cached || p.cached_category != category_index ||
      category_index == kNoCategoryIndex) {
    const uint64_t category_hash = category_index == kNoCategoryIndex
                                       ? ImportanceTable::FieldHash(category)
                                       : category_hashes_[category_index];
    const auto w = importance.Find(
        customer, id_, category,
        ImportanceTable::KeyHash(hash, id_hash_, category_hash));
    p.weight_cached = true;
    p.cached_has_weight = w.has_value();
    p.cached_weight = w.value_or(0);
    p.cached_category = static_cast<uint8_t>(category_index);
  }
  Update(id, amount_paise,
         p.cached_has_weight ? p.cached_weight : amount_paise * 10'000);
}

uint32_t MerchantState::CategoryIndex(std::string_view category) {
  // A merchant nearly always sells one category: try the last one first.
  if (last_category_ < categories_.size() &&
      categories_[last_category_] == category) {
    return last_category_;
  }
  for (uint32_t i = 0; i < categories_.size(); ++i) {
    if (categories_[i] == category) return last_category_ = i;
  }
  // Bounded, so hostile input cannot make this scan long; past the bound the
  // weight is looked up on every row (same result, slower).
  if (categories_.size() >= kMaxCategories) return kNoCategoryIndex;
  categories_.emplace_back(category);
  category_hashes_.push_back(ImportanceTable::FieldHash(category));
  return last_category_ = static_cast<uint32_t>(categories_.size() - 1);
}

void MerchantState::SetName(Pair* p, std::string_view customer) {
  if (customer.size() <= kInlineName) {
    std::memcpy(p->name_, customer.data(), customer.size());
    p->name_size_ = static_cast<uint8_t>(customer.size());
    return;
  }
  const char* data = long_names_.emplace_back(customer).data();
  const size_t size = customer.size();
  std::memcpy(p->name_, &data, sizeof data);
  std::memcpy(p->name_ + sizeof data, &size, sizeof size);
  p->name_size_ = kLongName;
}

void MerchantState::CountGender(Gender first) {
  if (first == Gender::kFemale) ++female_;
  if (first == Gender::kMale) ++male_;
}

void MerchantState::Update(uint32_t id, int64_t amount_paise,
                           int64_t weight_micro) {
  Pair& p = pairs_[id];
  int64_t amount_sum, weight_sum;
  if (__builtin_add_overflow(p.amount_paise, amount_paise, &amount_sum) ||
      __builtin_add_overflow(p.weight_micro, weight_micro, &weight_sum)) {
    if (!overflowed_) overflowed_ = std::string(p.name());
    return;  // not applied; the caller stops (see overflowed_customer())
  }
  if (!p.touched) {
    p.touched = true;
    touched_pairs_.push_back({id, p.count, p.weight_micro});
    // Once per pair per chunk: the first touch in a chunk marks it changed
    // for the next checkpoint (MarkCheckpointed keeps touched pairs dirty).
    MarkDirty(id);
  }
  // SPEC §4.2: a customer counts once, by the gender of its first
  // transaction here; later rows with another gender change nothing.
  if (p.count == 0) CountGender(p.first_gender);
  ++p.count;
  p.amount_paise = amount_sum;
  p.weight_micro = weight_sum;
  ++total_;
}

void MerchantState::IndexAll(const Thresholds& t) {
  // The first time: one build, not n single inserts, of which only the keys
  // up to the weight percentile's rank need sorting.
  const size_t n = pairs_.size();
  std::vector<double> avgs;
  std::vector<uint64_t> eligible;
  avgs.reserve(WithRoom(n));  // kept by the index as its by-id arrays
  eligible.reserve(WithRoom(n));
  avgs.resize(n);
  eligible.resize(n);
  for (uint32_t id = 0; id < n; ++id) {
    const Pair& p = pairs_[id];
    counts_.Add(p.count, +1);
    avgs[id] = p.Avg();
    eligible[id] = p.upgrade_reported ? 0 : p.count;
  }
  avgs_.ExpectRank(PercentileRank(n, t.upgrade_weight_pct).hi);
  avgs_.BuildDense(std::move(avgs), std::move(eligible));
  indexed_ = true;
}

void MerchantState::PrepareIndexes(const Thresholds& t) {
  if (indexed_ || total_ <= t.upgrade_min_txns || !touched_pairs_.empty())
    return;
  IndexAll(t);
}

Evidence MerchantState::MerchantEvidence() const {
  Evidence e;
  e.known = true;
  e.merchant_total = total_;
  return e;
}

Evidence MerchantState::PairEvidence(const Pair& p) const {
  Evidence e = MerchantEvidence();
  e.count = p.count;
  e.amount_paise = p.amount_paise;
  e.weight_micro = p.weight_micro;
  return e;
}

void MerchantState::Evaluate(const Thresholds& t, std::vector<Detection>* out) {
  if (touched_pairs_.empty()) return;
  const bool upgrade = total_ > t.upgrade_min_txns;
  // Indexes already built: only the touched pairs move in them.
  const bool incremental = upgrade && indexed_;
  moves_.clear();
  // One pass over the touched pairs: index updates and PatId2 CHILD. The
  // records are prefetched a few pairs ahead (they left the cache since
  // their rows were applied).
  constexpr size_t kAhead = 8;
  const size_t touched = touched_pairs_.size();
  for (size_t i = 0; i < touched; ++i) {
    if (i + kAhead < touched) {
      Prefetch(&pairs_[touched_pairs_[i + kAhead].id]);
    }
    const Touch& touch = touched_pairs_[i];
    Pair& p = pairs_[touch.id];
    p.touched = false;
    if (incremental) {
      // Every pair that existed at the last Evaluate is indexed, under the
      // key its counters then gave (the same division, so the same double).
      const uint64_t eligible = p.upgrade_reported ? 0 : p.count;
      const double avg = p.Avg();
      if (touch.old_count == 0) {
        counts_.Add(p.count, +1);
        moves_.push_back({false, 0, avg, touch.id, eligible});
      } else {
        counts_.Move(touch.old_count, p.count);
        const double old_avg = static_cast<double>(touch.old_weight_micro) /
                               static_cast<double>(touch.old_count);
        if (old_avg == avg) {
          avgs_.SetEligible(avg, touch.id, eligible);
        } else {
          moves_.push_back({true, old_avg, avg, touch.id, eligible});
        }
      }
    }
    if (!p.child_reported && p.count >= t.child_min_txns &&
        static_cast<Int128>(p.amount_paise) <
            static_cast<Int128>(t.child_max_avg_paise) *
                static_cast<Int128>(p.count)) {
      p.child_reported = true;
      MarkDirty(touch.id);
      out->push_back(
          {Pattern::kChild, std::string(p.name()), id_, 0, PairEvidence(p)});
    }
  }
  touched_pairs_.clear();
  // PatId1 UPGRADE.
  if (upgrade) {
    if (!indexed_) IndexAll(t);
    avgs_.Move(moves_);
    const uint64_t n = pairs_.size();
    const Rank c = PercentileRank(n, t.upgrade_count_pct);
    const uint64_t c_lo = counts_.Kth(c.lo);
    const uint64_t c_hi = counts_.Kth(c.hi);
    const Rank w = PercentileRank(n, t.upgrade_weight_pct);
    const double w_lo = avgs_.Kth(w.lo);
    const double w_hi = avgs_.Kth(w.hi);
    // In double, in the order SPEC §4.3 writes it.
    const double p_weight =
        w_lo + (w_hi - w_lo) * static_cast<double>(w.r) / 100.0;
    // count >= c_lo + (c_hi - c_lo) * r / 100, exactly, in integers.
    const UInt128 count_bound =
        static_cast<UInt128>(c_lo) * 100 + (c_hi - c_lo) * c.r;
    // count * 100 >= count_bound  <=>  count >= ceil(count_bound / 100).
    const uint64_t min_count =
        std::max<uint64_t>(1, static_cast<uint64_t>((count_bound + 99) / 100));
    std::vector<uint32_t> found;
    avgs_.Take(p_weight, min_count, &found);  // now no longer eligible
    for (uint32_t id : found) {
      const Pair& p = pairs_[id];
      pairs_[id].upgrade_reported = true;
      MarkDirty(id);  // a pair this chunk may not have touched
      Evidence e = PairEvidence(p);
      e.count_bound_x100 = static_cast<uint64_t>(count_bound);
      e.weight_bound_micro = p_weight;
      out->push_back(
          {Pattern::kUpgrade, std::string(p.name()), id_, 0, std::move(e)});
    }
  }
  // PatId3 DEI-NEEDED.
  if (!dei_reported_ && female_ > t.dei_min_female && female_ < male_) {
    dei_reported_ = true;
    Evidence e = MerchantEvidence();
    e.female = female_;
    e.male = male_;
    out->push_back({Pattern::kDei, "", id_, 0, std::move(e)});
  }
}

void MerchantState::PutPair(const Pair& p, std::string* out) {
  PutVarint(out, p.count);
  PutSigned(out, p.amount_paise);
  PutSigned(out, p.weight_micro);
  out->push_back(static_cast<char>(static_cast<uint8_t>(p.first_gender) |
                                   (p.child_reported << 4) |
                                   (p.upgrade_reported << 5)));
}

bool MerchantState::GetPair(std::string_view* in, Pair* p) {
  if (!GetVarint(in, &p->count) || !GetSigned(in, &p->amount_paise) ||
      !GetSigned(in, &p->weight_micro) || in->empty()) {
    return false;
  }
  const uint8_t bits = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  if ((bits & 3) > 2 || (bits & ~0x33) != 0 || p->count == 0) return false;
  p->first_gender = static_cast<Gender>(bits & 3);
  p->child_reported = bits & 16;
  p->upgrade_reported = bits & 32;
  return true;
}

void MerchantState::Serialize(std::string* out) const {
  out->push_back(static_cast<char>(kFormat));
  PutString(out, id_);
  PutVarint(out, total_);
  out->push_back(dei_reported_ ? 1 : 0);
  PutVarint(out, pairs_.size());
  for (size_t i = 0; i < pairs_.size(); ++i) {
    const Pair& p = pairs_[i];
    PutString(out, p.name());
    PutPair(p, out);
  }
}

bool MerchantState::IndexPairs(uint32_t from) {
  const size_t n = pairs_.size();
  size_t slots = std::max<size_t>(16, slots_.size());
  while (slots < 2 * n) slots *= 2;
  if (hash_lo_.capacity() < n) hash_lo_.reserve(WithRoom(n));
  hash_lo_.resize(n);
  if (slots != slots_.size()) {
    // Existing pairs move to the larger table first (from hash_lo_).
    if (from == 0) {
      slots_.assign(slots, 0);
    } else {
      Rehash(slots);
    }
  }
  const size_t mask = slots - 1;
  // The slots are random writes into a table far larger than the caches:
  // each pair's name is hashed and its slot requested kAhead pairs early, so
  // the misses overlap (names are read in id order, which is memory order).
  constexpr uint32_t kAhead = 16;
  uint64_t ahead[kAhead];
  auto request = [&](uint32_t i) {
    const uint64_t h = HashCustomer(pairs_[i].name());
    ahead[i % kAhead] = h;
    Prefetch(&slots_[h & mask]);
  };
  for (uint32_t i = from; i < n && i < from + kAhead; ++i) request(i);
  for (uint32_t i = from; i < n; ++i) {
    const std::string_view name = pairs_[i].name();
    const uint64_t hash = ahead[i % kAhead];
    if (i + kAhead < n) request(i + kAhead);  // reuses hash's entry
    const uint64_t tag = hash >> 32;
    for (size_t k = hash & mask; slots_[k] != 0; k = (k + 1) & mask) {
      if ((slots_[k] >> 32) == tag &&
          pairs_[static_cast<uint32_t>(slots_[k]) - 1].name() == name)
        return false;
    }
    hash_lo_[i] = static_cast<uint32_t>(hash);
    InsertSlot(i, hash);
  }
  return true;
}

Result<std::unique_ptr<MerchantState>> MerchantState::Deserialize(
    std::string_view* in) {
  TXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<MerchantState> m,
                          DeserializeUnindexed(in));
  TXFLOW_RETURN_IF_ERROR(m->BuildIndex());
  return m;
}

Status MerchantState::BuildIndex() {
  if (!IndexPairs(0))
    return Status::Corruption("merchant state: duplicate customer");
  return Status::OK();
}

Result<std::unique_ptr<MerchantState>> MerchantState::DeserializeUnindexed(
    std::string_view* in) {
  auto bad = [](const std::string& why) {
    return Status::Corruption("merchant state: " + why);
  };
  if (!in->empty() && static_cast<uint8_t>(in->front()) == 1) {
    // Format 1 counted a customer as female and as male once seen with
    // either gender; its DEI-NEEDED results cannot be carried over.
    return bad(
        "format 1, written by an older txflow that counted DEI genders "
        "differently (SPEC §4.2); detect into a new root (chunk the source "
        "there again, or copy landing_zone/ and state/offset.csv to it)");
  }
  if (in->empty() || static_cast<uint8_t>(in->front()) != kFormat) {
    return bad("unknown format");
  }
  in->remove_prefix(1);
  std::string id;
  uint64_t total = 0, n = 0;
  if (!GetString(in, &id) || !GetVarint(in, &total) || in->empty())
    return bad("truncated");
  auto m = std::make_unique<MerchantState>(std::move(id));
  m->total_ = total;
  m->dei_reported_ = in->front() != 0;
  in->remove_prefix(1);
  // A pair takes at least 5 bytes: a bound before anything is allocated.
  if (!GetVarint(in, &n) || n > in->size() / 5 || n > 0xFFFFFFFEu)
    return bad("truncated");
  m->pairs_.resize(n);
  uint64_t sum = 0;
  uint64_t name_size = 0;
  for (uint64_t i = 0; i < n; ++i) {
    Pair& p = m->pairs_[i];
    // The name is set from the input bytes directly (no temporary string).
    if (!GetVarint(in, &name_size) || name_size > in->size())
      return bad("truncated");
    const std::string_view customer = in->substr(0, name_size);
    in->remove_prefix(name_size);
    if (!GetPair(in, &p)) return bad("truncated or invalid pair");
    m->SetName(&p, customer);
    m->CountGender(p.first_gender);
    sum += p.count;
  }
  if (sum != m->total_) return bad("counts do not add up to the total");
  m->checkpointed_pairs_ = static_cast<uint32_t>(n);
  return m;
}

namespace {
constexpr uint8_t kDeltaFormat = 1;

// Sorts pair ids: two counting passes of 16 bits (a delta sorts a few
// hundred thousand ids; std::sort took a tenth of a delta's time).
void SortIds(std::vector<uint32_t>* ids) {
  if (ids->size() < 4096) {
    std::sort(ids->begin(), ids->end());
    return;
  }
  std::vector<uint32_t> tmp(ids->size());
  std::vector<uint32_t>* from = ids;
  std::vector<uint32_t>* to = &tmp;
  for (int shift = 0; shift < 32; shift += 16) {
    std::vector<size_t> start(65537, 0);
    for (uint32_t id : *from) ++start[((id >> shift) & 0xFFFF) + 1];
    for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
    for (uint32_t id : *from) (*to)[start[(id >> shift) & 0xFFFF]++] = id;
    std::swap(from, to);
  }
  // Two passes: the result is back in *ids.
}

// Skips one pair record's fields after its name: count, amount, weight,
// flags.
bool SkipPairFields(std::string_view* in) {
  uint64_t v = 0;
  for (int i = 0; i < 3; ++i) {
    if (!GetVarint(in, &v)) return false;
  }
  if (in->empty()) return false;
  in->remove_prefix(1);
  return true;
}

bool SkipName(std::string_view* in) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  in->remove_prefix(n);
  return true;
}

}  // namespace

bool MerchantState::SkipImage(std::string_view* in) {
  uint64_t v = 0, n = 0;
  if (in->empty() || static_cast<uint8_t>(in->front()) != kFormat) return false;
  in->remove_prefix(1);
  if (!SkipName(in) || !GetVarint(in, &v) || in->empty()) return false;
  in->remove_prefix(1);
  if (!GetVarint(in, &n) || n > in->size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    if (!SkipName(in) || !SkipPairFields(in)) return false;
  }
  return true;
}

bool MerchantState::SkipDelta(std::string_view* in, std::string* id) {
  uint64_t v = 0, added = 0, changed = 0;
  if (in->empty() || static_cast<uint8_t>(in->front()) != kDeltaFormat)
    return false;
  in->remove_prefix(1);
  if (!GetString(in, id) || !GetVarint(in, &v) || in->empty()) return false;
  in->remove_prefix(1);
  if (!GetVarint(in, &v) || !GetVarint(in, &added) ||
      !GetVarint(in, &changed) || added > in->size() || changed > in->size()) {
    return false;
  }
  for (uint64_t i = 0; i < changed; ++i) {
    if (!GetVarint(in, &v) || !SkipPairFields(in)) return false;
  }
  for (uint64_t i = 0; i < added; ++i) {
    if (!SkipName(in) || !SkipPairFields(in)) return false;
  }
  return true;
}

void MerchantState::SerializeDelta(std::string* out) const {
  out->push_back(static_cast<char>(kDeltaFormat));
  PutString(out, id_);
  PutVarint(out, total_);
  out->push_back(dei_reported_ ? 1 : 0);
  PutVarint(out, checkpointed_pairs_);
  PutVarint(out, pairs_.size() - checkpointed_pairs_);
  // Existing pairs by ascending id (gaps coded), then the new ones.
  std::vector<uint32_t> old;
  old.reserve(dirty_ids_.size());
  for (uint32_t id : dirty_ids_) {
    if (id < checkpointed_pairs_) old.push_back(id);
  }
  SortIds(&old);
  PutVarint(out, old.size());
  // The records are scattered over the whole state: each is requested a few
  // entries ahead, so their cache misses overlap.
  constexpr size_t kAhead = 8;
  uint32_t next = 0;  // the smallest id the next entry can have
  for (size_t i = 0; i < old.size(); ++i) {
    if (i + kAhead < old.size()) Prefetch(&pairs_[old[i + kAhead]]);
    const uint32_t id = old[i];
    PutVarint(out, id - next);
    next = id + 1;
    PutPair(pairs_[id], out);
  }
  for (size_t i = checkpointed_pairs_; i < pairs_.size(); ++i) {
    const Pair& p = pairs_[static_cast<uint32_t>(i)];
    PutString(out, p.name());
    PutPair(p, out);
  }
}

void MerchantState::MarkCheckpointed() {
  // The records are scattered: requested a few ahead, as in SerializeDelta.
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < dirty_ids_.size(); ++i) {
    if (i + kAhead < dirty_ids_.size())
      Prefetch(&pairs_[dirty_ids_[i + kAhead]]);
    pairs_[dirty_ids_[i]].dirty = false;
  }
  dirty_ids_.clear();
  checkpointed_pairs_ = static_cast<uint32_t>(pairs_.size());
  // Pairs applied but not yet evaluated stay dirty: Update marks a pair
  // only on its first touch between two Evaluates.
  for (const Touch& t : touched_pairs_) MarkDirty(t.id);
}

Result<std::string> MerchantState::DeltaMerchant(std::string_view in) {
  std::string id;
  if (in.empty() || static_cast<uint8_t>(in.front()) != kDeltaFormat)
    return Status::Corruption("merchant delta: unknown format");
  in.remove_prefix(1);
  if (!GetString(&in, &id))
    return Status::Corruption("merchant delta: truncated");
  return id;
}

Status MerchantState::ApplyDelta(std::string_view* in) {
  auto bad = [this](const std::string& why) {
    return Status::Corruption("merchant delta '" + id_ + "': " + why);
  };
  if (in->empty() || static_cast<uint8_t>(in->front()) != kDeltaFormat)
    return bad("unknown format");
  in->remove_prefix(1);
  std::string id;
  uint64_t total = 0, base = 0, added = 0, changed = 0;
  if (!GetString(in, &id) || !GetVarint(in, &total) || in->empty())
    return bad("truncated");
  if (id != id_) return bad("names merchant '" + id + "'");
  const bool dei = in->front() != 0;
  in->remove_prefix(1);
  if (!GetVarint(in, &base) || !GetVarint(in, &added) ||
      !GetVarint(in, &changed))
    return bad("truncated");
  // The delta must extend exactly this state: the pairs it saw are ours.
  if (base != pairs_.size()) {
    return bad("extends " + std::to_string(base) + " pairs, the state has " +
               std::to_string(pairs_.size()) + " (deltas out of order?)");
  }
  // A pair takes at least 5 bytes: bounds before anything is allocated.
  if (changed > base || changed > in->size() / 5 || added > in->size() / 5 ||
      base + added > 0xFFFFFFFEu) {
    return bad("bad pair counts");
  }
  // The changed pairs are scattered over the whole state: one pass finds
  // their ids and fields, the next requests each record kAhead entries
  // before it is updated, so the cache misses overlap.
  std::vector<std::pair<uint32_t, std::string_view>> changes;
  changes.reserve(changed);
  uint64_t next = 0;
  for (uint64_t i = 0; i < changed; ++i) {
    uint64_t gap = 0;
    if (!GetVarint(in, &gap) || gap >= base - next) return bad("bad pair id");
    const uint32_t pid = static_cast<uint32_t>(next + gap);
    next = pid + 1;
    changes.emplace_back(pid, *in);
    if (!SkipPairFields(in)) return bad("truncated or invalid pair");
  }
  // Sums follow the changes, so the total is checked without a full pass.
  uint64_t sum = total_;
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (i + kAhead < changes.size())
      Prefetch(&pairs_[changes[i + kAhead].first]);
    Pair& p = pairs_[changes[i].first];
    const uint64_t old_count = p.count;
    const Gender old_gender = p.first_gender;
    if (!GetPair(&changes[i].second, &p)) {
      return bad("truncated or invalid pair");
    }
    if (p.first_gender != old_gender) return bad("a pair changed gender");
    sum = sum - old_count + p.count;
  }
  pairs_.resize(base + added);
  uint64_t name_size = 0;
  for (uint64_t i = base; i < base + added; ++i) {
    Pair& p = pairs_[static_cast<uint32_t>(i)];
    if (!GetVarint(in, &name_size) || name_size > in->size())
      return bad("truncated");
    const std::string_view customer = in->substr(0, name_size);
    in->remove_prefix(name_size);
    if (!GetPair(in, &p)) return bad("truncated or invalid pair");
    SetName(&p, customer);
    CountGender(p.first_gender);
    sum += p.count;
  }
  if (!IndexPairs(static_cast<uint32_t>(base)))
    return bad("duplicate customer");
  if (sum != total) return bad("counts do not add up to the total");
  total_ = total;
  dei_reported_ = dei;
  // Order statistics are rebuilt on the next Evaluate that needs them.
  if (indexed_) {
    counts_ = CountHistogram();
    avgs_ = WeightIndex();
    indexed_ = false;
  }
  checkpointed_pairs_ = static_cast<uint32_t>(pairs_.size());
  return Status::OK();
}

}  // namespace txflow
