// S3-only behaviour of S3FileSystem against the versitygw server of the
// s3_server fixture (the shared contract is file_system_test.cc).
#include "io/s3_file_system.h"

#include <gtest/gtest.h>

#include <random>

#include "testing/test_storage.h"

namespace txflow {
namespace {

class S3FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseS3TestServer();
    prefix_ =
        testing::S3TestRoot(
            ::testing::UnitTest::GetInstance()->current_test_info()->name())
            .substr(std::string("s3://txflow-test/").size());
  }
  // A file system with small pages and parts, so paging and multipart upload
  // are exercised with little data.
  std::unique_ptr<FileSystem> Open(s3::S3Config tweak(s3::S3Config) = nullptr) {
    auto config = s3::LoadS3Config(s3::ProcessEnv(), "txflow-test");
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    s3::S3Config c = std::move(config).value();
    c.list_page_size = 3;
    c.multipart_threshold = 6 << 20;
    c.part_size = 5 << 20;  // S3's smallest part
    if (tweak != nullptr) c = tweak(c);
    return std::make_unique<S3FileSystem>(
        std::make_shared<s3::S3Client>(c, "txflow-test"), prefix_);
  }
  std::string prefix_;
};

TEST_F(S3FileSystemTest, ListPagesThroughContinuationTokens) {
  auto fs = Open();
  std::vector<std::string> keys;
  for (int i = 0; i < 11; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "p/k%03d", i);
    keys.push_back(name);
    ASSERT_TRUE(fs->Write(name, std::to_string(i)).ok());
  }
  auto all = fs->List({"p/", "", 0});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ((*all)[i].key, keys[i]);
  auto after = fs->List({"p/", "p/k004", 5});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 5u);
  EXPECT_EQ((*after)[0].key, "p/k005");
  EXPECT_EQ((*after)[4].key, "p/k009");
}

TEST_F(S3FileSystemTest, MultipartUploadRoundTripsAndKeepsConditions) {
  auto fs = Open();
  std::mt19937_64 rng(7);
  std::string big((11 << 20) + 17, '\0');
  for (char& c : big) c = static_cast<char>(rng());
  auto w = fs->Write("big", big, {WriteMode::kCreateOnly, ""});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(*fs->Read("big"), big);
  EXPECT_EQ(fs->Stat("big")->size, big.size());
  EXPECT_EQ(*fs->ReadRange("big", (5 << 20) - 1, 3),
            big.substr((5 << 20) - 1, 3));
  // Create-only and compare-and-swap hold for multipart uploads too.
  auto again = fs->Write("big", big + "x", {WriteMode::kCreateOnly, ""});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto stale = fs->Write("big", big + "y",
                         {WriteMode::kReplaceIfMatch, "\"not-the-etag\""});
  EXPECT_EQ(stale.status().code(), StatusCode::kPreconditionFailed);
  auto swapped = fs->Write(
      "big", big + "z", {WriteMode::kReplaceIfMatch, fs->Stat("big")->version});
  ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
  EXPECT_EQ(*fs->Read("big"), big + "z");
  EXPECT_EQ(fs->Stat("big")->version, swapped->version);
}

TEST_F(S3FileSystemTest, KeysWithSpecialCharactersRoundTrip) {
  auto fs = Open();
  const std::vector<std::string> keys = {"sp ace/a+b=c&d", "pct%41/x",
                                         "u/\xC3\xBC\xE2\x82\xAC", "q/'\"!*()",
                                         "t/~tilde,comma;semi"};
  for (const auto& k : keys) {
    auto w = fs->Write(k, k);
    ASSERT_TRUE(w.ok()) << k << ": " << w.status().ToString();
    EXPECT_EQ(*fs->Read(k), k);
  }
  auto all = fs->List({"", "", 0});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> listed;
  for (const auto& info : *all) listed.push_back(info.key);
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
}

