#include "detector/importance_table.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <thread>
#include <vector>

#include "common/crc32c.h"
#include "common/int128.h"
#include "common/prefetch.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace txflow {
namespace {

constexpr size_t kRecordHeader = sizeof(int64_t) + sizeof(uint32_t);

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

constexpr uint64_t kPow10[] = {1ull,
                               10ull,
                               100ull,
                               1000ull,
                               10000ull,
                               100000ull,
                               1000000ull,
                               10000000ull,
                               100000000ull,
                               1000000000ull,
                               10000000000ull,
                               100000000000ull,
                               1000000000000ull,
                               10000000000000ull,
                               100000000000000ull,
                               1000000000000000ull,
                               10000000000000000ull,
                               100000000000000000ull,
                               1000000000000000000ull};

// ParseDecimalExact(text, kExactScale) for the common shape, an optional
// sign, at most 18 significant integer digits, an optional '.' and at most 18
// fraction digits, without its general machinery. False (out unspecified)
// for any other text, which the caller then gives to ParseDecimalExact: so
// every value, and every refusal, is ParseDecimalExact's.
bool QuickExact(std::string_view text, Int128* out) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool negative = false;
  if (p != end && (*p == '-' || *p == '+')) negative = *p++ == '-';
  const char* const digits_begin = p;
  while (p != end && *p == '0') ++p;  // leading zeros carry no value
  const char* const whole_begin = p;
  uint64_t whole = 0;
  while (p != end && static_cast<unsigned>(*p - '0') < 10) {
    whole = whole * 10 + static_cast<uint64_t>(*p++ - '0');
  }
  if (p - whole_begin > 18) return false;
  const bool any_whole = p != digits_begin;
  uint64_t frac = 0;
  int frac_digits = 0;
  if (p != end && *p == '.') {
    ++p;
    const char* const frac_begin = p;
    while (p != end && static_cast<unsigned>(*p - '0') < 10) {
      if (p - frac_begin == kExactScale) return false;
      frac = frac * 10 + static_cast<uint64_t>(*p++ - '0');
    }
    frac_digits = static_cast<int>(p - frac_begin);
  }
  if (p != end || (!any_whole && frac_digits == 0)) return false;
  const Int128 v =
      static_cast<Int128>(whole) * kPow10[kExactScale] +
      static_cast<Int128>(frac * kPow10[kExactScale - frac_digits]);
  *out = negative ? -v : v;
  return true;
}

// The fields at the `cols` positions of `record` (its line end optional)
// exactly as SplitFields makes them for a record without any '"' (split at
// every comma, blanks trimmed, one layer of single quotes removed), into
// `out`; returns how many fields the record has. 0 (out unspecified) when
// the record has a '"' or more than kMaxCommas commas: SplitFields decides
// those. One pass, 16 bytes at a time where SSE2 is there.
constexpr size_t kMaxCommas = 63;
size_t SplitBare(std::string_view record, const int* cols, int ncols,
                 std::string_view* out) {
  if (!record.empty() && record.back() == '\n') record.remove_suffix(1);
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  uint32_t at[kMaxCommas + 1];  // comma positions, then the size
  size_t commas = 0;
  const bool bare = ScanBareCommas(record, [&](size_t i) {
    if (commas == kMaxCommas) return false;
    at[commas++] = static_cast<uint32_t>(i);
    return true;
  });
  if (!bare) return 0;
  at[commas] = static_cast<uint32_t>(record.size());
  const size_t fields = commas + 1;
  for (int k = 0; k < ncols; ++k) {
    const size_t field = static_cast<size_t>(cols[k]);
    if (field >= fields) continue;  // the width check refuses the record
    const size_t b = field == 0 ? 0 : at[field - 1] + 1;
    out[k] = BareField(record.substr(b, at[field] - b));
  }
  return fields;
}

}  // namespace

Result<ImportanceTable> ImportanceTable::Parse(std::string_view text,
                                               const std::string& uri) {
  return ParseKnowing(text, uri, std::nullopt);
}

Result<ImportanceTable> ImportanceTable::Parse(std::string_view text,
                                               const std::string& uri,
                                               uint32_t fingerprint) {
  return ParseKnowing(text, uri, fingerprint);
}

PendingImportance::PendingImportance(std::function<Result<ObjectBytes>()> read,
                                     std::string uri)
    : thread_([this, read = std::move(read), uri = std::move(uri)] {
        Result<ObjectBytes> text = read();
        Result<uint32_t> crc =
            text.ok() ? Result<uint32_t>(Crc32c(text->view())) : text.status();
        {
          std::lock_guard<std::mutex> lock(mu_);
          fingerprint_ = crc;
        }
        read_.notify_all();
        result_.emplace(crc.ok()
                            ? ImportanceTable::Parse(text->view(), uri, *crc)
                            : Result<ImportanceTable>(crc.status()));
      }) {}

