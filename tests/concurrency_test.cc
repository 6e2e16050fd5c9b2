// X and Y at the same time on one root (SPEC §6): `txflow run` with tiny
// chunks, and `txflow chunk` beside a separate `txflow detect` that polls
// every 10 ms. A listing is no snapshot while chunks are being written, so
// these runs are where a detector that trusted one would fail or skip a
// chunk. Every run must succeed and equal the sequential run (chunk --drain,
// then detect --drain): the same chunks byte for byte, the same detection
// files (time columns aside). On local directories, and
// (TXFLOW_TEST_STORAGE=s3) with the source and every root on the S3 server.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "gen/banksim_generator.h"
#include "process.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

namespace fs = std::filesystem;
using testing::DetectionsWithoutTimes;
using testing::EvidenceFiles;
using testing::Slurp;
using testing::Spawn;
using testing::TreeOf;
using testing::Wait;

constexpr int kRuns = 5;
constexpr uint64_t kRecords = 50'000;

class XAndYTogether : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) /
           ("x-and-y-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ASSERT_TRUE(
        GenerateDataset(dir_.string(), GeneratorOptions{kRecords, 29, 0}).ok());
    source_ = (dir_ / "transactions.csv").string();
    importance_ = (dir_ / "CustomerImportance.csv").string();
    base_ = dir_.string();
    if (testing::UsingS3()) {
      base_ = testing::S3TestRoot("x-and-y");
      ASSERT_NO_FATAL_FAILURE(testing::Upload(source_, base_ + "/in"));
      ASSERT_NO_FATAL_FAILURE(testing::Upload(importance_, base_ + "/in"));
      source_ = base_ + "/in/transactions.csv";
      importance_ = base_ + "/in/CustomerImportance.csv";
    }
    // The sequential run: X drains, then Y drains.
    const std::string ref = base_ + "/sequential";
    ASSERT_EQ(Wait(Spawn(Chunk(ref))), 0);
    ASSERT_EQ(Wait(Spawn(Detect(ref, {"--drain"}))), 0);
    chunks_ =
        new std::map<std::string, std::string>(TreeOf(ref + "/landing_zone"));
    detections_ = new std::vector<std::string>(DetectionsWithoutTimes(ref));
    evidence_ = new std::vector<std::string>(EvidenceFiles(ref));
    ASSERT_EQ(evidence_->size(), DetectionFileCount(ref));
    ASSERT_EQ(chunks_->size(), kRecords / 50);
    // Enough detections to make the comparison mean something.
    ASSERT_GE(detections_->size(), 3u);
  }
  static void TearDownTestSuite() {
    if (testing::UsingS3()) testing::RemoveTree(base_);
    fs::remove_all(dir_);
    delete chunks_;
    delete detections_;
    delete evidence_;
  }
  static size_t DetectionFileCount(const std::string& root) {
    size_t n = 0;
    for (const auto& [name, bytes] : TreeOf(root + "/detections"))
      n += name.rfind("detections_", 0) == 0;
    return n;
  }

  static std::vector<std::string> Chunk(const std::string& root) {
    return {"chunk",    "--drain", "--chunk-rows", "50",
            "--source", source_,   "--root",       root};
  }
  // Low thresholds, so that all three patterns fire on 50,000 records.
  static std::vector<std::string> Thresholds() {
    return {"--upgrade-min-txns", "300", "--child-min-txns", "8",
            "--dei-min-female",   "20"};
  }
  static std::vector<std::string> Detect(const std::string& root,
                                         std::vector<std::string> extra) {
    std::vector<std::string> args = {"detect", "--root", root, "--importance",
                                     importance_};
    for (auto& a : Thresholds()) args.push_back(a);
    for (auto& a : extra) args.push_back(a);
    return args;
  }
  static void ExpectSequentialOutput(const std::string& root,
                                     const std::string& what) {
    EXPECT_TRUE(TreeOf(root + "/landing_zone") == *chunks_)
        << what << ": chunks differ from the sequential run's";
    EXPECT_EQ(DetectionsWithoutTimes(root), *detections_) << what;
    // Evidence for every detection file, the same as the sequential run's.
    EXPECT_EQ(EvidenceFiles(root), *evidence_) << what;
  }

  static inline fs::path dir_;
  static inline std::string source_, importance_, base_;
  static inline std::map<std::string, std::string>* chunks_ = nullptr;
  static inline std::vector<std::string>* detections_ = nullptr;
  static inline std::vector<std::string>* evidence_ = nullptr;
};

TEST_F(XAndYTogether, RunDrainWithFiftyRecordChunksEqualsSequentialRun) {
  for (int run = 0; run < kRuns; ++run) {
    const std::string root = base_ + "/run-" + std::to_string(run);
    const std::string log = (dir_ / ("run-" + std::to_string(run) + ".log"));
    std::vector<std::string> args = {
        "run", "--drain",      "--source", source_,        "--root",
        root,  "--chunk-rows", "50",       "--importance", importance_};
    for (auto& a : Thresholds()) args.push_back(a);
    ASSERT_EQ(Wait(Spawn(args, log)), 0) << "run " << run << ": " << Slurp(log);
    ExpectSequentialOutput(root, "run " + std::to_string(run));
  }
}

TEST_F(XAndYTogether, DetectPollingEvery10msBesideChunkDrainEqualsSequential) {
  for (int run = 0; run < kRuns; ++run) {
    const std::string root = base_ + "/two-" + std::to_string(run);
    const std::string ylog = (dir_ / ("two-y-" + std::to_string(run) + ".log"));
    const std::string xlog = (dir_ / ("two-x-" + std::to_string(run) + ".log"));
    // Y first, so it is polling an empty landing zone when X starts.
    const pid_t y = Spawn(Detect(root, {"--poll", "10ms"}), ylog);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(Wait(Spawn(Chunk(root), xlog)), 0) << Slurp(xlog);
    // Let Y take the last chunks, then stop it as an operator would (it
    // checkpoints; its pending detections stay pending) and drain the rest.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ::kill(y, SIGTERM);
    ASSERT_EQ(Wait(y), 0) << "run " << run << ": " << Slurp(ylog);
    EXPECT_NE(Slurp(ylog).find("landing_zone/chunk-000000000000.csv"),
              std::string::npos)
        << "Y took no chunk while X ran";
    const std::string dlog = (dir_ / ("two-d-" + std::to_string(run) + ".log"));
    ASSERT_EQ(Wait(Spawn(Detect(root, {"--drain"}), dlog)), 0) << Slurp(dlog);
    ExpectSequentialOutput(root, "two processes, run " + std::to_string(run));
  }
}

}  // namespace
}  // namespace txflow
