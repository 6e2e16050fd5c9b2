// kill -9 of `txflow detect --drain` at random moments: the detection files,
// time columns removed, must equal an uninterrupted run's; no detection is
// missing or repeated, and no file changes after it first appeared. Each
// detection file has its evidence file at every kill, and at the end the
// evidence equals the uninterrupted run's, byte for byte. At every kill,
// CURRENT (a manifest of a full image and deltas, docs/formats.md) names
// only objects that exist and chain; the kills land between a delta and
// CURRENT and during compactions, and both kinds of snapshot are seen. Runs
// on
// local directories, and (TXFLOW_TEST_STORAGE=s3) with the source, the
// importance table and every root on the S3 test server.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>
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

// The names in a CURRENT manifest (docs/formats.md, "Detector manifest"),
// decoded here independently of the detector's reader: magic "TXFYMANI",
// u32 version, u64 length, then varint-length strings (base, then after a
// varint count the deltas); the CRC is left to the detector. Empty when the
// bytes are no manifest.
std::vector<std::string> ManifestNames(const std::string& bytes) {
  std::vector<std::string> out;
  if (bytes.rfind("TXFYMANI", 0) != 0 || bytes.size() < 20) return out;
  size_t at = 20;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; at < bytes.size() && shift < 64; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(bytes[at++]);
      *v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  auto str = [&]() {
    uint64_t n = 0;
    if (!varint(&n) || n > bytes.size() - at) return false;
    out.push_back(bytes.substr(at, n));
    at += n;
    return true;
  };
  uint64_t deltas = 0;
  if (!str() || !varint(&deltas)) return {};
  for (uint64_t i = 0; i < deltas; ++i) {
    if (!str()) return {};
  }
  return out;
}

bool IsStateObject(const std::string& name) {
  return (name.rfind("checkpoint-", 0) == 0 || name.rfind("delta-", 0) == 0) &&
         name.find('/') == std::string::npos;
}

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
  // The snapshot state at a kill: CURRENT is a manifest, and every object it
  // names is there (the restart checks that they chain). Counts the
  // manifests seen with and without deltas, and kills that left objects it
  // does not name (a delta before its CURRENT, superseded ones not yet
  // deleted), which the next start removes.
  int with_deltas = 0, without_deltas = 0, orphans_seen = 0;
  auto check_state = [&] {
    const auto tree = TreeOf(root + "/state/detector");
    const auto current = tree.find("CURRENT");
    if (current == tree.end()) return;  // killed before the first snapshot
    const auto names = ManifestNames(current->second);
    ASSERT_FALSE(names.empty()) << "CURRENT is no manifest";
    for (const std::string& n : names) {
      ASSERT_TRUE(tree.count(n)) << n << " named by CURRENT is missing";
    }
    (names.size() > 1 ? with_deltas : without_deltas)++;
    size_t objects = 0;
    for (const auto& [name, bytes] : tree) objects += IsStateObject(name);
    orphans_seen += objects > names.size();
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
    ASSERT_NO_FATAL_FAILURE(check_state());
    if (code == 128 + SIGKILL) {
      ++kills;
      continue;
    }
    ASSERT_EQ(code, 0) << "attempt " << attempt;
    EXPECT_EQ(DetectionsWithoutTimes(root), reference) << root;
    EXPECT_EQ(EvidenceFiles(root), reference_evidence) << root;
    // A finished run leaves exactly the objects CURRENT names.
    {
      const auto tree = TreeOf(root + "/state/detector");
      const auto names = ManifestNames(tree.at("CURRENT"));
      std::set<std::string> named(names.begin(), names.end()), got;
      for (const auto& [name, bytes] : tree) {
        if (IsStateObject(name)) got.insert(name);
      }
      EXPECT_EQ(got, named) << root;
    }
    ++rounds;
    in_round = 0;
    testing::RemoveTree(root);
    root.clear();
  }
  EXPECT_GE(kills, 50);
  EXPECT_GE(rounds, 1);
  // Both kinds of snapshot chain were on storage at kills.
  EXPECT_GT(with_deltas, 0);
  EXPECT_GT(without_deltas, 0);
  std::printf(
      "kills survived: %d over %d completed rounds; CURRENT with deltas at "
      "%d kills, without at %d, unnamed objects left at %d\n",
      kills, rounds, with_deltas, without_deltas, orphans_seen);
  testing::RemoveTree(base);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace txflow
