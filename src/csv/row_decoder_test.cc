#include "csv/row_decoder.h"

#include <gtest/gtest.h>

#include <random>

namespace txflow {
namespace {

std::vector<std::string> Split(std::string_view record) {
  std::vector<std::string> f;
  auto err = SplitFields(record, &f);
  EXPECT_FALSE(err.has_value()) << *err << " in " << record;
  return f;
}

using V = std::vector<std::string>;

TEST(SplitFields, BankSimSingleQuotesAreRemoved) {
  EXPECT_EQ(Split("0,'C1093826151','4','M','28007','M348934600','28007','es_"
                  "transportation',"
                  "4.55,0\n"),
            (V{"0", "C1093826151", "4", "M", "28007", "M348934600", "28007",
               "es_transportation", "4.55", "0"}));
}

TEST(SplitFields, DoubleQuotesEscapesNewlinesAndTrimming) {
  EXPECT_EQ(Split(" a , \"b,\"\"c\"\"\nd\" ,'e' ,\r\n"),
            (V{"a", "b,\"c\"\nd", "e", ""}));
  EXPECT_EQ(Split(""), (V{""}));
  EXPECT_EQ(Split("'x'y',''"), (V{"x'y", ""}));  // one layer only
  EXPECT_EQ(Split("'"), (V{"'"}));               // a lone quote is not a pair
}

TEST(SplitFields, MalformedQuotingIsAReason) {
  std::vector<std::string> f;
  EXPECT_EQ(SplitFields("\"open", &f), "unterminated double quote");
  EXPECT_EQ(SplitFields("\"a\"b,c", &f), "text after a closing quote");
}

// Records without a double quote take a vectorised path; against a
// deliberately plain splitter, at every length around the 16-byte blocks,
// with commas, blanks and single quotes in every position.
TEST(SplitFields, UnquotedRecordsMatchAPlainSplit) {
  std::mt19937_64 rng(9);
  const char alphabet[] = {'a', 'b', ',', ',', ' ', '\t', '\'', '7', '.'};
  for (int round = 0; round < 20000; ++round) {
    std::string record;
    const size_t len = rng() % 70;
    for (size_t i = 0; i < len; ++i) record += alphabet[rng() % 9];
    V want;
    size_t start = 0;
    for (size_t i = 0; i <= record.size(); ++i) {
      if (i < record.size() && record[i] != ',') continue;
      std::string f = record.substr(start, i - start);
      while (!f.empty() && (f.front() == ' ' || f.front() == '\t'))
        f.erase(0, 1);
      while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.pop_back();
      if (f.size() >= 2 && f.front() == '\'' && f.back() == '\'')
        f = f.substr(1, f.size() - 2);
      want.push_back(f);
      start = i + 1;
    }
    const std::string ending = rng() % 2 ? "\r\n" : rng() % 2 ? "\n" : "";
    ASSERT_EQ(Split(record + ending), want) << "[" << record << "]";
  }
}

// A double quote anywhere, even past the first 16-byte block after commas
// were already split, switches to the quote-aware path.
TEST(SplitFields, LateDoubleQuoteIsStillParsedAsQuoted) {
  const std::string head = "0,'C1','4','M','28007',";  // > 16 bytes
  EXPECT_EQ(Split(head + "\"x,y\",z,'a longer tail'\n"),
            (V{"0", "C1", "4", "M", "28007", "x,y", "z", "a longer tail"}));
  std::vector<std::string> f;
  EXPECT_EQ(SplitFields(head + "\"open", &f), "unterminated double quote");
}

// AppendCsvField is SplitFields' inverse: any bytes come back as they were,
// next to other fields, and plain names stay unquoted.
TEST(AppendCsvField, RoundTripsThroughSplitFields) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "ab,\"'\r\n \tC1";
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<std::string> values(1 + rng() % 3);
    std::string record;
    for (size_t k = 0; k < values.size(); ++k) {
      for (size_t n = rng() % 6; n > 0; --n)
        values[k] += alphabet[rng() % alphabet.size()];
      if (k > 0) record += ',';
      AppendCsvField(&record, values[k]);
    }
    std::vector<std::string> got;
    ASSERT_FALSE(SplitFields(record, &got).has_value()) << record;
    ASSERT_EQ(got, values) << record;
  }
  std::string out;
  AppendCsvField(&out, "C1093826151");
  AppendCsvField(&out, "");
  EXPECT_EQ(out, "C1093826151\"\"");
}