TEST_F(S3FileSystemTest, WrongSecretIsRejectedBySignatureCheck) {
  auto good = Open();
  ASSERT_TRUE(good->Write("obj", "data").ok());
  auto fs = Open([](s3::S3Config c) {
    c.credentials.secret_access_key = "definitely-wrong-secret";
    return c;
  });
  const auto before = s3::GlobalS3RequestCounts();
  auto r = fs->Read("obj");
  // A 403 is final: no retry.
  EXPECT_EQ(s3::GlobalS3RequestCounts().retries, before.retries);
  EXPECT_EQ(s3::GlobalS3RequestCounts().Total(), before.Total() + 1);
  ASSERT_EQ(r.status().code(), StatusCode::kPermissionDenied)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("SignatureDoesNotMatch"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("definitely-wrong-secret"),
            std::string::npos);
  EXPECT_EQ(fs->Write("obj", "evil").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(*good->Read("obj"), "data");
}

TEST_F(S3FileSystemTest, UnknownAccessKeyIsPermissionDenied) {
  auto fs = Open([](s3::S3Config c) {
    c.credentials.access_key_id = "nobody";
    return c;
  });
  EXPECT_EQ(fs->Read("x").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fs->Write("x", "v").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fs->List({"", "", 0}).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(S3FileSystemTest, MissingBucketIsAClearError) {
  auto config = s3::LoadS3Config(s3::ProcessEnv(), "no-such-bucket");
  ASSERT_TRUE(config.ok());
  std::unique_ptr<FileSystem> fs = std::make_unique<S3FileSystem>(
      std::make_shared<s3::S3Client>(*config, "no-such-bucket"), "p");
  auto r = fs->Write("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("s3://no-such-bucket/p/k"),
            std::string::npos);
  EXPECT_NE(r.status().message().find("NoSuchBucket"), std::string::npos)
      << r.status().message();
}

// S3 keys may hold "..", empty components and control bytes; txflow never
// writes them, but a listing can return them (versitygw normalizes some on
// upload; AWS keeps them). Whatever comes back, reading it through the root
// either is refused (InvalidArgument for ".." and empty components) or
// reads an object under the root: never the object outside.
TEST_F(S3FileSystemTest, HostileKeysInAListingCannotEscapeTheRoot) {
  auto fs = Open();
  ASSERT_TRUE(fs->Write("outside", "secret").ok());
  auto config = s3::LoadS3Config(s3::ProcessEnv(), "txflow-test");
  ASSERT_TRUE(config.ok());
  s3::S3Client raw(*config, "txflow-test");
  for (const std::string key :
       {"root/landing_zone/../outside", "root/landing_zone//x",
        "root/landing_zone/\x01"}) {
    const std::string body = "x";
    auto r = raw.Execute({"PUT", prefix_ + "/" + key, {}, {}, body}, key);
    ASSERT_TRUE(r.ok() && r->status == 200)
        << key << ": " << (r.ok() ? r->Describe() : r.status().ToString());
  }
  auto root = std::make_unique<S3FileSystem>(
      std::make_shared<s3::S3Client>(*config, "txflow-test"),
      prefix_ + "/root");
  auto list = root->List({"landing_zone/", "", 0});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_FALSE(list->empty());
  for (const auto& info : *list) {
    auto read = root->Read(info.key);
    if (!ValidateKey(info.key).ok()) {
      EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << info.key;
    }
    EXPECT_TRUE(!read.ok() || *read == "x") << info.key;
  }
  EXPECT_EQ(*fs->Read("outside"), "secret");
}

TEST_F(S3FileSystemTest, UnreachableEndpointIsRetryableAfterBoundedAttempts) {
  auto fs = Open([](s3::S3Config c) {
    c.endpoint.port = 1;  // nothing listens on port 1 of loopback
    c.max_attempts = 3;
    c.backoff_base_ms = 1;
    return c;
  });
  const auto before = s3::GlobalS3RequestCounts();
  auto r = fs->Read("x");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("3 attempts"), std::string::npos);
  EXPECT_EQ(s3::GlobalS3RequestCounts().retries - before.retries, 2u);
}

}  // namespace
}  // namespace txflow