PendingImportance::PendingImportance(std::string text, std::string uri)
    : PendingImportance(
          [text = std::move(text)]() mutable -> Result<ObjectBytes> {
            return ObjectBytes(std::move(text));
          },
          std::move(uri)) {}

PendingImportance::~PendingImportance() {
  if (thread_.joinable()) thread_.join();
}

Result<uint32_t> PendingImportance::Fingerprint() {
  std::unique_lock<std::mutex> lock(mu_);
  read_.wait(lock, [this] { return fingerprint_.has_value(); });
  return *fingerprint_;
}

Result<const ImportanceTable*> PendingImportance::Wait() {
  if (thread_.joinable()) thread_.join();
  if (!result_->ok()) return result_->status();
  return &**result_;
}

Result<ImportanceTable> ImportanceTable::ParseKnowing(
    std::string_view text, const std::string& uri,
    std::optional<uint32_t> known) {
  ImportanceTable table;
  // The fingerprint reads the same bytes independently of the parse, so on
  // a large table it runs on another core meanwhile; the thread is joined on
  // every return (std::thread, not jthread: every toolchain of the project
  // has it).
  uint32_t fingerprint = known.value_or(0);
  struct Joined {
    std::thread thread;
    ~Joined() {
      if (thread.joinable()) thread.join();
    }
  } crc;
  if (known) {
    // Computed by the caller.
  } else if (text.size() >= (size_t{4} << 20)) {
    crc.thread =
        std::thread([&fingerprint, text] { fingerprint = Crc32c(text); });
  } else {
    fingerprint = Crc32c(text);
  }
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
  const std::string_view body = text.substr(head.bytes);
  // Records <= newlines + 1, so the table never needs to grow: load <= 2/3
  // even if every record is a new key, and files repeat keys (the generated
  // one holds two rows per key on average, load 1/3).
  size_t max_keys = 1;
  for (const char* p = body.data();
       (p = static_cast<const char*>(
            std::memchr(p, '\n', body.data() + body.size() - p)));
       ++p) {
    ++max_keys;
  }
  size_t slots = 16;
  while (2 * slots < 3 * max_keys) slots *= 2;
  table.slots_ = Block(slots * sizeof(uint64_t));
  table.slot_mask_ = slots - 1;
  // A key's record is at most its CSV record's bytes plus the header and
  // the two sizes (unquoting only shortens fields): an upper bound whose
  // untouched pages cost nothing and whose tail is returned at the end.
  constexpr size_t kKeyOverhead = kRecordHeader + 2 * sizeof(uint32_t);
  table.arena_ = Block(body.size() + max_keys * kKeyOverhead);
  size_t arena_used = 0;
  struct Sum {
    Int128 total = 0;
    int64_t count = 0;
  };
  // By key, in the order keys first appear; zero bytes are a zero Sum, and
  // pages are faulted in only as keys arrive.
  Block sum_block(max_keys * sizeof(Sum));
  Sum* const sums = reinterpret_cast<Sum*>(sum_block.data());
  size_t keys = 0;

  auto bad = [&uri](uint64_t line, const std::string& why) {
    return Status::InvalidArgument(uri + ": record " +
                                   std::to_string(line - 1) + ": " + why);
  };
  // Rows are parsed a batch at a time, their slots prefetched, then applied
  // in file order: the slot loads of a batch overlap instead of each
  // stalling the loop. `prev` is the last applied key (the rows of a key are
  // often adjacent), valid while its views are.
  struct Row {
    std::string_view c, m, cat;
    Int128 w;
    uint64_t h;
    uint64_t line;
  };
  constexpr int kBatch = 16;
  Row batch[kBatch];
  int pending = 0;
  struct {
    std::string_view c, m, cat;
    int64_t ordinal = -1;
  } prev;
  auto apply = [&](const Row& r) -> std::optional<Status> {
    int64_t ordinal;
    if (prev.ordinal >= 0 && r.c == prev.c && r.m == prev.m &&
        r.cat == prev.cat) {
      ordinal = prev.ordinal;
    } else if (const char* found = table.Lookup(r.c, r.m, r.cat, r.h)) {
      std::memcpy(&ordinal, found, sizeof ordinal);
    } else {
      // The record holds the key's ordinal in sums until the means are
      // known. Customer and merchant are length-prefixed, so no choice of
      // bytes in the fields makes two different triples one key.
      const size_t offset = arena_used;
      const uint32_t size = static_cast<uint32_t>(
          2 * sizeof(uint32_t) + r.c.size() + r.m.size() + r.cat.size());
      if (offset + kRecordHeader + size >= kOffsetMask) {
        return bad(r.line, "the table is too large (over 1 TB of keys)");
      }
      ordinal = static_cast<int64_t>(keys++);
      char* out = table.arena_.data() + offset;
      std::memcpy(out, &ordinal, sizeof ordinal);
      std::memcpy(out + sizeof ordinal, &size, sizeof size);
      out += kRecordHeader;
      for (std::string_view part : {r.c, r.m}) {
        const uint32_t n = static_cast<uint32_t>(part.size());
        std::memcpy(out, &n, sizeof n);
        out += sizeof n;
        if (n != 0) std::memcpy(out, part.data(), n);
        out += n;
      }
      if (!r.cat.empty()) std::memcpy(out, r.cat.data(), r.cat.size());
      arena_used += kRecordHeader + size;
      table.Place(r.h, offset + 1);
    }
    prev.c = r.c;
    prev.m = r.m;
    prev.cat = r.cat;
    prev.ordinal = ordinal;
    Sum& sum = sums[static_cast<size_t>(ordinal)];
    if (__builtin_add_overflow(sum.total, r.w, &sum.total)) {
      return bad(r.line,
                 "the Weights of one key add up beyond the exact range");
    }
    ++sum.count;
    return std::nullopt;
  };
  auto flush = [&]() -> std::optional<Status> {
    const int n = pending;
    pending = 0;  // applied, or dropped with the error
    for (int i = 0; i < n; ++i) {
      if (auto err = apply(batch[i])) return err;
    }
    return std::nullopt;
  };
  // Fills `r` from the fields of the record on `line`, or an error for a
  // bad Weight.
  auto make_row = [&](std::string_view c, std::string_view m,
                      std::string_view w, std::string_view cat, uint64_t line,
                      Row* r) -> std::optional<Status> {
    Int128 value;
    if (!QuickExact(w, &value)) {
      const auto exact = ParseDecimalExact(w, kExactScale);
      value = exact ? *exact : kMaxExactWeight;  // refused just below
    }
    if (value >= kMaxExactWeight || value <= -kMaxExactWeight) {
      return bad(line, "Weight '" + std::string(w) +
                           "' is not a decimal number below 10^12 with at "
                           "most 18 decimals");
    }
    r->c = c;
    r->m = m;
    r->cat = cat;
    r->w = value;
    r->h = KeyHash(FieldHash(c), FieldHash(m), FieldHash(cat));
    r->line = line;
    return std::nullopt;
  };

  RecordReader reader(body);
  std::string_view rec;
  std::vector<std::string_view> v;
  std::string scratch;
  const int cols[4] = {col[0], col[1], col[2], col[3]};
  for (uint64_t line = 2; reader.Next(&rec); ++line) {
    if ((rec[0] == '\r' || rec[0] == '\n') &&
        rec.find_first_not_of("\r\n") == std::string_view::npos) {
      continue;  // blank
    }
    std::optional<Status> err;
    std::string_view fields[4];
    if (const size_t n =
            rec.size() > UINT32_MAX ? 0 : SplitBare(rec, cols, 4, fields)) {
      if (n != width) {
        err = bad(line, "has " + std::to_string(n) + " fields, header has " +
                            std::to_string(width));
      } else {
        err = make_row(fields[0], fields[1], fields[2], fields[3], line,
                       &batch[pending]);
      }
      if (!err) {
        const Row& r = batch[pending++];
        txflow::Prefetch(table.slots_.data() +
                         (r.h & table.slot_mask_) * sizeof(uint64_t));
        if (pending < kBatch) continue;
        err = flush();
        if (!err) continue;
      }
    } else {
      // A record with a double quote (or many fields): the general
      // splitter, whose unescaped
      // fields live in `scratch` only until its next call, so the row is
      // applied at once, after the batch before it.
      err = flush();
      if (!err) {
        if (auto why = SplitFields(rec, &v, &scratch)) {
          err = bad(line, *why);
        } else if (v.size() != width) {
          err = bad(line, "has " + std::to_string(v.size()) +
                              " fields, header has " + std::to_string(width));
        } else {
          Row r;
          err = make_row(v[col[0]], v[col[1]], v[col[2]], v[col[3]], line, &r);
          if (!err) err = apply(r);
          prev.ordinal = -1;  // its views die with the next SplitFields
        }
      }
      if (!err) continue;
    }
    // The rows batched before this error come first: one of them may fail
    // too, and the first failure in file order is the one reported.
    if (auto earlier = flush()) return *std::move(earlier);
    return *std::move(err);
  }
  if (auto err = flush()) return *std::move(err);
  // Records are in ordinal order: replace each ordinal by its mean.
  size_t offset = 0;
  for (size_t key = 0; key < keys; ++key) {
    const Sum& sum = sums[key];
    const int64_t mean = DivRound(sum.total, sum.count * kExactPerMicro);
    char* record = table.arena_.data() + offset;
    std::memcpy(record, &mean, sizeof mean);
    uint32_t size;
    std::memcpy(&size, record + sizeof mean, sizeof size);
    offset += kRecordHeader + size;
  }
  table.arena_.Shrink(arena_used);
  table.keys_ = keys;
  if (crc.thread.joinable()) crc.thread.join();
  table.fingerprint_ = fingerprint;
  return table;
}

