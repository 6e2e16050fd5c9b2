#include "detector/importance_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/crc32c.h"
#include "common/int128.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"

namespace txflow {
namespace {

constexpr const char* kHeader = "Source,Target,Weight,typeTrans,fraud\n";

TEST(ImportanceTable, MeanPerKeyRoundsHalfAwayFromZero) {
  // (C1,M1,food): 1.000001 + 1.000002 = 2.000003 -> /2 = 1.0000015, which
  // rounds to 1.000002 (2 micro-units above 1). (C1,M1,bar): -0.000001 and
  // -0.000002 -> -0.0000015 -> -0.000002. (C2,M1,food): one row, 7.5.
  auto t = ImportanceTable::Parse(std::string(kHeader) +
                                      "'C1','M1',1.000001,'food',0\n"
                                      "'C1','M1',1.000002,'food',0\n"
                                      "'C1','M1',-0.000001,'bar',0\n"
                                      "'C1','M1',-0.000002,'bar',0\n"
                                      "'C2','M1',7.5,'food',0\n",
                                  "imp.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 3u);
  EXPECT_EQ(t->Find("C1", "M1", "food"), 1'000'002);
  EXPECT_EQ(t->Find("C1", "M1", "bar"), -2);
  EXPECT_EQ(t->Find("C2", "M1", "food"), 7'500'000);
  EXPECT_EQ(t->Find("C2", "M1", "bar"), std::nullopt);
  EXPECT_EQ(t->Find("C1", "M2", "food"), std::nullopt);
  EXPECT_EQ(t->Find("", "", ""), std::nullopt);
}

TEST(ImportanceTable, MeanIsExactAndRoundedOnce) {
  // SPEC §2.2: 0.0000005 and 0.0000004 -> mean 0.00000045 -> 0.45 units -> 0
  // (rounding each row first would give 1 + 0 -> 0.5 -> 1). 0.0000005 alone
  // is exactly half a unit -> 1; its negative -> -1. Three rows of
  // 0.00000033333 sum to 0.00000099999, mean 0.33333 units -> 0.
  // 1.2345675 and 1.2345674999 have mean 1.23456749995 -> 1.234567.
  auto t = ImportanceTable::Parse(std::string(kHeader) +
                                      "C,M,0.0000005,a,0\n"
                                      "C,M,0.0000004,a,0\n"
                                      "C,M,0.0000005,b,0\n"
                                      "C,M,-0.0000005,c,0\n"
                                      "C,M,0.00000033333,d,0\n"
                                      "C,M,0.00000033333,d,0\n"
                                      "C,M,0.00000033333,d,0\n"
                                      "C,M,1.2345675,e,0\n"
                                      "C,M,1.2345674999,e,0\n",
                                  "imp.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->Find("C", "M", "a"), 0);
  EXPECT_EQ(t->Find("C", "M", "b"), 1);
  EXPECT_EQ(t->Find("C", "M", "c"), -1);
  EXPECT_EQ(t->Find("C", "M", "d"), 0);
  EXPECT_EQ(t->Find("C", "M", "e"), 1'234'567);
}

TEST(ImportanceTable, WeightsBeyondTheExactRangeAreRefused) {
  for (const char* w : {"1000000000000", "0.0000000000000000001", "1e3"}) {
    auto t = ImportanceTable::Parse(
        std::string(kHeader) + "C,M," + std::string(w) + ",a,0\n", "imp.csv");
    ASSERT_FALSE(t.ok()) << w;
    EXPECT_NE(t.status().message().find("imp.csv: record 1: Weight"),
              std::string::npos)
        << t.status().message();
  }
}

TEST(ImportanceTable, FieldBytesCannotMakeTwoKeysOne) {
  // Joined naively with a separator both rows would be "a<sep>b<sep>c<sep>d".
  const std::string sep = "\x1f";
  auto t =
      ImportanceTable::Parse(std::string(kHeader) + "'a" + sep + "b','c'," +
                                 "1,'d',0\n'a','b" + sep + "c',2,'d',0\n",
                             "imp.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->Find("a" + sep + "b", "c", "d"), 1'000'000);
  EXPECT_EQ(t->Find("a", "b" + sep + "c", "d"), 2'000'000);
}

// Against a std::map of sums on many keys with collisions in the probe
// sequences and repeated rows.
TEST(ImportanceTable, ManyKeysMatchAMapOfSums) {
  std::mt19937_64 rng(5);
  std::string text = kHeader;
  std::map<std::tuple<std::string, std::string, std::string>,
           std::pair<int64_t, int64_t>>
      ref;  // key -> (sum of micro-units, rows)
  for (int i = 0; i < 20000; ++i) {
    const std::string c = "C" + std::to_string(rng() % 3000);
    const std::string m = "M" + std::to_string(rng() % 7);
    const std::string cat = "cat" + std::to_string(rng() % 2);
    const int64_t cents = static_cast<int64_t>(rng() % 100000);
    text += "'" + c + "','" + m + "'," + std::to_string(cents / 100) + "." +
            std::to_string(cents % 100 / 10) + std::to_string(cents % 10) +
            ",'" + cat + "',0\n";
    auto& [sum, n] = ref[{c, m, cat}];
    sum += cents * 10'000;
    ++n;
  }
  auto t = ImportanceTable::Parse(text, "imp.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), ref.size());
  for (const auto& [key, v] : ref) {
    const auto& [c, m, cat] = key;
    // Non-negative: half away from zero is floor(x + 1/2).
    const int64_t mean = (2 * v.first + v.second) / (2 * v.second);
    EXPECT_EQ(t->Find(c, m, cat), mean) << c << " " << m << " " << cat;
    EXPECT_EQ(t->Find(c, m, cat + "x"), std::nullopt);
  }
}

TEST(ImportanceTable, BadRowsNameTheFileAndRecord) {
  auto t = ImportanceTable::Parse(
      std::string(kHeader) + "'C1','M1',1,'food',0\n'C1','M1',abc,'food',0\n",
      "s3://b/imp.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("s3://b/imp.csv: record 2"),
            std::string::npos)
      << t.status().message();
  auto missing = ImportanceTable::Parse("Source,Target,typeTrans\n", "imp.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'Weight'"), std::string::npos);
}

}  // namespace

// ---------------------------------------------------------------------------
// The loader against a slow reference written from the contract alone:
// records as ScanRecords delimits them (one at a time, from the start of
// what is left), fields by SplitFields, Weights by ParseDecimalExact, sums
// in a std::map, the mean rounded half away from zero with plain Int128
// arithmetic, and the same messages. The table must agree on every key's
// mean, on the number of keys, on the fingerprint (the CRC of the bytes)
// and, for bad input, on the whole message.

namespace {

struct RefTable {
  std::string error;  // empty: loaded
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> means;
};

Int128 Abs(Int128 v) { return v < 0 ? -v : v; }

RefTable ReferenceLoad(const std::string& text, const std::string& uri) {
  RefTable out;
  std::vector<std::string_view> records;
  {
    // ScanRecords looks for the next '"' in all it is given: a window keeps
    // the reference linear.
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t n = 0;
      for (size_t window = 256;; window *= 2) {
        const ScanResult one = ScanRecords(rest.substr(0, window), 1);
        if (one.records == 1) {
          n = one.bytes;
          break;
        }
        if (window >= rest.size()) {
          n = rest.size();
          break;
        }
      }
      records.push_back(rest.substr(0, n));
      rest.remove_prefix(n);
    }
    // Today's loader reads the records after the header's line end; a
    // header without one is therefore read as record 1 as well.
    if (records.size() == 1 && ScanRecords(text, 1).records == 0) {
      records.push_back(records[0]);
    }
  }
  std::vector<std::string> header;
  if (records.empty() || SplitFields(records[0], &header).has_value()) {
    out.error = uri + ": no readable header line";
    return out;
  }
  int col[4] = {-1, -1, -1, -1};
  const char* names[4] = {"source", "target", "weight", "typetrans"};
  for (int k = 0; k < 4; ++k) {
    for (size_t i = 0; i < header.size() && col[k] < 0; ++i) {
      std::string lower = header[i];
      for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
      if (lower == names[k]) col[k] = static_cast<int>(i);
    }
  }
  const char* shown[4] = {"Source", "Target", "Weight", "typeTrans"};
  for (int k = 0; k < 4; ++k) {
    if (col[k] < 0) {
      out.error = uri + ": header has no '" + shown[k] + "' column";
      return out;
    }
  }
  std::map<std::tuple<std::string, std::string, std::string>,
           std::pair<Int128, int64_t>>
      sums;
  for (size_t r = 1; r < records.size(); ++r) {
    const std::string_view rec = records[r];
    if (rec.find_first_not_of("\r\n") == std::string_view::npos) continue;
    const std::string where = uri + ": record " + std::to_string(r) + ": ";
    std::vector<std::string> v;
    if (auto err = SplitFields(rec, &v)) {
      out.error = where + *err;
      return out;
    }
    if (v.size() != header.size()) {
      out.error = where + "has " + std::to_string(v.size()) +
                  " fields, header has " + std::to_string(header.size());
      return out;
    }
    const auto w = ParseDecimalExact(v[col[2]], 18);
    const Int128 limit = Int128{1'000'000'000'000'000'000} * 1'000'000'000'000;
    if (!w || Abs(*w) >= limit) {
      out.error = where + "Weight '" + v[col[2]] +
                  "' is not a decimal number below 10^12 with at most 18 "
                  "decimals";
      return out;
    }
    auto& [sum, n] = sums[{v[col[0]], v[col[1]], v[col[3]]}];
    sum += *w;
    ++n;
  }
  for (const auto& [key, s] : sums) {
    // mean in 10^-6 units = sum / (n * 10^12), halves away from zero.
    const Int128 den = Int128{s.second} * 1'000'000'000'000;
    const Int128 q = Abs(s.first) / den, rem = Abs(s.first) % den;
    const Int128 rounded = 2 * rem >= den ? q + 1 : q;
    out.means[key] = static_cast<int64_t>(s.first < 0 ? -rounded : rounded);
  }
  return out;
}

// Parse, and the same table parsed on a thread of its own
// (PendingImportance, as the CLI loads it), against the reference.
void ExpectSameAsReference(const std::string& text, const std::string& what) {
  const RefTable ref = ReferenceLoad(text, "u://imp.csv");
  auto parsed = ImportanceTable::Parse(text, "u://imp.csv");
  PendingImportance pending(text, "u://imp.csv");
  EXPECT_EQ(pending.Fingerprint().value(), Crc32cSoftware(text)) << what;
  auto waited = pending.Wait();
  ASSERT_EQ(waited.status().ToString(), pending.Wait().status().ToString());
  if (!ref.error.empty()) {
    ASSERT_FALSE(parsed.ok()) << what << "\nreference: " << ref.error;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << what;
    EXPECT_EQ(parsed.status().message(), ref.error) << what;
    EXPECT_EQ(waited.status().ToString(), parsed.status().ToString()) << what;
    return;
  }
  ASSERT_TRUE(parsed.ok()) << what << "\n" << parsed.status().ToString();
  ASSERT_TRUE(waited.ok()) << what << "\n" << waited.status().ToString();
  for (const ImportanceTable* t :
       std::initializer_list<const ImportanceTable*>{&*parsed, *waited}) {
    EXPECT_EQ(t->size(), ref.means.size()) << what;
    EXPECT_EQ(t->fingerprint(), Crc32cSoftware(text)) << what;
    for (const auto& [key, mean] : ref.means) {
      const auto& [c, m, cat] = key;
      ASSERT_EQ(t->Find(c, m, cat), mean)
          << what << "\nkey '" << c << "' '" << m << "' '" << cat << "'";
      EXPECT_EQ(t->Find(c, m, cat + "?"), std::nullopt) << what;
      EXPECT_EQ(t->Find(c + "?", m, cat), std::nullopt) << what;
    }
  }
}

// Random tables in every shape the grammar allows and a few it refuses.
class HostileTableMaker {
 public:
  explicit HostileTableMaker(uint64_t seed, uint64_t max_rows = 300)
      : rng_(seed), max_rows_(max_rows) {}

  std::string Make() {
    crlf_ = Pick(4) == 0;
    dirty_ = Pick(2) == 0;  // only dirty tables get refused rows
    // Header: the four columns in any order, any case, with extra columns
    // (sometimes a second "weight" that must not count) and blanks.
    std::vector<std::string> cols = {"Source", "Target", "Weight", "typeTrans"};
    const int extra = static_cast<int>(Pick(4));
    for (int i = 0; i < extra; ++i)
      cols.push_back(Pick(3) == 0 ? "Weight" : "x" + std::to_string(i));
    if (Pick(20) == 0) {
      for (int i = 0; i < 70; ++i) cols.push_back("wide" + std::to_string(i));
    }
    std::shuffle(cols.begin() + (Pick(2) == 0 ? 4 : 0), cols.end(), rng_);
    // The first of two "weight" columns is the one read; remember where
    // each of the four is.
    width_ = cols.size();
    for (int k = 0; k < 4; ++k) pos_[k] = -1;
    const char* names[4] = {"source", "target", "weight", "typetrans"};
    for (size_t i = 0; i < cols.size(); ++i) {
      std::string lower = cols[i];
      for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
      for (int k = 0; k < 4; ++k) {
        if (pos_[k] < 0 && lower == names[k]) pos_[k] = static_cast<int>(i);
      }
      if (Pick(3) == 0) {
        for (char& ch : cols[i]) {
          ch = Pick(2) ? static_cast<char>(std::toupper(ch))
                       : static_cast<char>(std::tolower(ch));
        }
      }
    }
    std::string text;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i) text += ',';
      text += Pick(5) == 0 ? " " + cols[i] + "\t" : cols[i];
    }
    text += End();
    const int rows = static_cast<int>(Pick(max_rows_));
    for (int r = 0; r < rows; ++r) {
      if (Pick(30) == 0) {
        text += End();  // blank line
        continue;
      }
      if (Pick(4) == 0 && !last_.empty()) {
        text += last_;  // the same key again, adjacent (maybe another weight)
        continue;
      }
      text += Row();
    }
    if (!text.empty() && Pick(3) == 0) {
      // No line end after the last record.
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
      }
    }
    return text;
  }

