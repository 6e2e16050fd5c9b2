#include "chunker/offset_state.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

OffsetState Sample() {
  OffsetState s;
  s.source = "s3://bucket/in/tx,\"odd\".csv";  // needs CSV quoting
  s.next_record = 20'000;
  s.byte_offset = 1'640'083;
  s.chunks_written = 2;
  s.source_size_seen = 49'252'291;
  s.size_seen_at_ms = 1'795'614'222'000;
  s.header_bytes = 83;
  s.header_crc32c = 0xdeadbeef;
  s.updated_at_ms = 1'795'614'222'123;
  return s;
}

TEST(OffsetState, RoundTrips) {
  const std::string text = EncodeOffsetState(Sample());
  auto back = DecodeOffsetState(text, "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Sample());
}

TEST(OffsetState, IsReadableCsvWithHeader) {
  const std::string text = EncodeOffsetState(Sample());
  EXPECT_EQ(text.rfind("format,source,next_record,byte_offset,", 0), 0u);
  EXPECT_NE(
      text.find(
          "\ntxflow-offset-1,\"s3://bucket/in/tx,\"\"odd\"\".csv\",20000,"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(",2026-11-25T13:43:42.123Z,"), std::string::npos) << text;
}

TEST(OffsetState, EveryTruncationIsCorruption) {
  const std::string text = EncodeOffsetState(Sample());
  for (size_t n = 0; n < text.size(); ++n) {
    auto r = DecodeOffsetState(text.substr(0, n), "state/offset.csv");
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("state/offset.csv"), std::string::npos);
  }
}

TEST(OffsetState, EverySingleBitFlipIsDetected) {
  const std::string text = EncodeOffsetState(Sample());
  for (size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = text;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      auto r = DecodeOffsetState(flipped, "x");
      ASSERT_FALSE(r.ok()) << "flip of bit " << bit << " at byte " << i;
    }
  }
}

TEST(OffsetState, NewerFormatVersionIsAClearError) {
  std::string text = EncodeOffsetState(Sample());
  const size_t at = text.find("txflow-offset-1");
  text.replace(at, 15, "txflow-offset-2");
  auto r = DecodeOffsetState(text, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'txflow-offset-2' is not supported"),
            std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace txflow
