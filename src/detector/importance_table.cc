#include "detector/importance_table.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "common/crc32c.h"
#include "common/int128.h"
#include "common/prefetch.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"

namespace txflow {
namespace {

constexpr size_t kRecordHeader = sizeof(int64_t) + sizeof(uint32_t);

// Customer and merchant are length-prefixed, so no choice of bytes in the
// fields makes two different triples one key.
void JoinKey(std::string_view c, std::string_view m, std::string_view cat,
             std::string* key) {
  key->clear();
  for (std::string_view part : {c, m}) {
    const uint32_t size = static_cast<uint32_t>(part.size());
    key->append(reinterpret_cast<const char*>(&size), sizeof size);
    key->append(part);
  }
  key->append(cat);
}

// Weights are read exactly at this scale and their mean is rounded once to
// 10^-6 (SPEC §2.2): 10^12 exact units per unit of the result.
constexpr int kExactScale = 18;
constexpr Int128 kExactPerMicro = 1'000'000'000'000;
// |Weight| < 10^12, so a mean in 10^-6 units fits in int64.
constexpr Int128 kMaxExactWeight =
    Int128{1'000'000'000'000'000'000} * 1'000'000'000'000;  // 10^30

// Rounds num / den to the nearest integer, halves away from zero. den > 0.
int64_t DivRound(Int128 num, Int128 den) {
  const Int128 q = num / den, r = num % den;
  if (2 * (r < 0 ? -r : r) >= den)
    return static_cast<int64_t>(q + (num < 0 ? -1 : 1));
  return static_cast<int64_t>(q);
}

}  // namespace

Result<ImportanceTable> ImportanceTable::Parse(std::string_view text,
                                               const std::string& uri) {
  ImportanceTable table;
  table.fingerprint_ = Crc32c(text);
  std::vector<std::string_view> f;
  std::string header_scratch;
  const ScanResult head = ScanRecords(text, 1);
  const std::string_view header_line =
      head.records == 1 ? text.substr(0, head.bytes) : text;
  if (header_line.empty() ||
      SplitFields(header_line, &f, &header_scratch).has_value()) {
    return Status::InvalidArgument(uri + ": no readable header line");
  }
  const std::vector<int> col =
      FindColumns(f, {"source", "target", "weight", "typetrans"});
  for (int k = 0; k < 4; ++k) {
    if (col[k] < 0) {
      return Status::InvalidArgument(uri + ": header has no '" +
                                     std::string(k == 0   ? "Source"
                                                 : k == 1 ? "Target"
                                                 : k == 2 ? "Weight"
                                                          : "typeTrans") +
                                     "' column");
    }
  }
  const size_t width = f.size();
  // Records <= newlines + 1, so the table never needs to grow: load <= 1/2.
  size_t max_keys = 1;
  for (const char* p = text.data();
       (p = static_cast<const char*>(
            std::memchr(p, '\n', text.data() + text.size() - p)));
       ++p) {
    ++max_keys;
  }
  size_t slots = 16;
  while (slots < 2 * max_keys) slots *= 2;
  table.slots_.assign(slots, 0);
  struct Sum {
    Int128 total = 0;
    int64_t count = 0;
  };
  std::vector<Sum> sums;  // by key, in the order keys first appear
  RecordReader reader(text.substr(head.bytes));
  std::string_view rec;
  std::vector<std::string_view> v;
  std::string scratch, key;
  for (uint64_t line = 2; reader.Next(&rec); ++line) {
    if (rec.find_first_not_of("\r\n") == std::string_view::npos)
      continue;  // blank
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(uri + ": record " +
                                     std::to_string(line - 1) + ": " + why);
    };
    if (auto err = SplitFields(rec, &v, &scratch)) return bad(*err);
    if (v.size() != width) {
      return bad("has " + std::to_string(v.size()) + " fields, header has " +
                 std::to_string(width));
    }
    const auto w = ParseDecimalExact(v[col[2]], kExactScale);
    if (!w || *w >= kMaxExactWeight || *w <= -kMaxExactWeight) {
      return bad("Weight '" + std::string(v[col[2]]) +
                 "' is not a decimal number below 10^12 with at most 18 "
                 "decimals");
    }
    const std::string_view c = v[col[0]], m = v[col[1]], cat = v[col[3]];
    const uint64_t h = KeyHash(FieldHash(c), FieldHash(m), FieldHash(cat));
    int64_t ordinal;
    if (const char* found = table.Lookup(c, m, cat, h)) {
      std::memcpy(&ordinal, found, sizeof ordinal);
    } else {
      // The record holds the key's ordinal in sums until the means are
      // known.
      JoinKey(c, m, cat, &key);
      const size_t offset = table.arena_.size();
      if (offset + kRecordHeader + key.size() >= kOffsetMask) {
        return bad("the table is too large (over 1 TB of keys)");
      }
      ordinal = static_cast<int64_t>(sums.size());
      sums.emplace_back();
      const uint32_t size = static_cast<uint32_t>(key.size());
      table.arena_.append(reinterpret_cast<const char*>(&ordinal),
                          sizeof ordinal);
      table.arena_.append(reinterpret_cast<const char*>(&size), sizeof size);
      table.arena_.append(key);
      table.Place(h, offset + 1);
    }
    Sum& sum = sums[static_cast<size_t>(ordinal)];
    if (__builtin_add_overflow(sum.total, *w, &sum.total)) {
      return bad("the Weights of one key add up beyond the exact range");
    }
    ++sum.count;
  }
  // Records are in ordinal order: replace each ordinal by its mean.
  size_t offset = 0;
  for (const Sum& sum : sums) {
    const int64_t mean = DivRound(sum.total, sum.count * kExactPerMicro);
    std::memcpy(&table.arena_[offset], &mean, sizeof mean);
    uint32_t size;
    std::memcpy(&size, &table.arena_[offset + sizeof mean], sizeof size);
    offset += kRecordHeader + size;
  }
  table.keys_ = sums.size();
  return table;
}

