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
  env_["AWS_EC2_METADATA_DISABLED"] = "true";
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

using Kind = CredentialSource::Kind;

// Every source configured at once: each one, removed in turn, reveals the
// next, in the SDKs' order.
TEST_F(S3ConfigTest, ChainOrderEnvWebIdentityProfileContainerImds) {
  env_["AWS_ACCESS_KEY_ID"] = "AKID";
  env_["AWS_SECRET_ACCESS_KEY"] = "SECRET";
  env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/var/run/token";
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  WriteFile("config", "[default]\ncredential_process = /bin/creds\n");
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/x";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9";
  EXPECT_EQ(Load()->credential_source.kind, Kind::kStatic);
  EXPECT_EQ(Load()->credentials.access_key_id, "AKID");
  env_.erase("AWS_ACCESS_KEY_ID");
  env_.erase("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(Load()->credential_source.kind, Kind::kWebIdentity);
  env_.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  env_.erase("AWS_ROLE_ARN");
  EXPECT_EQ(Load()->credential_source.kind, Kind::kProcess);
  EXPECT_EQ(Load()->credential_source.command, "/bin/creds");
  WriteFile("config", "");
  EXPECT_EQ(Load()->credential_source.kind, Kind::kContainer);
  EXPECT_EQ(Load()->credential_source.url,
            "http://169.254.170.2/v2/credentials/x");
  env_.erase("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  EXPECT_EQ(Load()->credential_source.kind, Kind::kInstanceMetadata);
  EXPECT_EQ(Load()->credential_source.url, "http://127.0.0.1:9");
}

TEST_F(S3ConfigTest, ProfileKeysBeatItsCredentialProcess) {
  WriteFile("credentials",
            "[default]\naws_access_key_id = P\n"
            "aws_secret_access_key = PS\n");
  WriteFile("config", "[default]\ncredential_process = /bin/creds\n");
  EXPECT_EQ(Load()->credential_source.kind, Kind::kStatic);
  EXPECT_EQ(Load()->credentials.access_key_id, "P");
}

TEST_F(S3ConfigTest, WebIdentityDetails) {
  env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/t";
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  env_["AWS_REGION"] = "eu-west-3";
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credential_source.url, "https://sts.eu-west-3.amazonaws.com");
  EXPECT_EQ(c->credential_source.session_name.rfind("txflow-", 0), 0u);
  env_["AWS_ROLE_SESSION_NAME"] = "job-x";
  env_["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:5000";
  // AWS_ENDPOINT_URL names the S3 endpoint here, never STS.
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:7070";
  EXPECT_EQ(Load()->credential_source.session_name, "job-x");
  EXPECT_EQ(Load()->credential_source.url, "http://127.0.0.1:5000");
  env_.erase("AWS_ROLE_ARN");
  auto half = Load();
  ASSERT_EQ(half.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(half.status().message().find("AWS_ROLE_ARN"), std::string::npos);
}

TEST_F(S3ConfigTest, ContainerFullUriMustBeHttpsOrLocal) {
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "CONTAINERSECRET";
  for (const char* ok : {"http://127.0.0.1:8080/creds", "http://localhost/c",
                         "http://169.254.170.23/v1/credentials",
                         "https://creds.example.com/x"}) {
    env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ok;
    auto c = Load();
    ASSERT_TRUE(c.ok()) << ok << ": " << c.status().ToString();
    EXPECT_EQ(c->credential_source.kind, Kind::kContainer);
    EXPECT_EQ(c->credential_source.url, ok);
    EXPECT_EQ(c->credential_source.auth_token, "CONTAINERSECRET");
  }
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://evil.example.com/c";
  auto bad = Load();
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
            std::string::npos);
  EXPECT_EQ(bad.status().message().find("CONTAINERSECRET"), std::string::npos);
  // The relative URI wins over the full one, as in the SDKs.
  env_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/x";
  EXPECT_EQ(Load()->credential_source.url, "http://169.254.170.2/v2/x");
}

// Plain http carries the authorization token only to exact loopback
// addresses and the container agents (botocore's rule): no host name that
// merely starts with "127.", no user-info hiding the real host.
TEST_F(S3ConfigTest, ContainerHttpHostMustBeExactlyLoopbackOrTheAgent) {
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "CONTAINERSECRET";
  for (const char* ok :
       {"http://127.0.0.1:8080/creds", "http://127.1.2.3/c",
        "http://[::1]:80/c", "http://LOCALHOST/c", "http://169.254.170.2/v2/c",
        "http://169.254.170.23/v1/c", "http://[fd00:ec2::23]/v1/c"}) {
    env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ok;
    auto c = Load();
    EXPECT_TRUE(c.ok()) << ok << ": " << c.status().ToString();
  }
  for (const char* bad :
       {"http://127.evil.com/c", "http://127.0.0.1.evil.com/c",
        "http://127.0.0.1@192.0.2.2:18091/creds",
        "http://user:PASSWORDSECRET@127.0.0.1/c",
        "https://user:PASSWORDSECRET@creds.example.com/c",
        "http://[fd00:ec2::24]/c", "http://169.254.170.3/c", "http://[::2]/c",
        "ftp://127.0.0.1/c", "http:///c"}) {
    env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = bad;
    auto c = Load();
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
    const std::string m = c.status().message();
    EXPECT_NE(m.find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos)
        << m;
    EXPECT_EQ(m.find("PASSWORDSECRET"), std::string::npos) << m;
    EXPECT_EQ(m.find("CONTAINERSECRET"), std::string::npos) << m;
  }
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] =
      "http://127.0.0.1@192.0.2.2:18091/creds";
  const std::string m = Load().status().message();
  EXPECT_NE(m.find("http://[user-info removed]@192.0.2.2:18091/creds"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("user or password"), std::string::npos) << m;
}

TEST_F(S3ConfigTest, MetadataIsTheDefaultUnlessDisabled) {
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credential_source.kind, Kind::kInstanceMetadata);
  EXPECT_EQ(c->credential_source.url, "http://169.254.169.254");
  env_["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  EXPECT_EQ(Load().status().code(), StatusCode::kPermissionDenied);
  env_["AWS_EC2_METADATA_DISABLED"] = "false";
  EXPECT_TRUE(Load().ok());
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "169.254.169.254";
  EXPECT_EQ(Load().status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace txflow::s3
