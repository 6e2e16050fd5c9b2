#include "detector/chunk_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace txflow {
namespace {

constexpr std::string_view kKey = "landing_zone/chunk-000000000100.csv";

TEST(ChunkDecoder, GoodRowsAreDecodedInChunkOrder) {
  const std::string text =
      "step,Customer,age,GENDER,merchant,category,amount\n"
      "0,'C1','4','F','M1','es_food',4.55\n"
      "1,C2,5,M,M2,es_travel,-12\n"
      "2,'C3','6','E','M1','es_food',0.125\n";
  ChunkDecoder dec;
  ASSERT_TRUE(dec.Decode(text, kKey, 100, true).ok());
  ASSERT_EQ(dec.rows().size(), 3u);
  EXPECT_EQ(dec.records(), 3u);
  EXPECT_EQ(dec.bad_rows(), 0u);
  EXPECT_EQ(dec.quarantine(), "");
  const DecodedRow& a = dec.rows()[0];
  EXPECT_EQ(a.customer, "C1");
  EXPECT_EQ(a.merchant, "M1");
  EXPECT_EQ(a.category, "es_food");
  EXPECT_EQ(a.paise, 455);
  EXPECT_EQ(a.gender, Gender::kFemale);
  EXPECT_EQ(dec.rows()[1].paise, -1200);
  EXPECT_EQ(dec.rows()[1].gender, Gender::kMale);
  EXPECT_EQ(dec.rows()[2].paise, 13);  // half away from zero
  EXPECT_EQ(dec.rows()[2].gender, Gender::kOther);
}

TEST(ChunkDecoder, CategoryIsNotDecodedWhenNotNeeded) {
  const std::string text =
      "customer,merchant,gender,amount,category\nC,M,F,1,\n";
  ChunkDecoder dec;
  ASSERT_TRUE(dec.Decode(text, kKey, 0, false).ok());
  ASSERT_EQ(dec.rows().size(), 1u);
  EXPECT_EQ(dec.rows()[0].category, "");
  ASSERT_TRUE(dec.Decode(text, kKey, 0, true).ok());
  EXPECT_TRUE(dec.rows().empty());
  EXPECT_EQ(dec.bad_rows(), 1u);
  EXPECT_NE(dec.quarantine().find(",empty category,"), std::string::npos)
      << dec.quarantine();
}

TEST(ChunkDecoder, EveryBadRowReasonIsQuarantinedWithRecordAndOffset) {
  const std::string long_amount(70, '9');
  const std::string text =
      "customer,merchant,gender,amount,category\n"  // 41 bytes
      "C0,M,F,1.00,c\n"                             // 41: good
      "C1,M,F,1e2,c\n"                              // 55
      ",M,F,1,c\n"                                  // 68
      "C3,,F,1,c\n"                                 // 77
      "C4,M,,1,c\n"                                 // 87
      "C5,M,F,,c\n"                                 // 97
      "C6,M,F,1\n"                                  // 107
      "C7,M,F,100000000000.01,c\n"                  // 116
      "C8,M,F,-100000000000.01,c\n"                 // 141
      "\"C9\"x,M,F,1,c\n"                           // 167
      "C10,M,F," +
      long_amount +
      ",c\n"                          // 181
      "C11,M,F,100000000000.00,c\n";  // good
  ChunkDecoder dec;
  ASSERT_TRUE(dec.Decode(text, kKey, 100, true).ok());
  EXPECT_EQ(dec.records(), 12u);
  EXPECT_EQ(dec.bad_rows(), 10u);
  ASSERT_EQ(dec.rows().size(), 2u);
  EXPECT_EQ(dec.rows()[0].customer, "C0");
  EXPECT_EQ(dec.rows()[1].paise, ChunkDecoder::kMaxAmountPaise);
  const std::string k(kKey);
  EXPECT_EQ(
      dec.quarantine(),
      "chunk,record,byte_offset,reason,raw\n" + k +
          ",101,55,amount '1e2' is not a decimal number,\"C1,M,F,1e2,c\"\n" +
          k + ",102,68,empty customer,\",M,F,1,c\"\n" + k +
          ",103,77,empty merchant,\"C3,,F,1,c\"\n" + k +
          ",104,87,empty gender,\"C4,M,,1,c\"\n" + k +
          ",105,97,empty amount,\"C5,M,F,,c\"\n" + k +
          ",106,107,\"has 4 fields, header has 5\",\"C6,M,F,1\"\n" + k +
          ",107,116,\"amount '100000000000.01' is beyond " +
          "+-100000000000.00, the range held exactly\"," +
          "\"C7,M,F,100000000000.01,c\"\n" + k +
          ",108,141,\"amount '-100000000000.01' is beyond " +
          "+-100000000000.00, the range held exactly\"," +
          "\"C8,M,F,-100000000000.01,c\"\n" + k +
          ",109,167,text after a closing quote,\"\"\"C9\"\"x,M,F,1,c\"\n" + k +
          ",110,181,amount '" + std::string(64, '9') +
          "...' is not a decimal number,\"C10,M,F," + long_amount + ",c\"\n");
}

TEST(ChunkDecoder, UnescapedFieldsStayValidAfterDecodeReturns) {
  // Fields with "" escapes are unescaped into the decoder's scratch, which
  // the next record reuses: the rows must still read right at the end.
  std::string text = "customer,merchant,gender,amount,category\n";
  for (int i = 0; i < 200; ++i) {
    text += "\"C\"\"" + std::to_string(i) + "\",\"M\"\"x\",F,1,\"c,\"\"" +
            std::to_string(i) + "\"\n";
  }
  text += "\"multi\nline\",M,M,2,c\n";
  ChunkDecoder dec;
  ASSERT_TRUE(dec.Decode(text, kKey, 0, true).ok());
  ASSERT_EQ(dec.rows().size(), 201u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(dec.rows()[i].customer, "C\"" + std::to_string(i));
    EXPECT_EQ(dec.rows()[i].merchant, "M\"x");
    EXPECT_EQ(dec.rows()[i].category, "c,\"" + std::to_string(i));
  }
  EXPECT_EQ(dec.rows()[200].customer, "multi\nline");
  EXPECT_EQ(dec.rows()[200].gender, Gender::kMale);
}

TEST(ChunkDecoder, HeaderWithoutRequiredColumnIsAnErrorNamingIt) {
  ChunkDecoder dec;
  const std::string no_gender = "customer,merchant,amount\nC,M,1\n";
  Status s =
      dec.Decode(no_gender, kKey, 0, false, "mem://r/" + std::string(kKey));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "mem://r/" + std::string(kKey) + ": header has no 'gender' column");
  EXPECT_TRUE(dec.rows().empty());