void ImportanceTable::Place(uint64_t h, uint64_t value) {
  uint64_t* const slots = reinterpret_cast<uint64_t*>(slots_.data());
  size_t i = h & slot_mask_;
  while (slots[i] != 0) i = (i + 1) & slot_mask_;
  slots[i] = (h >> kOffsetBits << kOffsetBits) | value;
}

ImportanceTable::Block::Block(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
#if defined(__linux__)
  // Mapped directly above this size: zero pages for free, each faulted in
  // on its first write, and huge pages (the slots are probed at random) for
  // fewer faults and TLB misses. NORESERVE: the arena and the sums are upper
  // bounds, mostly never touched, and must not count against a heuristic
  // overcommit limit.
  if (bytes >= (size_t{8} << 20)) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint; failure changes nothing
    data_ = static_cast<char*>(p);
    mapped_ = true;
    return;
  }
#endif
  data_ = static_cast<char*>(std::calloc(bytes, 1));
  if (data_ == nullptr) throw std::bad_alloc();
}

ImportanceTable::Block::Block(const Block& other) : Block(other.size_) {
  if (size_ != 0) std::memcpy(data_, other.data_, size_);
}

ImportanceTable::Block& ImportanceTable::Block::operator=(const Block& other) {
  if (this != &other) Block(other).Swap(*this);
  return *this;
}

