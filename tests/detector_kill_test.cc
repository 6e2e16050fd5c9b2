// kill -9 of `txflow detect --drain` at random moments: the detection files,
// time columns removed, must equal an uninterrupted run's; no detection is
// missing or repeated, and no file changes after it first appeared.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "gen/banksim_generator.h"
#include "process.h"

namespace txflow {
namespace {

using testing::DetectionsWithoutTimes;
using testing::Spawn;
using testing::Tree;
using testing::Wait;

TEST(DetectorKill, KillNineAtRandomMomentsEqualsUninterruptedRun) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) /
                       ("detector-kill-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(
      GenerateDataset(dir.string(), GeneratorOptions{1'000'000, 4, 0}).ok());
  const std::string source = (dir / "transactions.csv").string();
  const std::string importance = (dir / "CustomerImportance.csv").string();
  auto chunk = [&](const fs::path& root) {
    ASSERT_EQ(Wait(Spawn({"chunk", "--drain", "--source", source, "--root",
                          root.string()})),
              0);
  };
  // Snapshots every 5 chunks: a run killed sooner than one interval could
  // never make progress, whatever the implementation.
  auto detect = [&](const fs::path& root) {
    return std::vector<std::string>{"detect",
                                    "--drain",
                                    "--root",
                                    root.string(),
                                    "--importance",
                                    importance,
                                    "--checkpoint-every",
                                    "5"};
  };

  ASSERT_NO_FATAL_FAILURE(chunk(dir / "ref"));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Wait(Spawn(detect(dir / "ref"))), 0);
  const auto detect_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - t0)
                             .count();
  const auto reference = DetectionsWithoutTimes(dir / "ref");
  ASSERT_GT(reference.size(), 3u);
  size_t detections = 0;
  for (const auto& f : reference)
    detections += std::count(f.begin(), f.end(), '\n') - 1;
  std::printf("reference: %zu files, %zu detections, detect took %lld us\n",
              reference.size(), detections, static_cast<long long>(detect_us));

  std::mt19937_64 rng(1125);
  const int64_t max_delay_us = std::max<int64_t>(20'000, detect_us / 4);
  int kills = 0, rounds = 0;
  fs::path root;
  std::map<std::string, std::string> seen;  // file -> bytes when first seen
  auto check_immutable = [&] {
    if (!fs::exists(root / "detections")) return;
    for (const auto& [name, bytes] : Tree(root / "detections")) {
      auto [it, fresh] = seen.emplace(name, bytes);
      ASSERT_TRUE(fresh || it->second == bytes)
          << name << " changed after it appeared";
    }
  };
  for (int attempt = 0; attempt < 2000 && (kills < 60 || !root.empty());
       ++attempt) {
    if (root.empty()) {
      root = dir / ("round-" + std::to_string(rounds));
      seen.clear();
      ASSERT_NO_FATAL_FAILURE(chunk(root));
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
    ++rounds;
    fs::remove_all(root);
    root.clear();
  }
  EXPECT_GE(kills, 50);
  EXPECT_GE(rounds, 1);
  std::printf("kills survived: %d over %d completed rounds\n", kills, rounds);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace txflow
