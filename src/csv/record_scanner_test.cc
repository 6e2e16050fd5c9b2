#include "csv/record_scanner.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace txflow {
namespace {

TEST(RecordScanner, BareRecordsEndAtNewline) {
  auto r = ScanRecords("a,b\nc,d\ne", 10);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.bytes, 8u);
}

TEST(RecordScanner, StopsAtMaxRecords) {
  auto r = ScanRecords("1\n2\n3\n", 2);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.bytes, 4u);
}

TEST(RecordScanner, CarriageReturnBelongsToRecord) {
  auto r = ScanRecords("a,b\r\nc\r\n", 10);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.bytes, 8u);
}

TEST(RecordScanner, NewlineInsideQuotesDoesNotEndRecord) {
  const std::string data = "1,\"two\nlines\",3\n4\n";
  auto r = ScanRecords(data, 1);
  EXPECT_EQ(r.records, 1u);
  EXPECT_EQ(r.bytes, data.find("4"));
}

TEST(RecordScanner, DoubledQuoteIsAnEscapeNotAClose) {
  const std::string data = "\"say \"\"hi\n\"\"\",x\nnext\n";
  auto r = ScanRecords(data, 10);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.bytes, data.size());
  EXPECT_EQ(ScanRecords(data, 1).bytes, data.find("next"));
}

TEST(RecordScanner, StrayQuoteInBareFieldIsOrdinary) {
  auto r = ScanRecords("ab\"c,d\ne\"\nf\n", 10);
  EXPECT_EQ(r.records, 3u);
}

TEST(RecordScanner, BlanksBeforeQuoteStillOpenQuotedField) {
  const std::string data = "a,  \"x\ny\",b\nz\n";
  EXPECT_EQ(ScanRecords(data, 1).bytes, data.find("z"));
}

TEST(RecordScanner, UnterminatedQuoteLeavesRecordIncomplete) {
  auto r = ScanRecords("ok\n\"never closed\nmore\n", 10);
  EXPECT_EQ(r.records, 1u);
  EXPECT_EQ(r.bytes, 3u);
}

TEST(RecordScanner, SingleQuotesAreOrdinaryBytes) {
  auto r = ScanRecords("'a\n',b\n", 10);
  EXPECT_EQ(r.records, 2u);
}

// Property: records built field by field, so their boundaries are known
// without scanning, must be found exactly, at every cut of the text.
TEST(RecordScanner, FindsConstructedBoundariesInRandomText) {
  std::mt19937_64 rng(20261125);
  auto pick = [&](const std::string& alphabet) {
    return alphabet[rng() % alphabet.size()];
  };
  for (int round = 0; round < 300; ++round) {
    std::string text;
    std::vector<size_t> ends;
    const int records = 1 + static_cast<int>(rng() % 30);
    for (int rec = 0; rec < records; ++rec) {
      const int fields = 1 + static_cast<int>(rng() % 5);
      for (int f = 0; f < fields; ++f) {
        if (f > 0) text += ',';
        switch (rng() % 4) {
          case 0:
            break;   // empty field
          case 1: {  // bare; may hold a stray quote after its first byte
            text += pick("abc1'. ");
            while (text.back() == ' ') text.back() = 'x';
            for (int i = static_cast<int>(rng() % 8); i > 0; --i)
              text += pick("ab\"'.;\r ");
            break;
          }
          default: {  // quoted, with anything inside
            text += std::string(rng() % 2, ' ') + "\"";
            for (int i = static_cast<int>(rng() % 10); i > 0; --i) {
              const char c = pick("a,\n\r'\"x ");
              text += c == '"' ? std::string("\"\"") : std::string(1, c);
            }
            text += "\"";
            if (rng() % 4 == 0) text += " ";  // junk after the closing quote
          }
        }
      }
      text += rng() % 3 == 0 ? "\r\n" : "\n";
      ends.push_back(text.size());
    }
    const size_t cut = rng() % (text.size() + 1);
    size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= cut) ++complete;
    const auto r = ScanRecords(std::string_view(text).substr(0, cut), SIZE_MAX);
    ASSERT_EQ(r.records, complete) << "round " << round << " text:\n" << text;
    ASSERT_EQ(r.bytes, complete == 0 ? 0 : ends[complete - 1]) << text;
    // The incremental reader yields exactly the constructed records.
    RecordReader reader(text);
    std::string_view rec;
    size_t k = 0, at = 0;
    while (reader.Next(&rec)) {
      ASSERT_LT(k, ends.size());
      ASSERT_EQ(at + rec.size(), ends[k]) << "record " << k << " of:\n" << text;
      at += rec.size();
      ++k;
    }
    ASSERT_EQ(k, ends.size());
    const size_t limit = rng() % (ends.size() + 1);
    const auto limited = ScanRecords(text, limit);
    ASSERT_EQ(limited.records, limit);
    ASSERT_EQ(limited.bytes, limit == 0 ? 0 : ends[limit - 1]);
  }
}

}  // namespace
}  // namespace txflow
