// kill -9 of `txflow detect --drain` at random moments: the detection files,
// time columns removed, must equal an uninterrupted run's; no detection is
// missing or repeated, and no file changes after it first appeared. Each
// detection file has its evidence file at every kill, and at the end the
// evidence equals the uninterrupted run's, byte for byte. Runs on
// local directories, and (TXFLOW_TEST_STORAGE=s3) with the source, the
// importance table and every root on the S3 test server.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "gen/banksim_generator.h"
#include "process.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

using testing::DetectionsWithoutTimes;
using testing::EvidenceFiles;
using testing::Spawn;
using testing::TreeOf;
using testing::Wait;

TEST(DetectorKill, KillNineAtRandomMomentsEqualsUninterruptedRun) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) /
                       ("detector-kill-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(
      GenerateDataset(dir.string(), GeneratorOptions{1'000'000, 4, 0}).ok());
  std::string source = (dir / "transactions.csv").string();
  std::string importance = (dir / "CustomerImportance.csv").string();
  std::string base = dir.string();
  if (testing::UsingS3()) {
    base = testing::S3TestRoot("detector-kill");
    ASSERT_NO_FATAL_FAILURE(testing::Upload(source, base + "/in"));
    ASSERT_NO_FATAL_FAILURE(testing::Upload(importance, base + "/in"));
    source = base + "/in/transactions.csv";
    importance = base + "/in/CustomerImportance.csv";
  }
  auto chunk = [&](const std::string& root) {
    ASSERT_EQ(
        Wait(Spawn({"chunk", "--drain", "--source", source, "--root", root})),
        0);
  };
  // Snapshots every 5 chunks: a run killed sooner than one interval could
  // never make progress, whatever the implementation.
  auto detect = [&](const std::string& root) {
    return std::vector<std::string>{"detect",
                                    "--drain",
                                    "--root",
                                    root,
                                    "--importance",
                                    importance,
                                    "--checkpoint-every",
                                    "5"};
  };

  ASSERT_NO_FATAL_FAILURE(chunk(base + "/ref"));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Wait(Spawn(detect(base + "/ref"))), 0);
  const auto detect_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - t0)
                             .count();
  const auto reference = DetectionsWithoutTimes(base + "/ref");
  ASSERT_GT(reference.size(), 3u);
  const auto reference_evidence = EvidenceFiles(base + "/ref");
  ASSERT_EQ(reference_evidence.size(), reference.size());
  size_t detections = 0;
  for (const auto& f : reference)
    detections += std::count(f.begin(), f.end(), '\n') - 1;
  std::printf("reference: %zu files, %zu detections, detect took %lld us\n",
              reference.size(), detections, static_cast<long long>(detect_us));

  std::mt19937_64 rng(1125);
  int64_t max_delay_us = std::max<int64_t>(20'000, detect_us / 4);
  int kills = 0, rounds = 0, in_round = 0;
  std::string root;
  std::map<std::string, std::string> seen;  // file -> bytes when first seen
  // Detection files never change once they appear, nor does the evidence
  // of one; and a kill never leaves a detection file without its evidence
  // (an evidence file without its detection file is an unfinished write,
  // which the next start removes).
  auto check_immutable = [&] {
    const auto tree = TreeOf(root + "/detections");
    for (const auto& [name, bytes] : tree) {
      if (name.rfind("detections_", 0) != 0) continue;
      const auto evidence = tree.find("evidence/" + name);
      ASSERT_TRUE(evidence != tree.end()) << name << " has no evidence";
      for (const auto& it : {tree.find(name), evidence}) {
        auto [was, fresh] = seen.emplace(it->first, it->second);
        ASSERT_TRUE(fresh || was->second == it->second)
            << it->first << " changed after it appeared";
      }
    }
  };
  for (int attempt = 0; attempt < 2000 && (kills < 60 || !root.empty());
       ++attempt) {
    if (root.empty()) {
      root = base + "/round-" + std::to_string(rounds);
      seen.clear();
      ASSERT_NO_FATAL_FAILURE(chunk(root));
    }
    // On a loaded machine (sanitizers, parallel tests) a life can need longer
    // than the reference run suggested just to start: if a round has taken
    // 100 kills, widen the window so that lives make progress again.
    if (++in_round % 100 == 0) {
      max_delay_us *= 2;
      std::printf("round %d: %d kills so far; kill delays now up to %lld us\n",
                  rounds, in_round, static_cast<long long>(max_delay_us));
    }
    const pid_t pid = Spawn(detect(root));
    std::this_thread::sleep_for(
        std::chrono::microseconds(rng() % max_delay_us));
    ::kill(pid, SIGKILL);
    const int code = Wait(pid);
    ASSERT_NO_FATAL_FAILURE(check_immutable());
    if (code == 128 + SIGKILL) {
      ++kills;
      continue;
    }
    ASSERT_EQ(code, 0) << "attempt " << attempt;
    EXPECT_EQ(DetectionsWithoutTimes(root), reference) << root;
    EXPECT_EQ(EvidenceFiles(root), reference_evidence) << root;
    ++rounds;
    in_round = 0;
    testing::RemoveTree(root);
    root.clear();
  }
  EXPECT_GE(kills, 50);
  EXPECT_GE(rounds, 1);
  std::printf("kills survived: %d over %d completed rounds\n", kills, rounds);
  testing::RemoveTree(base);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace txflow