 private:
  uint64_t Pick(uint64_t n) { return rng_() % n; }
  std::string End() { return crlf_ ? "\r\n" : "\n"; }

  // A key field from a small pool (so keys repeat far apart too), written
  // bare, single-quoted, double-quoted (with "" and commas and newlines
  // inside) or with blanks around.
  std::string Field(const char* prefix, bool* quoted) {
    static const char* const kOdd[] = {"",           "a,b", "say \"hi\"",
                                       "two\nlines", "'",   "x\x1f"};
    std::string v =
        Pick(10) == 0 ? kOdd[Pick(6)] : prefix + std::to_string(Pick(40));
    const bool needs =
        v.empty() || v.find_first_of(",\"\n") != std::string::npos;
    const uint64_t style = needs ? 3 : Pick(6);
    *quoted = style == 3;
    switch (style) {
      case 0:
        return "'" + v + "'";
      case 1:
        return " '" + v + "'\t";
      case 2:
        return "\t " + v + "  ";
      case 3: {
        std::string q = "\"";
        for (char ch : v) {
          if (ch == '"') q += '"';
          q += ch;
        }
        return q + "\"";
      }
      default:
        return v;
    }
  }

  std::string Weight() {
    static const char* const kForms[] = {
        "0",
        "7.5",
        "-0.0000005",
        "+12.25",
        ".5",
        "-.000001",
        "5.",
        "000000000000000000000000003.1",
        "999999999999.999999999999999999",
        "-999999999999.999999999999999999",
        "1000000000000",
        "1.000000000000000000000000",
        "0.0000000000000000001",
        "0.000000000000000001",
        "123456789012345678",
        "12345678901234567890123",
        "18446744073709551617",  // 2^64 + 1
        "-00000000000000000000000000000000000000.5",
        "1e3",
        "",
        ".",
        "-",
        "1.2.3",
        " 4 ",
        "4 2",
        "0x10",
        "１",
    };
    if (Pick(3) != 0) {
      // An ordinary weight: up to 12 integer and up to 20 fraction digits.
      std::string w = Pick(5) == 0 ? "-" : "";
      w += std::to_string(Pick(1000000));
      if (Pick(4) != 0) {
        w += '.';
        const int digits = static_cast<int>(Pick(Pick(8) == 0 ? 19 : 7));
        for (int i = 0; i < digits; ++i) w += static_cast<char>('0' + Pick(10));
        if (Pick(10) == 0) w += std::string(Pick(4), '0');  // exact anyway
      }
      if (dirty_ && Pick(100) == 0) w += std::to_string(1 + Pick(9));
      return w;
    }
    const uint64_t i = Pick(sizeof kForms / sizeof kForms[0]);
    if (!dirty_ && i >= 10) return "3.25";
    return kForms[i];
  }

