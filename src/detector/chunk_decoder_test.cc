#include "detector/chunk_decoder.h"

#include <gtest/gtest.h>

#include <string>

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