ImportanceTable::Block::~Block() {
  if (data_ == nullptr) return;
#if defined(__linux__)
  if (mapped_) {
    ::munmap(data_, size_);
    return;
  }
#endif
  std::free(data_);
}

void ImportanceTable::Block::Swap(Block& other) noexcept {
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  std::swap(mapped_, other.mapped_);
}

void ImportanceTable::Block::Shrink(size_t bytes) {
  if (bytes >= size_) return;
#if defined(__linux__)
  if (mapped_) {
    // Whole pages past `bytes` go back; the block keeps the partial one.
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const size_t keep = std::max(page, (bytes + page - 1) / page * page);
    if (keep < size_) {
      ::munmap(data_ + keep, size_ - keep);
      size_ = keep;
    }
    return;
  }
#endif
  if (bytes == 0) {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    return;
  }
  if (void* p = std::realloc(data_, bytes)) data_ = static_cast<char*>(p);
  size_ = bytes;
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
  const size_t mask = slot_mask_;
  const uint64_t tag = h >> kOffsetBits;
  for (size_t i = h & mask; slot(i) != 0; i = (i + 1) & mask) {
    const uint64_t s = slot(i);
    if ((s >> kOffsetBits) != tag) continue;
    const char* record = arena_.data() + (s & kOffsetMask) - 1;
    uint32_t stored;
    std::memcpy(&stored, record + sizeof(int64_t), sizeof stored);
    if (stored != size) continue;
    // The key as Parse laid it out, compared field by field.
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
  if (slots_.size() == 0) return;
  txflow::Prefetch(slots_.data() + (key_hash & slot_mask_) * sizeof(uint64_t));
}

std::optional<int64_t> ImportanceTable::Find(std::string_view customer,
                                             std::string_view merchant,
                                             std::string_view category,
                                             uint64_t key_hash) const {
  if (slots_.size() == 0) return std::nullopt;
  const char* record = Lookup(customer, merchant, category, key_hash);
  if (record == nullptr) return std::nullopt;
  int64_t mean;
  std::memcpy(&mean, record, sizeof mean);
  return mean;
}

}  // namespace txflow
