#include "status/root_status.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

DetectorCheckpoint Sample() {
  DetectorCheckpoint c;
  c.chunks = 7;
  c.last_chunk_key = "landing_zone/chunk-000000006000.csv";
  c.next_record = 7000;
  c.records = 7000;
  c.bad_rows = 2;
  c.detections = 53;
  c.written = 50;
  c.files = 1;
  c.per_pattern = {40, 10, 3};
  for (int i = 0; i < 3; ++i) {
    c.pending.push_back(Detection{
        Pattern::kChild, "C" + std::to_string(i), "M1", 1000 + i, {}});
  }
  c.merchant_count = 1;
  c.merchants = std::string(200'000, 'x');  // stands for a large state
  return c;
}

TEST(DecodeCheckpointHeader, ReadsCountersAndPendingFromAPrefix) {
  const std::string image = EncodeCheckpoint(Sample());
  auto c = DecodeCheckpointHeader(std::string_view(image).substr(0, 4096),
                                  image.size(), "ckpt");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->chunks, 7u);
  EXPECT_EQ(c->last_chunk_key, "landing_zone/chunk-000000006000.csv");
  EXPECT_EQ(c->next_record, 7000u);
  EXPECT_EQ(c->bad_rows, 2u);
  EXPECT_EQ(c->detections, 53u);
  EXPECT_EQ(c->files, 1u);
  EXPECT_EQ(c->per_pattern[2], 3u);
  ASSERT_EQ(c->pending.size(), 3u);
  EXPECT_EQ(c->pending[2].customer, "C2");
  EXPECT_TRUE(c->merchants.empty());
}

TEST(DecodeCheckpointHeader, RefusesAPrefixEndingInsideTheFields) {
  const std::string image = EncodeCheckpoint(Sample());
  auto c = DecodeCheckpointHeader(std::string_view(image).substr(0, 40),
                                  image.size(), "ckpt");
  EXPECT_EQ(c.status().code(), StatusCode::kCorruption);
}

TEST(DecodeCheckpointHeader, RefusesASizeThatDisagreesWithTheLength) {
  const std::string image = EncodeCheckpoint(Sample());
  auto c = DecodeCheckpointHeader(image, image.size() - 1, "ckpt");
  EXPECT_EQ(c.status().code(), StatusCode::kCorruption);
  EXPECT_NE(c.status().message().find("ckpt"), std::string::npos);
}

TEST(ListPages, SplitsWhatTheFixedReadsLeaveAmongThreeListings) {
  EXPECT_EQ(ListPages(15), 1u);   // 12 fixed + 3 x 1
  EXPECT_EQ(ListPages(42), 10u);  // the default
  EXPECT_EQ(ListPages(43), 10u);
  EXPECT_EQ(ListPages(45), 11u);
}

}  // namespace
}  // namespace txflow