  std::string Row() {
    std::vector<std::string> v(width_);
    bool quoted = false;
    for (size_t i = 0; i < width_; ++i) v[i] = std::to_string(Pick(10));
    v[pos_[0]] = Field("C", &quoted);
    v[pos_[1]] = Field("M", &quoted);
    v[pos_[3]] = Field("cat", &quoted);
    v[pos_[2]] = Weight();
    if (Pick(4) == 0) v[pos_[2]] = "'" + v[pos_[2]] + "'";
    size_t n = width_;
    if (dirty_ && Pick(200) == 0) n = width_ - 1;  // short row
    std::string line;
    for (size_t i = 0; i < n; ++i) {
      if (i) line += ',';
      line += v[i];
    }
    if (dirty_ && Pick(200) == 0) line += ",extra";
    if (dirty_ && Pick(300) == 0) line += "\"unterminated";
    if (dirty_ && Pick(300) == 0) line = "\"closed\"junk," + line;
    line += End();
    last_ = line;
    return line;
  }

  std::mt19937_64 rng_;
  uint64_t max_rows_;
  bool crlf_ = false;
  bool dirty_ = false;
  size_t width_ = 0;
  int pos_[4];
  std::string last_;
};

}  // namespace

TEST(ImportanceTableReference, RandomHostileTablesLoadAsTheReferenceDoes) {
  int loaded = 0, refused = 0;
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    const std::string text = HostileTableMaker(seed).Make();
    ExpectSameAsReference(text, "seed " + std::to_string(seed));
    if (HasFailure()) return;
    (ReferenceLoad(text, "u").error.empty() ? loaded : refused)++;
  }
  // Both outcomes are exercised in quantity.
  EXPECT_GT(loaded, 1200);
  EXPECT_GT(refused, 1000);
}

