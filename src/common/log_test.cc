#include "common/log.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

TEST(JsonString, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(JsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonString("l1\nl2\tx"), R"("l1\nl2\tx")");
  EXPECT_EQ(JsonString(std::string_view("\x01\x1b\x7f\0", 4)),
            R"("\u0001\u001b\u007f\u0000")");
}

TEST(JsonString, KeepsValidUtf8AsIs) {
  // é (2 bytes), € (3 bytes), 😀 (4 bytes).
  EXPECT_EQ(JsonString("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
            "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

TEST(JsonString, ReplacesEachInvalidByteWithTheReplacementCharacter) {
  EXPECT_EQ(JsonString("\xff"), R"("\ufffd")");
  EXPECT_EQ(JsonString("\xc3("), R"("\ufffd(")");          // truncated sequence
  EXPECT_EQ(JsonString("\xc0\xaf"), R"("\ufffd\ufffd")");  // overlong '/'
  EXPECT_EQ(JsonString("\xed\xa0\x80"),
            R"("\ufffd\ufffd\ufffd")");  // a UTF-16 surrogate
  EXPECT_EQ(JsonString("\xf4\x90\x80\x80"),
            R"("\ufffd\ufffd\ufffd\ufffd")");              // past U+10FFFF
  EXPECT_EQ(JsonString("\xe2\x82"), R"("\ufffd\ufffd")");  // cut at the end
}

}  // namespace
}  // namespace txflow
