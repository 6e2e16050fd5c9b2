// The txflow binary with the source, the importance table and the root on the
// S3 test server (versitygw, started by the s3_server ctest fixture): the
// output must be the local run's, also when a proxy in between answers 503
// and drops connections; bad credentials give one clear line.
#include <gtest/gtest.h>

#include <filesystem>

#include "gen/banksim_generator.h"
#include "process.h"
#include "s3/fault_proxy.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

namespace fs = std::filesystem;
using testing::DetectionsWithoutTimes;
using testing::Slurp;
using testing::Spawn;
using testing::TreeOf;
using testing::Wait;

class S3EndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) /
           ("s3-e2e-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ASSERT_TRUE(
        GenerateDataset(dir_.string(), GeneratorOptions{300'000, 11, 0}).ok());
    // The local run is the reference.
    ASSERT_EQ(Wait(Spawn(Run((dir_ / "transactions.csv").string(),
                             (dir_ / "CustomerImportance.csv").string(),
                             (dir_ / "local").string()))),
              0);
    base_ = testing::S3TestRoot("e2e");
    testing::Upload((dir_ / "transactions.csv").string(), base_ + "/in");
    testing::Upload((dir_ / "CustomerImportance.csv").string(), base_ + "/in");
  }
  static void TearDownTestSuite() {
    testing::RemoveTree(base_);
    fs::remove_all(dir_);
  }

  static std::vector<std::string> Run(const std::string& source,
                                      const std::string& importance,
                                      const std::string& root) {
    return {"run",          "--drain",  "--source", source,
            "--importance", importance, "--root",   root};
  }
  static std::vector<std::string> RunOnS3(const std::string& root) {
    return Run(base_ + "/in/transactions.csv",
               base_ + "/in/CustomerImportance.csv", root);
  }
  // Chunks byte for byte, detections without their time columns.
  static void ExpectSameOutputAsLocal(const std::string& root) {
    auto local = TreeOf((dir_ / "local" / "landing_zone").string());
    auto remote = TreeOf(root + "/landing_zone");
    ASSERT_EQ(local.size(), 30u);
    EXPECT_TRUE(local == remote) << root;
    const auto want = DetectionsWithoutTimes((dir_ / "local").string());
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(DetectionsWithoutTimes(root), want) << root;
  }

  static fs::path dir_;
  static std::string base_;
};
fs::path S3EndToEnd::dir_;
std::string S3EndToEnd::base_;

TEST_F(S3EndToEnd, RunWithEverythingOnS3EqualsLocalRun) {
  const std::string root = base_ + "/plain";
  const std::string log = (dir_ / "plain.log").string();
  ASSERT_EQ(Wait(Spawn(RunOnS3(root), log)), 0) << Slurp(log);
  ExpectSameOutputAsLocal(root);
  // The summary reports the requests sent (the cost model of docs/s3.md).
  EXPECT_NE(Slurp(log).find("s3 requests: "), std::string::npos) << Slurp(log);
}

TEST_F(S3EndToEnd, SeparateChunkAndDetectOnS3EqualLocalRun) {
  const std::string root = base_ + "/separate";
  ASSERT_EQ(Wait(Spawn({"chunk", "--drain", "--source",
                        base_ + "/in/transactions.csv", "--root", root})),
            0);
  ASSERT_EQ(Wait(Spawn({"detect", "--drain", "--root", root, "--importance",
                        base_ + "/in/CustomerImportance.csv"})),
            0);
  ExpectSameOutputAsLocal(root);
}

TEST_F(S3EndToEnd, FlakyNetworkChangesNothing) {
  const std::string endpoint = testing::S3TestEndpoint();
  const int upstream = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  uint64_t requests = 0, slow_down = 0, drop_request = 0, drop_response = 0,
           truncate = 0;
  for (uint64_t seed : {20261125u, 7u, 99u}) {
    testing::FaultProxy proxy(upstream, {0.08, 0.04, 0.04, 0.04}, seed);
    const int port = proxy.Start();
    ASSERT_GT(port, 0);
    const std::string root = base_ + "/flaky-" + std::to_string(seed);
    const std::string log = (dir_ / "flaky.log").string();
    auto args = RunOnS3(root);
    args.insert(args.end(),
                {"--s3-endpoint", "http://127.0.0.1:" + std::to_string(port)});
    ASSERT_EQ(Wait(Spawn(args, log, {{"TXFLOW_S3_MAX_ATTEMPTS", "12"}})), 0)
        << Slurp(log);
    proxy.Stop();
    const auto& c = proxy.counts();
    requests += c.requests;
    slow_down += c.slow_down;
    drop_request += c.drop_request;
    drop_response += c.drop_response;
    truncate += c.truncate;
    EXPECT_NE(Slurp(log).find("retries "), std::string::npos);
    ExpectSameOutputAsLocal(root);
  }
  std::printf(
      "proxy: %llu requests; 503 %llu, dropped before %llu, dropped after "
      "%llu, truncated %llu\n",
      static_cast<unsigned long long>(requests),
      static_cast<unsigned long long>(slow_down),
      static_cast<unsigned long long>(drop_request),
      static_cast<unsigned long long>(drop_response),
      static_cast<unsigned long long>(truncate));
  // Enough of each fault that every kind certainly happened.
  EXPECT_GE(slow_down, 10u);
  EXPECT_GE(drop_request, 3u);
  EXPECT_GE(drop_response, 3u);
  EXPECT_GE(truncate, 3u);
}

TEST_F(S3EndToEnd, WrongSecretIsOneClearLineAndWritesNothing) {
  const std::string root = base_ + "/wrong-secret";
  const std::string log = (dir_ / "wrong.log").string();
  const std::string secret = "not-the-secret-9f8e7d";
  EXPECT_EQ(Wait(Spawn({"chunk", "--drain", "--source",
                        base_ + "/in/transactions.csv", "--root", root},
                       log, {{"AWS_SECRET_ACCESS_KEY", secret}})),
            1);
  const std::string out = Slurp(log);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("SignatureDoesNotMatch"), std::string::npos) << out;
  EXPECT_NE(out.find(base_), std::string::npos) << out;
  EXPECT_EQ(out.find(secret), std::string::npos) << out;
  EXPECT_EQ(out.find("txflow-test-secret"), std::string::npos) << out;
  EXPECT_TRUE(TreeOf(root).empty());
}

TEST_F(S3EndToEnd, MissingCredentialsIsOneClearLine) {
  const std::string log = (dir_ / "nocreds.log").string();
  EXPECT_EQ(Wait(Spawn({"detect", "--drain", "--root", base_ + "/nocreds"}, log,
                       {{"AWS_ACCESS_KEY_ID", std::nullopt},
                        {"AWS_SECRET_ACCESS_KEY", std::nullopt},
                        {"HOME", dir_.string()}})),
            1);
  const std::string out = Slurp(log);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("no AWS credentials"), std::string::npos) << out;
}

}  // namespace
}  // namespace txflow