// Long hostile tables: quoted records, blank lines, refusals and keys far
// apart, over many batches and with slots probed far from home.
TEST(ImportanceTableReference, LongHostileTables) {
  for (uint64_t seed = 0; seed < 12; ++seed) {
    const std::string text = HostileTableMaker(seed, 60000).Make();
    ExpectSameAsReference(text, "long seed " + std::to_string(seed));
    if (HasFailure()) return;
  }
}

TEST(ImportanceTableReference, EdgeCases) {
  for (const std::string& text : std::vector<std::string>{
           "",
           "\n",
           "\r\n",
           "Source,Target,Weight,typeTrans",
           "Source,Target,Weight,typeTrans\n",
           "Source,Target,Weight,typeTrans\nC,M,1,a",
           "Source,Target,Weight,typeTrans\r\nC,M,1,a\r\n\r\nC,M,2,a\r\n",
           "\"Source\",Target,Weight,typeTrans\nC,M,1,a\n",
           "\"Sou\nrce\",Target,Weight,typeTrans\nC,M,1,a\n",
           "\"Source,Target,Weight,typeTrans\nC,M,1,a\n",
           "SOURCE,TARGET,WEIGHT,TYPETRANS,weight\nC,M,1,a,x\n",
           "Source,Target,Weight,typeTrans\n,,1,\n,,3,\n",
           "Source,Target,Weight,typeTrans\n\"C\",\"M\",\"2\",\"a\"\nC,M,4,a\n",
           "Source,Target,Weight,typeTrans\nC,M,1,a\nC,M,1,a,\n",
           "Source,Target,Weight,typeTrans\nC,M,1,a\nC,M,\"1\"x,a\n",
           "Source,Target,Weight,typeTrans\nC,M,1,a\nC,\"M,1,a\n",
           "Source,Target,Weight,typeTrans\nC,M\",1,a\nC,M\",3,a\n",
           "Source,Target,Weight,typeTrans\n'',' ',1,''''\n",
           "Source,Target,Weight,typeTrans\nC,M,999999999999."
           "9999999999999999995,a\n",
           "Source,Target,Weight,typeTrans\nC,M,-0,a\nC,M,+0.,a\n",
       }) {
    ExpectSameAsReference(text, "text: " + text);
  }
}