  const std::string no_category = "customer,merchant,gender,amount\nC,M,F,1\n";
  EXPECT_TRUE(dec.Decode(no_category, kKey, 0, false).ok());
  s = dec.Decode(no_category, kKey, 0, true);
  EXPECT_EQ(s.message(), std::string(kKey) +
                             ": header has no 'category' column, needed with "
                             "an importance table");

  s = dec.Decode("\"customer,merchant\n", kKey, 0, false);
  EXPECT_EQ(s.message(), std::string(kKey) + ": unreadable header line");
}

TEST(ChunkDecoder, EmptyChunkAndHeaderOnlyHaveNoRecords) {
  ChunkDecoder dec;
  ASSERT_TRUE(dec.Decode("", kKey, 5, true).ok());
  EXPECT_EQ(dec.records(), 0u);
  ASSERT_TRUE(
      dec.Decode("customer,merchant,gender,amount", kKey, 5, false).ok());
  EXPECT_EQ(dec.records(), 0u);
  EXPECT_TRUE(dec.rows().empty());
}

TEST(ChunkDecoder, ALongBadRowIsQuarantinedInPart) {
  const std::string big(ChunkDecoder::kMaxQuarantinedRowBytes + 10, 'x');
  const std::string text = "customer,merchant,gender,amount\n" + big + "\n";
  ChunkDecoder dec;
  ASSERT_TRUE(dec.Decode(text, kKey, 0, false).ok());
  EXPECT_EQ(dec.bad_rows(), 1u);
  EXPECT_NE(dec.quarantine().find("... (10 more bytes)"), std::string::npos);
  EXPECT_LT(dec.quarantine().size(),
            ChunkDecoder::kMaxQuarantinedRowBytes + 200);
}

}  // namespace
}  // namespace txflow

