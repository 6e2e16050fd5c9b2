#include "common/utf8.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

TEST(Utf8Sanitize, KeepsValidUtf8AsIs) {
  // é (2 bytes), € (3 bytes), 😀 (4 bytes).
  const std::string valid = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  EXPECT_EQ(Utf8Sanitize(valid), valid);
}

TEST(Utf8Sanitize, ReplacesEachInvalidByteWithTheReplacementCharacter) {
  EXPECT_EQ(Utf8Sanitize("\xff\xc3("), "\xef\xbf\xbd\xef\xbf\xbd(");
  EXPECT_EQ(Utf8Sanitize("x\xe2\x82"), "x\xef\xbf\xbd\xef\xbf\xbd");  // cut
}

}  // namespace
}  // namespace txflow