TEST(FindColumns, CaseInsensitiveFirstMatchWins) {
  const std::vector<std::string_view> header = {"Step", "CUSTOMER", "amount",
                                                "Customer"};
  EXPECT_EQ(FindColumns(header, {"customer", "amount", "merchant"}),
            (std::vector<int>{1, 2, -1}));
}

TEST(ParseDecimal, ExactPaise) {
  EXPECT_EQ(ParseDecimal("4.55", 2), 455);
  EXPECT_EQ(ParseDecimal("12", 2), 1200);
  EXPECT_EQ(ParseDecimal("0.5", 2), 50);
  EXPECT_EQ(ParseDecimal("3.", 2), 300);
  EXPECT_EQ(ParseDecimal(".25", 2), 25);
  EXPECT_EQ(ParseDecimal("-7.10", 2), -710);
  EXPECT_EQ(ParseDecimal("+1.01", 2), 101);
}

TEST(ParseDecimal, RoundsHalfAwayFromZero) {
  EXPECT_EQ(ParseDecimal("0.125", 2), 13);
  EXPECT_EQ(ParseDecimal("0.1249999", 2), 12);
  EXPECT_EQ(ParseDecimal("-0.125", 2), -13);
  EXPECT_EQ(ParseDecimal("2.675", 2),
            268);  // 2.675 is exact here, unlike in binary
  EXPECT_EQ(ParseDecimal("0.9999999", 6), 1'000'000);
  EXPECT_EQ(ParseDecimal("1.0000005", 6), 1'000'001);
}

TEST(ParseDecimal, RejectsWhatTheSpecRejects) {
  for (const char* bad : {"", "-", ".", "1e2", "1,5", " 1", "1 ", "0x10",
                          "1.2.3", "abc", "1000000000000000", "NaN"}) {
    EXPECT_FALSE(ParseDecimal(bad, 2).has_value()) << bad;
  }
  EXPECT_EQ(ParseDecimal("999999999999999.99", 2), 99'999'999'999'999'999);
}

TEST(ParseDecimal, LeadingZerosAreNotSignificantDigits) {
  EXPECT_EQ(ParseDecimal("0000000000000001.00", 2), 100);
  EXPECT_EQ(ParseDecimal("0023.50", 2), 2350);
  EXPECT_EQ(ParseDecimal("-000.5", 2), -50);
  EXPECT_EQ(ParseDecimal("00000000000000000000", 2), 0);
  EXPECT_EQ(ParseDecimal("0000999999999999999.99", 2), 99'999'999'999'999'999);
  // The limit still holds for significant digits.
  EXPECT_FALSE(ParseDecimal("01000000000000000", 2).has_value());  // 16
}

TEST(ParseDecimalExact, KeepsEveryDigitOrRefuses) {
  EXPECT_EQ(ParseDecimalExact("0.0000005", 18), Int128{500'000'000'000});
  EXPECT_EQ(ParseDecimalExact("-1.5", 1), Int128{-15});
  EXPECT_EQ(ParseDecimalExact("007", 2), Int128{700});
  EXPECT_EQ(ParseDecimalExact("0.12000", 2), Int128{12});   // zeros are exact
  EXPECT_FALSE(ParseDecimalExact("0.125", 2).has_value());  // would round
  EXPECT_EQ(ParseDecimalExact("999999999999999999.999999999999999999", 18),
            Int128{999'999'999'999'999'999} * 1'000'000'000'000'000'000 +
                999'999'999'999'999'999);
  EXPECT_FALSE(ParseDecimalExact("1000000000000000000", 18).has_value());
  for (const char* bad : {"", "-", ".", "1e2", " 1", "1.2.3"}) {
    EXPECT_FALSE(ParseDecimalExact(bad, 6).has_value()) << bad;
  }
}

// Regression (found by row_decoder_fuzz under UBSan): at scale 6 a 15-digit
// integer part overflowed int64. The bound is min(15, 18 - scale) digits.
TEST(ParseDecimal, LargeValuesAtHighScaleAreRefusedNotOverflowed) {
  EXPECT_FALSE(ParseDecimal("999999999999999.99", 6).has_value());
  EXPECT_FALSE(ParseDecimal("1000000000000", 6).has_value());  // 13 digits
  EXPECT_EQ(ParseDecimal("999999999999.9999999", 6), 1'000'000'000'000'000'000);
  EXPECT_EQ(ParseDecimal("-999999999999", 6), -999'999'999'999'000'000);
}

}  // namespace
}  // namespace txflow
