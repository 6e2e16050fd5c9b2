#include "detector/importance_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

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
}  // namespace txflow
