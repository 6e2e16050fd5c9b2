#include "s3/s3_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace txflow::s3 {
namespace {

class S3ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("txflow-s3cfg-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / ".aws");
    env_["HOME"] = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / ".aws" / name) << text;
  }
  Result<S3Config> Load(const std::string& bucket = "bkt") {
    auto env = env_;
    return LoadS3Config(
        [env](std::string_view name) -> std::optional<std::string> {
          auto it = env.find(std::string(name));
          if (it == env.end()) return std::nullopt;
          return it->second;
        },
        bucket);
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(S3ConfigTest, EnvironmentCredentialsAndAwsDefaults) {
  env_["AWS_ACCESS_KEY_ID"] = "AKID";
  env_["AWS_SECRET_ACCESS_KEY"] = "SECRET";
  env_["AWS_SESSION_TOKEN"] = "TOKEN";
  env_["AWS_DEFAULT_REGION"] = "ap-south-1";
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "AKID");
  EXPECT_EQ(c->credentials.secret_access_key, "SECRET");
  EXPECT_EQ(c->credentials.session_token, "TOKEN");
  EXPECT_EQ(c->region, "ap-south-1");
  EXPECT_EQ(c->endpoint.scheme, "https");
  EXPECT_EQ(c->endpoint.Authority(), "s3.ap-south-1.amazonaws.com");
  EXPECT_FALSE(c->path_style);
  // A dotted bucket cannot be a TLS-valid virtual host.
  EXPECT_TRUE(Load("a.b")->path_style);
}

TEST_F(S3ConfigTest, AwsRegionWinsOverDefaultRegion) {
  env_["AWS_ACCESS_KEY_ID"] = "A";
  env_["AWS_SECRET_ACCESS_KEY"] = "S";
  env_["AWS_REGION"] = "eu-west-1";
  env_["AWS_DEFAULT_REGION"] = "us-west-2";
  EXPECT_EQ(Load()->region, "eu-west-1");
}

TEST_F(S3ConfigTest, ProfileFromCredentialsAndConfigFiles) {
  WriteFile(
      "credentials",
      "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n"
      "# comment\n[work]\naws_access_key_id=W\naws_secret_access_key=WS\n");
  WriteFile("config",
            "[profile work]\nregion = eu-central-1\n"
            "endpoint_url = http://127.0.0.1:9000\n"
            "s3 =\n  addressing_style = virtual\n");
  env_["AWS_PROFILE"] = "work";
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "W");
  EXPECT_EQ(c->credentials.secret_access_key, "WS");
  EXPECT_EQ(c->region, "eu-central-1");
  EXPECT_EQ(c->endpoint.scheme, "http");
  EXPECT_EQ(c->endpoint.Authority(), "127.0.0.1:9000");
  EXPECT_FALSE(c->path_style);

  env_.erase("AWS_PROFILE");
  c = Load();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->credentials.access_key_id, "D");
}

TEST_F(S3ConfigTest, CustomEndpointMeansPathStyleAndFlagWinsOverProfile) {
  env_["AWS_ACCESS_KEY_ID"] = "A";
  env_["AWS_SECRET_ACCESS_KEY"] = "S";
  WriteFile("config", "[default]\nendpoint_url = http://profile:1\n");
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:7070/";
  auto c = Load();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint.Authority(), "127.0.0.1:7070");
  EXPECT_TRUE(c->path_style);
  env_["AWS_ENDPOINT_URL_S3"] = "https://s3only:443";
  EXPECT_EQ(Load()->endpoint.Authority(), "s3only");
}

TEST_F(S3ConfigTest, MissingCredentialsIsOneClearError) {
  auto c = Load();
  ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST_F(S3ConfigTest, HalfAKeyPairIsRefusedWithoutPrintingIt) {
  env_["AWS_SECRET_ACCESS_KEY"] = "TOPSECRETVALUE";
  auto c = Load();
  ASSERT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("TOPSECRETVALUE"), std::string::npos);
}

TEST_F(S3ConfigTest, UnknownProfileIsAnError) {
  env_["AWS_PROFILE"] = "nope";
  auto c = Load();
  ASSERT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("nope"), std::string::npos);
}

TEST_F(S3ConfigTest, BadEndpointsAndTuningAreRefused) {
  env_["AWS_ACCESS_KEY_ID"] = "A";
  env_["AWS_SECRET_ACCESS_KEY"] = "S";
  for (const char* bad : {"ftp://x", "http://", "http://h:0", "http://h/path",
                          "127.0.0.1:9000", "http://h:70000"}) {
    env_["AWS_ENDPOINT_URL"] = bad;
    EXPECT_EQ(Load().status().code(), StatusCode::kInvalidArgument) << bad;
  }
  env_.erase("AWS_ENDPOINT_URL");
  env_["TXFLOW_S3_MAX_ATTEMPTS"] = "0";
  EXPECT_EQ(Load().status().code(), StatusCode::kInvalidArgument);
  env_["TXFLOW_S3_MAX_ATTEMPTS"] = "3";
  env_["TXFLOW_S3_PART_SIZE"] = "1048576";  // under S3's 5 MiB minimum
  EXPECT_EQ(Load().status().code(), StatusCode::kInvalidArgument);
  env_["TXFLOW_S3_PART_SIZE"] = "8388608";
  EXPECT_EQ(Load()->max_attempts, 3);
  EXPECT_EQ(Load()->part_size, 8388608u);
}

}  // namespace
}  // namespace txflow::s3
