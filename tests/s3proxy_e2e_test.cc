// The txflow binary against a second S3 implementation, s3proxy 2.6.0 with
// its filesystem provider (started by the s3proxy_server ctest fixture),
// which answers 200 to PUTs with If-None-Match: * on an existing key and with
// a stale If-Match, and overwrites. The writer commands must refuse such a
// store with one line; with --assume-single-writer a run must equal the local
// run (docs/s3.md, "Stores tried").
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "process.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

namespace fs = std::filesystem;
using testing::DetectionsWithoutTimes;
using testing::Slurp;
using testing::Spawn;
using testing::TreeOf;
using testing::Wait;

class S3ProxyEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* server = std::getenv("TXFLOW_S3PROXY_TEST_DIR");
    std::string endpoint;
    if (server != nullptr) {
      std::ifstream in(std::string(server) + "/endpoint");
      std::getline(in, endpoint);
    }
    ASSERT_FALSE(endpoint.empty())
        << "s3proxy not running: no endpoint in $TXFLOW_S3PROXY_TEST_DIR ("
        << (server ? server : "unset")
        << "); run the tests through ctest (fixture s3proxy_server)";
    // For the children and for TreeOf/Upload in this process.
    testing::UseS3Endpoint(endpoint);
    ::unsetenv("TXFLOW_FAULT_INJECTION");

    dir_ = fs::path(::testing::TempDir()) /
           ("s3proxy-e2e-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string log = (dir_ / "gen.log").string();
    ASSERT_EQ(Wait(Spawn({"gen", "--out", dir_.string(), "--rows", "200000",
                          "--seed", "11"},
                         log)),
              0)
        << Slurp(log);
    // The local run is the reference.
    const std::string local_log = (dir_ / "local.log").string();
    ASSERT_EQ(Wait(Spawn(Run((dir_ / "transactions.csv").string(),
                             (dir_ / "CustomerImportance.csv").string(),
                             (dir_ / "local").string()),
                         local_log)),
              0)
        << Slurp(local_log);
    base_ = "s3://txflow-test/run-" + std::to_string(::getpid()) + "-" +
            std::to_string(
                std::chrono::steady_clock::now().time_since_epoch().count());
    testing::Upload((dir_ / "transactions.csv").string(), base_ + "/in");
    testing::Upload((dir_ / "CustomerImportance.csv").string(), base_ + "/in");
  }
  static void TearDownTestSuite() {
    if (!base_.empty()) testing::RemoveTree(base_);
    fs::remove_all(dir_);
  }

  static std::vector<std::string> Run(const std::string& source,
                                      const std::string& importance,
                                      const std::string& root) {
    return {"run",          "--drain",  "--source", source,
            "--importance", importance, "--root",   root};
  }
  static std::string Source() { return base_ + "/in/transactions.csv"; }
  static std::string Importance() {
    return base_ + "/in/CustomerImportance.csv";
  }

  // Runs txflow `args` and expects the refusal: exit 1, one line naming the
  // root and both ignored conditions, nothing left under the root.
  static void ExpectRefused(const std::string& command,
                            const std::vector<std::string>& args,
                            const std::string& root) {
    const std::string log = (dir_ / (command + ".log")).string();
    EXPECT_EQ(Wait(Spawn(args, log)), 1) << Slurp(log);
    const std::string out = Slurp(log);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_EQ(out.rfind("txflow " + command + ": " + root +
                            ": the store ignores If-None-Match: * and "
                            "If-Match (",
                        0),
              0u)
        << out;
    EXPECT_NE(out.find("--assume-single-writer"), std::string::npos) << out;
    EXPECT_EQ(out.find("txflow-test-secret"), std::string::npos) << out;
    EXPECT_TRUE(TreeOf(root).empty()) << root;
  }

  static fs::path dir_;
  static std::string base_;
};
fs::path S3ProxyEndToEnd::dir_;
std::string S3ProxyEndToEnd::base_;

TEST_F(S3ProxyEndToEnd, WriterCommandsRefuseAStoreIgnoringConditions) {
  const std::string root = base_ + "/refused";
  ExpectRefused("chunk",
                {"chunk", "--drain", "--source", Source(), "--root", root},
                root);
  ExpectRefused("detect", {"detect", "--drain", "--root", root}, root);
  ExpectRefused("run", Run(Source(), Importance(), root), root);
}

TEST_F(S3ProxyEndToEnd, WithAssumeSingleWriterRunEqualsLocalRun) {
  const std::string root = base_ + "/single";
  const std::string log = (dir_ / "single.log").string();
  auto args = Run(Source(), Importance(), root);
  args.push_back("--assume-single-writer");
  ASSERT_EQ(Wait(Spawn(args, log)), 0) << Slurp(log);
  const std::string out = Slurp(log);
  // One warning that the check was skipped.
  EXPECT_NE(out.find("run: warning: --assume-single-writer: not checking "
                     "that " +
                     root + " honours conditional writes"),
            std::string::npos)
      << out;
  // Chunks byte for byte, detections without their time columns.
  const auto local = TreeOf((dir_ / "local" / "landing_zone").string());
  ASSERT_EQ(local.size(), 20u);
  EXPECT_TRUE(TreeOf(root + "/landing_zone") == local) << root;
  const auto want = DetectionsWithoutTimes((dir_ / "local").string());
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(DetectionsWithoutTimes(root), want) << root;
  // The state is there too, and nothing of the (skipped) probe.
  const auto tree = TreeOf(root);
  EXPECT_TRUE(tree.count("state/offset.csv")) << root;
  for (const auto& [key, bytes] : tree) {
    EXPECT_NE(key.rfind("state/probe/", 0), 0u) << key;
  }
}

}  // namespace
}  // namespace txflow
