#include "common/uri.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

TEST(ParseUri, PlainPathIsLocal) {
  auto u = ParseUri("./bucket");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "file");
  EXPECT_EQ(u->path, "./bucket");
}

TEST(ParseUri, FileUriNeedsAbsolutePath) {
  auto u = ParseUri("file:///data/bucket");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->path, "/data/bucket");
  EXPECT_FALSE(ParseUri("file://host/data").ok());
}

TEST(ParseUri, ObjectStoreSplitsBucketAndPrefix) {
  auto u = ParseUri("S3://my-bucket/a/b/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "s3");
  EXPECT_EQ(u->authority, "my-bucket");
  EXPECT_EQ(u->path, "a/b");
  auto m = ParseUri("mem://store");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->authority, "store");
  EXPECT_EQ(m->path, "");
}

TEST(ParseUri, RejectsUnknownSchemeAndMissingBucket) {
  auto bad = ParseUri("gs://b/x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown scheme 'gs'"),
            std::string::npos);
  EXPECT_FALSE(ParseUri("s3:///x").ok());
  EXPECT_FALSE(ParseUri("").ok());
}

}  // namespace
}  // namespace txflow