void ImportanceTable::Place(uint64_t h, uint64_t value) {
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = (h >> kOffsetBits << kOffsetBits) | value;
}

uint64_t ImportanceTable::KeyHash(uint64_t customer_hash,
                                  uint64_t merchant_hash,
                                  uint64_t category_hash) {
  // Distinct odd multipliers and rotations keep the three fields apart
  // (swapping customer and merchant gives another hash); the finaliser of
  // MurmurHash3 spreads the result over the slot bits and the tag bits.
  uint64_t h = customer_hash * 0x9E3779B97F4A7C15ull;
  h ^= ((merchant_hash << 21) | (merchant_hash >> 43)) * 0xC2B2AE3D27D4EB4Full;
  h ^= ((category_hash << 42) | (category_hash >> 22)) * 0x165667B19E3779F9ull;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

const char* ImportanceTable::Lookup(std::string_view customer,
                                    std::string_view merchant,
                                    std::string_view category,
                                    uint64_t h) const {
  const size_t size = 2 * sizeof(uint32_t) + customer.size() + merchant.size() +
                      category.size();
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = h >> kOffsetBits;
  for (size_t i = h & mask; slots_[i] != 0; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if ((slot >> kOffsetBits) != tag) continue;
    const char* record = arena_.data() + (slot & kOffsetMask) - 1;
    uint32_t stored;
    std::memcpy(&stored, record + sizeof(int64_t), sizeof stored);
    if (stored != size) continue;
    // The key as JoinKey laid it out, compared field by field.
    const char* k = record + kRecordHeader;
    bool same = true;
    for (std::string_view part : {customer, merchant}) {
      uint32_t n;
      std::memcpy(&n, k, sizeof n);
      k += sizeof n;
      if (n != part.size() || (n != 0 && std::memcmp(k, part.data(), n) != 0)) {
        same = false;
        break;
      }
      k += n;
    }
    if (same && (category.empty() ||
                 std::memcmp(k, category.data(), category.size()) == 0)) {
      return record;
    }
  }
  return nullptr;
}

void ImportanceTable::Prefetch(uint64_t key_hash) const {
  if (slots_.empty()) return;
  txflow::Prefetch(&slots_[key_hash & (slots_.size() - 1)]);
}

std::optional<int64_t> ImportanceTable::Find(std::string_view customer,
                                             std::string_view merchant,
                                             std::string_view category,
                                             uint64_t key_hash) const {
  if (slots_.empty()) return std::nullopt;
  const char* record = Lookup(customer, merchant, category, key_hash);
  if (record == nullptr) return std::nullopt;
  int64_t mean;
  std::memcpy(&mean, record, sizeof mean);
  return mean;
}

}  // namespace txflow
