#include "gen/banksim_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "io/local_file_writer.h"

namespace txflow {
namespace {

// SplitMix64 finaliser: a bijective 64-bit mix, good enough to derive
// independent-looking attributes from (seed, index).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix(state_++); }
  uint64_t state() const { return state_; }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

double Unit16(uint64_t h, int shift) {
  return static_cast<double>((h >> shift) & 0xFFFF) / 65536.0;
}

constexpr double kMaxActivity = 3.0;
constexpr uint64_t kIdSpace = 1'000'000'000;
// Odd and not a multiple of 5, hence invertible modulo 10^9: index -> id is a
// bijection, so customer ids never collide.
constexpr uint64_t kIdMultiplier = 2'654'435'761ULL;
constexpr int kSteps = 180;

struct Category {
  const char* name;
  uint64_t mean_paise;  // BankSim's mean amount for the category
};
constexpr std::array<Category, 15> kCategories = {{
    {"es_transportation", 2696},
    {"es_food", 3707},
    {"es_health", 13563},
    {"es_wellnessandbeauty", 6551},
    {"es_fashion", 6567},
    {"es_barsandrestaurants", 4346},
    {"es_hyper", 4597},
    {"es_sportsandtoys", 21572},
    {"es_tech", 12092},
    {"es_home", 16567},
    {"es_hotelservices", 20565},
    {"es_otherservices", 13588},
    {"es_contents", 4455},
    {"es_travel", 225012},
    {"es_leisure", 28878},
}};

char* AppendUint(char* p, uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

char* AppendPaise(char* p, uint64_t paise) {
  p = AppendUint(p, paise / 100);
  *p++ = '.';
  *p++ = static_cast<char>('0' + (paise / 10) % 10);
  *p++ = static_cast<char>('0' + paise % 10);
  return p;
}

char* AppendLiteral(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Multiplies a typical amount by a noise factor in [0.2, 1.8] (mean 1): the
// sum of two uniforms, a cheap bell-ish shape.
uint64_t NoisyPaise(double typical, Rng& rng) {
  const double noise = 0.2 + 0.8 * (rng.Uniform() + rng.Uniform());
  return static_cast<uint64_t>(std::llround(typical * noise));
}

constexpr size_t kBlockBytes = 1 << 20;
constexpr size_t kMaxLineBytes = 256;

// Hands the block [begin, *p) to `sink` once it holds `threshold` bytes or
// more (0: whatever it holds), and rewinds *p.
Status FlushBlock(const BlockSink& sink, char* begin, char** p,
                  size_t threshold) {
  const size_t n = static_cast<size_t>(*p - begin);
  if (n == 0 || n < threshold) return Status::OK();
  *p = begin;
  return sink(std::string_view(begin, n));
}

}  // namespace

struct BankSimGenerator::Customer {
  uint64_t number;  // the digits after 'C'
  char age;
  char gender;
  double activity;  // relative transaction rate, <= kMaxActivity
  double spend;     // multiplier of the category's typical amount
};

BankSimGenerator::BankSimGenerator(const GeneratorOptions& options)
    : options_(options) {
  customers_ = options.customers != 0
                   ? options.customers
                   : std::max<uint64_t>(20, options.rows / 150);
  customers_ = std::min<uint64_t>(customers_, kIdSpace);

  // Two transport giants with half and a third of all rows (as BankSim's top
  // two merchants), then a geometric tail. Every fourth tail merchant draws
  // fewer women, so its men outnumber its women.
  const uint64_t mseed = Mix(options.seed ^ 0x6d65726368616e74ULL);
  std::set<uint64_t> used;
  double cumulative = 0.0;
  const double tail_norm = (1.0 - 0.9) / (1.0 - std::pow(0.9, kMerchants - 2));
  for (int j = 0; j < kMerchants; ++j) {
    uint64_t number = 0;
    for (uint64_t attempt = 0; number == 0 || used.count(number); ++attempt) {
      number =
          100'000'000 + Mix(mseed + static_cast<uint64_t>(j) * 131 + attempt) %
                            1'900'000'000ULL;
    }
    used.insert(number);
    const Category& cat =
        j < 2 ? kCategories[0]
              : kCategories[1 + (j - 2) % (kCategories.size() - 1)];
    Merchant m;
    m.id = "M" + std::to_string(number);
    m.category = cat.name;
    m.quoted_suffix = "'" + m.id + "','28007','" + m.category + "',";
    m.base_paise = cat.mean_paise;
    m.female_accept = (j >= 2 && (j - 2) % 4 == 0) ? 0.45 : 1.0;
    merchants_.push_back(std::move(m));
    const double share = j == 0   ? 0.50
                         : j == 1 ? 0.34
                                  : 0.16 * tail_norm * std::pow(0.9, j - 2);
    cumulative += share;
    merchant_cdf_.push_back(cumulative);
  }
  merchant_cdf_.back() = 1.0;
}

BankSimGenerator::Customer BankSimGenerator::CustomerAt(uint64_t index) const {
  const uint64_t h = Mix(options_.seed * 0x100000001b3ULL ^ Mix(index));
  const uint64_t h2 = Mix(h);
  Customer c;
  c.number = kIdSpace + (index * kIdMultiplier + options_.seed) % kIdSpace;
  // BankSim: F 54.6 %, M 45.1 %, E (enterprise) 0.2 %, U (unknown) 0.1 %.
  const double g = Unit16(h, 0);
  c.gender = g < 0.546 ? 'F' : g < 0.997 ? 'M' : g < 0.999 ? 'E' : 'U';
  // BankSim's age bands '0'..'6' and 'U', in its proportions.
  static constexpr std::array<std::pair<double, char>, 8> kAges = {
      {{0.004, '0'},
       {0.101, '1'},
       {0.416, '2'},
       {0.664, '3'},
       {0.849, '4'},
       {0.954, '5'},
       {0.998, '6'},
       {1.001, 'U'}}};
  const double a = Unit16(h, 16);
  c.age = 'U';
  for (const auto& [limit, band] : kAges) {
    if (a < limit) {
      c.age = band;
      break;
    }
  }
  // Segments: 2.5 % thrifty regulars (many cheap transactions: CHILD and
  // UPGRADE candidates), 10 % frequent, the rest ordinary.
  const double s = Unit16(h, 32);
  const double jitter = Unit16(h, 48);
  if (s < 0.025) {
    c.activity = kMaxActivity;
    c.spend = 0.35 + 0.2 * jitter;
  } else if (s < 0.125) {
    c.activity = 2.5;
    c.spend = 1.0 + 0.8 * Unit16(h2, 0);
  } else {
    c.activity = 0.6 + 0.8 * jitter;
    c.spend = 1.0 + 0.8 * Unit16(h2, 0);
  }
  return c;
}

char* BankSimGenerator::AppendRecord(char* p, uint64_t step,
                                     uint64_t* rng_state) const {
  Rng rng(*rng_state);
  const double um = rng.Uniform();
  const size_t mi = static_cast<size_t>(
      std::lower_bound(merchant_cdf_.begin(), merchant_cdf_.end(), um) -
      merchant_cdf_.begin());
  const Merchant& m = merchants_[std::min<size_t>(mi, merchants_.size() - 1)];
  Customer c;
  while (true) {  // rejection sampling: activity, then the merchant's lean
    c = CustomerAt(rng.Next() % customers_);
    double accept = c.activity / kMaxActivity;
    if (c.gender == 'F') accept *= m.female_accept;
    if (rng.Uniform() < accept) break;
  }
  const uint64_t paise =
      NoisyPaise(static_cast<double>(m.base_paise) * c.spend, rng);
  const bool fraud = rng.Uniform() < 0.012;
  *rng_state = rng.state();

  p = AppendUint(p, step);
  p = AppendLiteral(p, ",'C");
  p = AppendUint(p, c.number);
  *p++ = '\'';
  *p++ = ',';
  *p++ = '\'';
  *p++ = c.age;
  p = AppendLiteral(p, "','");
  *p++ = c.gender;
  p = AppendLiteral(p, "','28007',");
  p = AppendLiteral(p, m.quoted_suffix);
  p = AppendPaise(p, paise);
  *p++ = ',';
  *p++ = fraud ? '1' : '0';
  *p++ = '\n';
  return p;
}

Status BankSimGenerator::WriteTransactions(const BlockSink& sink) const {
  std::string block(kBlockBytes + kMaxLineBytes, '\0');
  char* const begin = block.data();
  char* p = begin;
  p = AppendLiteral(p, kTransactionsHeader);
  uint64_t rng_state = Mix(options_.seed ^ 0x7472616e73616374ULL);
  const uint64_t rows = options_.rows;
  for (uint64_t row = 0; row < rows; ++row) {
    p = AppendRecord(p, row * kSteps / rows, &rng_state);
    TXFLOW_RETURN_IF_ERROR(FlushBlock(sink, begin, &p, kBlockBytes));
  }
  return FlushBlock(sink, begin, &p, 0);
}

void BankSimGenerator::AppendStreamRecords(uint64_t first, uint64_t count,
                                           uint64_t min_step,
                                           std::string* out) const {
  const size_t start = out->size();
  out->resize(start + count * kMaxLineBytes);
  char* const begin = out->data() + start;
  char* p = begin;
  for (uint64_t i = first; i < first + count; ++i) {
    // Each record draws from its own stream, so record i does not depend on
    // where an earlier appender stopped.
    uint64_t rng_state = Mix(Mix(options_.seed ^ 0x73747265616d2121ULL) ^ i);
    p = AppendRecord(p, std::max(min_step, i / kStreamRecordsPerStep),
                     &rng_state);
  }
  out->resize(start + static_cast<size_t>(p - begin));
}

Status BankSimGenerator::WriteImportance(const BlockSink& sink) const {
  std::string block(kBlockBytes + 8 * kMaxLineBytes, '\0');
  char* const begin = block.data();
  char* p = begin;
  p = AppendLiteral(p, kImportanceHeader);
  Rng rng(Mix(options_.seed ^ 0x696d706f7274616eULL));
  for (uint64_t i = 0; i < customers_; ++i) {
    const Customer c = CustomerAt(i);
    // Each customer is scored with both giants and two tail merchants, one to
    // three rows per pair, weights around the customer's typical amount there.
    const uint64_t h = rng.Next();
    const std::array<size_t, 4> picks = {0, 1, 2 + h % (kMerchants - 2),
                                         2 + (h >> 8) % (kMerchants - 2)};
    const size_t count = picks[3] == picks[2] ? 3 : 4;
    for (size_t k = 0; k < count; ++k) {
      const Merchant& m = merchants_[picks[k]];
      const int rows = 1 + static_cast<int>((h >> (16 + 2 * k)) % 3);
      for (int r = 0; r < rows; ++r) {
        const uint64_t weight =
            NoisyPaise(static_cast<double>(m.base_paise) * c.spend, rng);
        p = AppendLiteral(p, "'C");
        p = AppendUint(p, c.number);
        p = AppendLiteral(p, "','");
        p = AppendLiteral(p, m.id);
        p = AppendLiteral(p, "',");
        p = AppendPaise(p, weight);
        p = AppendLiteral(p, ",'");
        p = AppendLiteral(p, m.category);
        p = AppendLiteral(p, "',");
        *p++ = rng.Uniform() < 0.012 ? '1' : '0';
        *p++ = '\n';
      }
    }
    TXFLOW_RETURN_IF_ERROR(FlushBlock(sink, begin, &p, kBlockBytes));
  }
  return FlushBlock(sink, begin, &p, 0);
}

namespace {

// Streams one generator output into `path`, counting lines and bytes.
template <typename WriteFn>
Status WriteCounted(const std::string& path, WriteFn&& write, uint64_t* lines,
                    uint64_t* bytes) {
  LocalFileWriter out;
  TXFLOW_RETURN_IF_ERROR(out.Open(path));
  TXFLOW_RETURN_IF_ERROR(write([&](std::string_view block) {
    *bytes += block.size();
    *lines +=
        static_cast<uint64_t>(std::count(block.begin(), block.end(), '\n'));
    return out.Append(block);
  }));
  return out.Commit();
}

}  // namespace

Status WriteImportanceFile(const BankSimGenerator& gen,
                           const std::string& path) {
  uint64_t lines = 0, bytes = 0;
  return WriteCounted(
      path, [&](const BlockSink& sink) { return gen.WriteImportance(sink); },
      &lines, &bytes);
}

Result<DatasetStats> GenerateDataset(const std::string& dir,
                                     const GeneratorOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir + ": create directory: " + ec.message());
  const BankSimGenerator gen(options);
  DatasetStats stats;
  TXFLOW_RETURN_IF_ERROR(WriteCounted(
      dir + "/transactions.csv",
      [&](const BlockSink& sink) { return gen.WriteTransactions(sink); },
      &stats.transaction_rows, &stats.transaction_bytes));
  TXFLOW_RETURN_IF_ERROR(WriteCounted(
      dir + "/CustomerImportance.csv",
      [&](const BlockSink& sink) { return gen.WriteImportance(sink); },
      &stats.importance_rows, &stats.importance_bytes));
  --stats.transaction_rows;  // headers
  --stats.importance_rows;
  return stats;
}

}  // namespace txflow
