// Credentials as deployed (issue 13): txflow on a versitygw with IAM users,
// its credentials coming only from AWS's EC2 instance metadata mock (IMDSv2),
// rotated in the middle of a `txflow run --drain`. Both servers are started by
// the ctest fixture imds_mock (tests/s3/imds_mock.sh); the tests rewrite the
// mock's watched config file and create and delete users with `versitygw
// admin`. The output must equal a run with plain environment keys, and no
// secret may appear in the output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gen/banksim_generator.h"
#include "process.h"
#include "s3/credential_sources.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::DetectionsWithoutTimes;
using testing::EnvChanges;
using testing::Slurp;
using testing::Spawn;
using testing::TreeOf;
using testing::Wait;

const char kRootKey[] = "txflow-imds-root";
const char kRootSecret[] = "txflow-imds-root-secret";

std::string ReadLine(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string Utc(std::chrono::system_clock::time_point t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class CredentialsEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* d = std::getenv("TXFLOW_IMDS_TEST_DIR");
    ASSERT_NE(d, nullptr) << "TXFLOW_IMDS_TEST_DIR unset (fixture imds_mock)";
    fixture_ = d;
    s3_ = ReadLine(fixture_ / "s3" / "endpoint");
    mock_ = ReadLine(fixture_ / "mock" / "endpoint");
    ASSERT_FALSE(s3_.empty() || mock_.empty()) << "fixture imds_mock not up";
    testing::UseS3Endpoint(s3_);
    ::setenv("AWS_ACCESS_KEY_ID", kRootKey, 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", kRootSecret, 1);
    // The data and the reference run are made once per fixture (the tests
    // run one at a time, RESOURCE_LOCK imds_mock): the same run with the
    // root's keys in the environment.
    dir_ = fixture_ / "data";
    prefix_ = "creds";
    if (fs::exists(dir_ / "env.done")) return;
    fs::remove_all(dir_);
    ASSERT_TRUE(
        GenerateDataset(dir_.string(), GeneratorOptions{200'000, 7, 0}).ok());
    const std::string log = (dir_ / "env.log").string();
    ASSERT_EQ(Wait(Spawn(RunArgs(Root("env")), log)), 0) << Slurp(log);
    std::ofstream(dir_ / "env.done") << "1\n";
  }

  static std::string Root(const std::string& name) {
    return "s3://txflow-test/" + prefix_ + "/" + name;
  }
  // 2,000 chunks of 100 records: long enough (seconds) to rotate mid-run.
  static std::vector<std::string> RunArgs(const std::string& root) {
    return {"run",          "--drain",
            "--chunk-rows", "100",
            "--source",     (dir_ / "transactions.csv").string(),
            "--importance", (dir_ / "CustomerImportance.csv").string(),
            "--root",       root};
  }
  // Credentials only from the mock: no keys, no profile files.
  static EnvChanges ImdsOnly() {
    const std::string none = (dir_ / "no-such-file").string();
    EnvChanges env = {{"AWS_SHARED_CREDENTIALS_FILE", none},
                      {"AWS_CONFIG_FILE", none},
                      {"AWS_EC2_METADATA_SERVICE_ENDPOINT", mock_}};
    for (const char* unset :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
          "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
          "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED"}) {
      env.emplace_back(unset, std::nullopt);
    }
    return env;
  }

  static int Admin(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"admin",     "-a",   kRootKey, "-s",
                                    kRootSecret, "--er", s3_};
    all.insert(all.end(), args.begin(), args.end());
    return Wait(testing::SpawnBinary(TXFLOW_VERSITYGW_BINARY, all));
  }
  static void CreateUser(const std::string& key) {
    ASSERT_EQ(
        Admin({"create-user", "-a", key, "-s", key + "-secret", "-r", "admin"}),
        0);
  }

  // Makes the mock serve `key` (secret key + "-secret") expiring at
  // `expiration` (the mock rereads its watched file) and waits until it does.
  static void Serve(const std::string& key,
                    std::chrono::system_clock::time_point expiration) {
    const fs::path config = fixture_ / "mock" / "config.json";
    std::ofstream(config.string() + ".tmp")
        << R"({"metadata": {"paths": {"iam-security-credentials": )"
        << R"("/latest/meta-data/iam/security-credentials/txflow-role"},)"
        << R"("values": {"iam-security-credentials-role": "txflow-role",)"
        << R"("iam-security-credentials": {"Code": "Success", "Type": "AWS-HMAC",)"
        << R"("LastUpdated": ")" << Utc(std::chrono::system_clock::now())
        << R"(", "AccessKeyId": ")" << key << R"(", "SecretAccessKey": ")"
        << key << R"(-secret", "Token": "", "Expiration": ")" << Utc(expiration)
        << R"("}}}})";
    fs::rename(config.string() + ".tmp", config);
    s3::CredentialSource source;
    source.kind = s3::CredentialSource::Kind::kInstanceMetadata;
    source.url = mock_;
    s3::HttpClient http({});
    for (int i = 0; i < 500; ++i) {
      auto got = s3::FetchInstanceMetadata(source, http);
      if (got.ok() && got->credentials.access_key_id == key) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "the mock never served " << key;
  }

  static size_t Chunks(const std::string& name) {
    const fs::path lz = fixture_ / "s3" / "root" / "txflow-test" / prefix_ /
                        name / "landing_zone";
    std::error_code ec;
    size_t n = 0;
    for (auto it = fs::directory_iterator(lz, ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    return n;
  }
  static void WaitForChunks(const std::string& name, pid_t pid) {
    for (int i = 0; i < 3000 && Chunks(name) == 0; ++i) {
      ASSERT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "run ended early";
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_GT(Chunks(name), 0u);
  }
  static bool Running(pid_t pid) {
    return ::waitpid(pid, nullptr, WNOHANG) == 0;
  }

  static void ExpectSameOutputAsEnvRun(const std::string& root) {
    const auto want = TreeOf(Root("env") + "/landing_zone");
    ASSERT_EQ(want.size(), 2000u);
    EXPECT_TRUE(TreeOf(root + "/landing_zone") == want) << root;
    const auto detections = DetectionsWithoutTimes(Root("env"));
    ASSERT_FALSE(detections.empty());
    EXPECT_EQ(DetectionsWithoutTimes(root), detections) << root;
  }
  static void ExpectNoSecret(const std::string& out) {
    for (const std::string secret :
         {"-secret", kRootSecret, "X-aws-ec2-metadata-token"}) {
      EXPECT_EQ(out.find(secret), std::string::npos) << secret << "\n" << out;
    }
  }

  static fs::path fixture_, dir_;
  static std::string s3_, mock_, prefix_;
};
fs::path CredentialsEndToEnd::fixture_;
fs::path CredentialsEndToEnd::dir_;
std::string CredentialsEndToEnd::s3_;
std::string CredentialsEndToEnd::mock_;
std::string CredentialsEndToEnd::prefix_;

// The fixture's stop removes the servers' data and dir_.

// The first key pair is deleted from the server in the middle of the run,
// after the mock has rotated to the second: the next request is refused
// (403 InvalidAccessKeyId), the client fetches the new pair at once and
// repeats the request, and the run ends as the environment-key run did.
TEST_F(CredentialsEndToEnd, RotationWithOldKeyRevokedMidRunEqualsEnvKeyRun) {
  const std::string k1 = "revoke-key-1", k2 = "revoke-key-2";
  CreateUser(k1);
  CreateUser(k2);
  const auto later = std::chrono::system_clock::now() + 1h;
  Serve(k1, later);
  const std::string log = (dir_ / "revoke.log").string();
  const pid_t pid = Spawn(RunArgs(Root("revoke")), log, ImdsOnly());
  WaitForChunks("revoke", pid);
  Serve(k2, later);
  ASSERT_EQ(Admin({"delete-user", "-a", k1}), 0);
  const bool mid_run = Running(pid);
  ASSERT_EQ(Wait(pid), 0) << Slurp(log);
  EXPECT_TRUE(mid_run) << "the run ended before the rotation";
  ExpectSameOutputAsEnvRun(Root("revoke"));
  const std::string out = Slurp(log);
  EXPECT_NE(out.find("access key id " + k2), std::string::npos) << out;
  ExpectNoSecret(out);
}

// The first pair expires a few seconds into the run and stays valid on the
// server: the client fetches the rotated pair before the expiry, on its own,
// without any refused request (no retries).
TEST_F(CredentialsEndToEnd, ShortLivedCredentialsAreRefreshedBeforeExpiry) {
  const std::string k1 = "expire-key-1", k2 = "expire-key-2";
  CreateUser(k1);
  CreateUser(k2);
  // Two seconds: the client refreshes half way through a lifetime this short,
  // so well inside a run of about three seconds even on an idle machine (4 s
  // let a fast run end before its refresh).
  Serve(k1, std::chrono::system_clock::now() + 2s);
  const std::string log = (dir_ / "expire.log").string();
  const pid_t pid = Spawn(RunArgs(Root("expire")), log, ImdsOnly());
  WaitForChunks("expire", pid);
  Serve(k2, std::chrono::system_clock::now() + 1h);
  const bool mid_run = Running(pid);
  ASSERT_EQ(Wait(pid), 0) << Slurp(log);
  EXPECT_TRUE(mid_run) << "the run ended before the rotation";
  ExpectSameOutputAsEnvRun(Root("expire"));
  const std::string out = Slurp(log);
  EXPECT_NE(out.find("access key id " + k2), std::string::npos) << out;
  EXPECT_NE(out.find(", retries 0"), std::string::npos) << out;
  ExpectNoSecret(out);
}

// A pair the server does not know: refused, fetched again, refused again:
// one line naming the object and the key id, exit 1, no secret.
TEST_F(CredentialsEndToEnd, UnknownKeyFromMetadataIsOneClearLine) {
  Serve("unknown-key", std::chrono::system_clock::now() + 1h);
  const std::string log = (dir_ / "unknown.log").string();
  EXPECT_EQ(Wait(Spawn({"detect", "--drain", "--root", Root("unknown")}, log,
                       ImdsOnly())),
            1);
  const std::string out = Slurp(log);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("InvalidAccessKeyId"), std::string::npos) << out;
  ExpectNoSecret(out);
}

// IMDSv2 as the mock (-I) enforces it: the token PUT comes first; a missing
// mock is a fast "no AWS credentials" line, not a hang.
TEST_F(CredentialsEndToEnd, MetadataFetchUsesTokenAndUnreachableFailsFast) {
  Serve("token-key", std::chrono::system_clock::now() + 1h);
  s3::CredentialSource source;
  source.kind = s3::CredentialSource::Kind::kInstanceMetadata;
  source.url = mock_;
  s3::HttpClient http({});
  auto got = s3::FetchInstanceMetadata(source, http);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->credentials.secret_access_key, "token-key-secret");
  ASSERT_TRUE(got->expiration.has_value());
  // Without a token the mock refuses (what an IMDSv1 client would get).
  auto plain = http.Send(
      {"GET", mock_ + "/latest/meta-data/iam/security-credentials/", {}, {}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 401);

  source.url = "http://127.0.0.1:1";
  const auto start = std::chrono::steady_clock::now();
  auto none = s3::FetchInstanceMetadata(source, http);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(none.status().message().find("no AWS credentials"),
            std::string::npos);
  EXPECT_NE(none.status().message().find("http://127.0.0.1:1"),
            std::string::npos);
}

}  // namespace
}  // namespace txflow