// Rows are applied in batches: an error on any row must still come after
// the rows before it and be the first one in file order, wherever it falls
// in a batch, and the rows of a key may be adjacent or far apart.
TEST(ImportanceTableReference, FirstErrorWinsAtEveryPositionOfABatch) {
  for (int bad_at = 0; bad_at < 40; ++bad_at) {
    for (const char* bad_row : {"C,M,abc,a\n", "C,M,1\n", "\"C,M,1,a\n",
                                "C,\"M\"x,1,a\n", "C,M,\"1e3\",a\n"}) {
      std::string text = "Source,Target,Weight,typeTrans\n";
      for (int r = 0; r < 50; ++r) {
        if (r == bad_at) {
          text += bad_row;
        } else {
          text += "C" + std::to_string(r % 7) + ",M,1.5,'a'\n";
        }
      }
      ExpectSameAsReference(text, std::to_string(bad_at) + " " + bad_row);
    }
  }
}

// Large enough for the mapped blocks (over 8 MB: 6 MB of records and 20
// bytes per line) and the fingerprint thread (over 4 MB), with keys far
// apart and adjacent; a copy and a moved-to table answer the same.
TEST(ImportanceTableReference, LargeTableAndItsCopies) {
  std::mt19937_64 rng(11);
  std::string text = "Source,Target,Weight,typeTrans,fraud\n";
  while (text.size() < (size_t{6} << 20)) {
    const std::string row = "'C" + std::to_string(rng() % 100000) + "','M" +
                            std::to_string(rng() % 50) + "'," +
                            std::to_string(rng() % 100000) + "." +
                            std::to_string(rng() % 100) + ",'es_cat" +
                            std::to_string(rng() % 3) + "',0\n";
    text += row;
    if (rng() % 3 == 0) text += row;
  }
  ExpectSameAsReference(text, "large");
  auto t = ImportanceTable::Parse(text, "imp.csv");
  ASSERT_TRUE(t.ok());
  const RefTable ref = ReferenceLoad(text, "imp.csv");
  ImportanceTable copy = *t;
  ImportanceTable moved = std::move(*t);
  ImportanceTable assigned;
  EXPECT_EQ(assigned.Find("C1", "M1", "es_cat1"), std::nullopt);
  assigned = copy;
  for (const ImportanceTable* table : {&copy, &moved, &assigned}) {
    EXPECT_EQ(table->size(), ref.means.size());
    EXPECT_EQ(table->fingerprint(), Crc32cSoftware(text));
    for (const auto& [key, mean] : ref.means) {
      const auto& [c, m, cat] = key;
      ASSERT_EQ(table->Find(c, m, cat), mean);
    }
  }
}

}  // namespace txflow
