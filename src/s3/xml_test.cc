#include "s3/xml.h"

#include <gtest/gtest.h>

namespace txflow::s3 {
namespace {

TEST(Xml, FindsEveryElementInOrderWithoutPrefixMatches) {
  const std::string doc =
      "<R><Contents><Key>a</Key><Size>1</Size></Contents>"
      "<ContentsX>no</ContentsX><Contents><Key>b&amp;c</Key></Contents>"
      "<IsTruncated>false</IsTruncated></R>";
  auto all = XmlElements(doc, "Contents");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(XmlText(all[0], "Key"), "a");
  EXPECT_EQ(XmlText(all[1], "Key"), "b&c");
  EXPECT_EQ(XmlText(doc, "IsTruncated"), "false");
  EXPECT_EQ(XmlText(doc, "Missing"), std::nullopt);
}

TEST(Xml, DecodesNamedAndNumericEntities) {
  EXPECT_EQ(XmlDecode("&lt;&gt;&amp;&quot;&apos;"), "<>&\"'");
  EXPECT_EQ(XmlDecode("&#34;x&#x22;"), "\"x\"");
  EXPECT_EQ(XmlDecode("&#xFC;"), "\xC3\xBC");
  EXPECT_EQ(XmlDecode("&bogus; & &#xZZ;"), "&bogus; & &#xZZ;");
}

TEST(Xml, EscapeRoundTrips) {
  const std::string s = "\"etag\" <&> 'x'";
  EXPECT_EQ(XmlDecode(XmlEscape(s)), s);
}

TEST(Xml, EmptyElementIsEmptyText) {
  EXPECT_EQ(XmlText("<A><B/></A>", "B"), "");
}

}  // namespace
}  // namespace txflow::s3
