#include "common/crc32c.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

// Check values from RFC 3720 (iSCSI) appendix B.4 and the CRC catalogue.
TEST(Crc32c, MatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32c, ExtendsAcrossPieces) {
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), Crc32c("123456789"));
}

TEST(Crc32c, SoftwareMatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32cSoftware("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32cSoftware(std::string(32, '\0')), 0x8A9136AAu);
}

// Whichever implementation Crc32c picked, it agrees with the table on every
// length and alignment, in one piece and split.
TEST(Crc32c, FastPathAgreesWithTableOnRandomInput) {
  std::string data;
  uint32_t x = 12345;
  for (int i = 0; i < 1000; ++i) {
    x = x * 1103515245 + 12345;
    data += static_cast<char>(x >> 16);
  }
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 64, 65, 500, 991}) {
      const std::string_view piece = std::string_view(data).substr(start, len);
      ASSERT_EQ(Crc32c(piece), Crc32cSoftware(piece)) << start << " " << len;
      ASSERT_EQ(Crc32c(piece.substr(len / 3), Crc32c(piece.substr(0, len / 3))),
                Crc32cSoftware(piece));
    }
  }
}

}  // namespace
}  // namespace txflow