namespace txflow {
namespace {

// A chunk of good and bad records: quoted fields with commas, doubled quotes
// and line breaks inside, CRLF ends, stray quotes, short rows, bad amounts,
// and sometimes a last record without its line end.
std::string HostileChunk(std::mt19937_64& rng, int records) {
  std::string text = "step,customer,gender,merchant,category,amount\r\n";
  static const char* customers[] = {"C1",         "'C2'",     "\"C,3\"",
                                    "\"C\"\"4\"", "\"C\n5\"", "C\"6"};
  static const char* amounts[] = {
      "1.00", "12", "-3.5", "1e2", "", "x", "100000000000.01", "\"7.25\""};
  for (int i = 0; i < records; ++i) {
    std::string r = std::to_string(i) + "," + customers[rng() % 6] + "," +
                    (rng() % 9 == 0 ? "" : "F") + ",M" +
                    std::to_string(rng() % 4) + ",c," + amounts[rng() % 8];
    if (rng() % 15 == 0) r = std::to_string(i) + ",short";
    r += rng() % 4 == 0 ? "\r\n" : "\n";
    text += r;
  }
  if (rng() % 2 == 0) text += "999,C9,F,M1,c,1.00";  // no line end
  return text;
}

TEST(ChunkDecoderSplit, PartsDecodeExactlyWhatTheWholeChunkDoes) {
  std::mt19937_64 rng(31);
  int cut_inside_quotes = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::string text = HostileChunk(rng, static_cast<int>(rng() % 60));
    const bool need_category = rng() % 2 == 0;
    ChunkDecoder whole;
    ASSERT_TRUE(whole.Decode(text, kKey, 500, need_category).ok());
    for (size_t parts = 1; parts <= 6; ++parts) {
      auto plan = ChunkDecoder::Split(text, 500, need_category, parts, kKey);
      ASSERT_TRUE(plan.ok()) << plan.status().ToString();
      ASSERT_GE(plan->parts.size(), 1u);
      ASSERT_LE(plan->parts.size(), parts);
      std::vector<DecodedRow> rows;
      std::string quarantine;
      uint64_t records = 0, bad = 0;
      size_t at = plan->parts.front().begin;
      // Rows may point into their decoder (unescaped quoted fields): the
      // decoders live as long as the rows, as the detector's do.
      std::vector<ChunkDecoder> decoders(plan->parts.size());
      for (size_t p = 0; p < plan->parts.size(); ++p) {
        const ChunkDecoder::Part& part = plan->parts[p];
        ASSERT_EQ(part.begin, at);  // contiguous, in order
        ASSERT_EQ(part.first_record, 500 + records);
        at = part.end;
        ChunkDecoder& dec = decoders[p];
        dec.DecodePart(text, kKey, plan->columns, part, need_category);
        rows.insert(rows.end(), dec.rows().begin(), dec.rows().end());
        quarantine += dec.quarantine();
        records += dec.records();
        bad += dec.bad_rows();
        // A cut is never inside a quoted line break.
        if (part.end < text.size() &&
            text.substr(part.begin, part.end - part.begin).find("\"C\n") !=
                std::string::npos) {
          ++cut_inside_quotes;
        }
      }
      ASSERT_EQ(at, text.size());
      EXPECT_EQ(records, whole.records());
      EXPECT_EQ(bad, whole.bad_rows());
      EXPECT_EQ(quarantine.empty()
                    ? ""
                    : std::string(ChunkDecoder::kQuarantineHeader) + quarantine,
                whole.quarantine());
      ASSERT_EQ(rows.size(), whole.rows().size());
      for (size_t i = 0; i < rows.size(); ++i) {
        const DecodedRow &a = rows[i], &b = whole.rows()[i];
        EXPECT_EQ(a.customer, b.customer);
        EXPECT_EQ(a.merchant, b.merchant);
        EXPECT_EQ(a.category, b.category);
        EXPECT_EQ(a.paise, b.paise);
        EXPECT_EQ(a.gender, b.gender);
        EXPECT_EQ(a.record, b.record);
      }
    }
  }
  // The data had quoted line breaks inside parts, so cuts were tested
  // against them.
  EXPECT_GT(cut_inside_quotes, 50);
}

TEST(ChunkDecoderSplit, BadHeaderFailsAsDecodeDoes) {
  const std::string text = "customer,merchant,amount\nC,M,1\n";
  ChunkDecoder dec;
  const Status whole = dec.Decode(text, kKey, 0, false);
  auto plan = ChunkDecoder::Split(text, 0, false, 3, kKey);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().ToString(), whole.ToString());
}

}  // namespace
}  // namespace txflow
