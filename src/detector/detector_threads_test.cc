// `DetectorOptions::threads` spreads a chunk's merchants over threads; these
// tests hold it to its contract: every byte the detector stores is the same
// for any thread count (the one-thread detector is itself checked against a
// naive reference in detector_test.cc).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "chunker/chunker.h"
#include "common/clock.h"
#include "common/log.h"
#include "detector/checkpoint.h"
#include "detector/detection_file.h"
#include "detector/detector.h"
#include "detector/importance_table.h"
#include "detector/sidecar_files.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

constexpr int64_t kStart = 1'795'614'222'000;

struct Data {
  std::string source, importance;
};

// Merchant sizes as skewed as BankSim's (one merchant about half the rows,
// a second a third, a long tail), so bins get unequal work and merchants of
// every size share chunks. Customers buy at several merchants.
Data SkewedData(uint64_t seed, int rows) {
  std::mt19937_64 rng(seed);
  Data d;
  d.source = "step,customer,age,gender,merchant,category,amount,fraud\n";
  const int customers = 150;
  const char* genders[] = {"F", "M", "F", "M", "E"};
  for (int i = 0; i < rows; ++i) {
    const uint64_t r = rng() % 100;
    const int m = r < 50 ? 0 : r < 83 ? 1 : 2 + static_cast<int>(rng() % 18);
    const int c = static_cast<int>(rng() % customers);
    const int64_t paise = static_cast<int64_t>(rng() % 6000) + 1;
    std::string amount =
        std::to_string(paise / 100) + "." + std::to_string(10 + paise % 90);
    // About 2 % bad rows (quarantined, with their offsets), and quoted
    // customers with a line break inside.
    const uint64_t odd = rng() % 100;
    if (odd == 0) amount = "1e2";
    std::string customer = "'C" + std::to_string(100 + c) + "'";
    if (odd == 1) customer = "\"C\n" + std::to_string(c) + "\"";
    d.source += odd == 2 ? std::to_string(i) + ",short\n"
                         : std::to_string(i) + "," + customer + ",'3','" +
                               genders[c % 5] + "','M" + std::to_string(m) +
                               "','es_c" + std::to_string(m % 3) + "'," +
                               amount + ",0\n";
  }
  d.importance = "Source,Target,Weight,typeTrans,fraud\n";
  for (int c = 0; c < customers; c += 2) {
    for (int m = 0; m < 20; m += 3) {
      d.importance += "'C" + std::to_string(100 + c) + "','M" +
                      std::to_string(m) + "'," + std::to_string(1 + c % 7) +
                      ".5,'es_c" + std::to_string(m % 3) + "',0\n";
    }
  }
  return d;
}

Thresholds Small() {
  Thresholds t;
  t.upgrade_min_txns = 200;
  t.child_min_txns = 5;
  t.dei_min_female = 3;
  return t;
}

class DetectorThreadsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetLogQuiet(true); }

  std::unique_ptr<FileSystem> Chunked(const std::string& store, const Data& d,
                                      uint64_t chunk_rows) {
    auto root =
        std::move(OpenFileSystem(testing::TestRoot(store + "/root")).value());
    auto src =
        std::move(OpenFileSystem(testing::TestRoot(store + "/in")).value());
    EXPECT_TRUE(src->Write("tx.csv", d.source, {}).ok());
    ChunkerOptions o;
    o.chunk_rows = chunk_rows;
    o.drain = true;
    o.max_chunks_per_tick = 100'000;
    Chunker c(src.get(), "tx.csv", "in/tx.csv", root.get(), o, &clock_);
    auto r = c.Tick();
    EXPECT_TRUE(r.ok() && r->drained) << r.status().ToString();
    return root;
  }

  DetectorOptions Options(int threads, uint64_t checkpoint_every = 5) {
    DetectorOptions o;
    o.thresholds = Small();
    o.threads = threads;
    o.checkpoint_every = checkpoint_every;
    return o;
  }

  // Polls `det` until `chunks` more chunks are done (all when 0).
  void PollChunks(Detector* det, uint64_t chunks = 0) {
    const uint64_t start = det->stats().chunks;
    const auto enough = [&] {
      return chunks != 0 && det->stats().chunks - start >= chunks;
    };
    while (!enough()) {
      auto r = det->Poll(enough);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (r->chunks == 0) break;
    }
    if (chunks != 0) {
      ASSERT_EQ(det->stats().chunks - start, chunks);
    }
  }

  void Finish(Detector* det) {
    ASSERT_TRUE(det->FlushPending().ok());
    ASSERT_TRUE(det->Checkpoint().ok());
  }

  // A root with `d` chunked and detected to the end in one run.
  std::unique_ptr<FileSystem> OneRun(const std::string& store, const Data& d,
                                     uint64_t chunk_rows,
                                     const ImportanceTable* imp, int threads) {
    auto root = Chunked(store, d, chunk_rows);
    Detector det(root.get(), imp, Options(threads), &clock_);
    EXPECT_TRUE(det.Open().ok());
    PollChunks(&det);
    Finish(&det);
    return root;
  }

  // A root with `d` chunked in 20-row chunks and detected with `imp` for 5
  // chunks, a snapshot every 3: it ends on a base and a delta (*m: its
  // CURRENT).
  std::unique_ptr<FileSystem> EndingOnADelta(const std::string& store,
                                             const Data& d,
                                             const ImportanceTable* imp,
                                             DetectorManifest* m) {
    auto root = Chunked(store, d, 20);
    DetectorOptions chain = Options(2, 3);
    chain.max_deltas = 1000;
    Detector det(root.get(), imp, chain, &clock_);
    EXPECT_TRUE(det.Open().ok());
    PollChunks(&det, 5);
    EXPECT_TRUE(det.Checkpoint().ok());
    *m = DecodeManifest(root->Read(kDetectorCurrentKey).value(), "CURRENT")
             .value();
    EXPECT_FALSE(m->deltas.empty()) << "the root must end on a delta";
    return root;
  }

  // Every object of the root but the per-chunk stats (they hold timings).
  std::map<std::string, std::string> Contents(FileSystem* root) {
    std::map<std::string, std::string> out;
    for (const auto& f : root->List({"", "", 0}).value()) {
      if (f.key.rfind("state/detector/stats/", 0) == 0) continue;
      out[f.key] = root->Read(f.key).value();
    }
    return out;
  }

  ManualClock clock_{kStart};
};

TEST_F(DetectorThreadsTest, ThreadCountNeverChangesAnyStoredByte) {
  int store = 0;
  for (const bool with_importance : {false, true}) {
    const Data d = SkewedData(with_importance ? 7 : 8, 6000);
    std::optional<ImportanceTable> imp;
    if (with_importance) {
      imp = std::move(ImportanceTable::Parse(d.importance, "imp").value());
    }
    for (const uint64_t chunk_rows : {1u, 37u, 1000u}) {
      std::map<std::string, std::string> want;
      for (const int threads : {1, 2, 3, 8}) {
        auto root =
            Chunked("threads-" + std::to_string(store++), d, chunk_rows);
        Detector det(root.get(), imp ? &*imp : nullptr, Options(threads),
                     &clock_);
        ASSERT_TRUE(det.Open().ok());
        ASSERT_NO_FATAL_FAILURE(PollChunks(&det));
        ASSERT_NO_FATAL_FAILURE(Finish(&det));
        const auto got = Contents(root.get());
        if (threads == 1) {
          want = got;
          // Enough detections of every pattern to make the comparison mean
          // something.
          const auto& s = det.stats();
          EXPECT_GT(s.per_pattern[0], 3u);
          EXPECT_GT(s.per_pattern[1], 20u);
          EXPECT_GT(s.per_pattern[2], 1u);
          EXPECT_GT(s.bad_rows, 60u);
          continue;
        }
        ASSERT_EQ(got.size(), want.size());
        for (const auto& [key, bytes] : want) {
          ASSERT_TRUE(got.count(key)) << key;
          EXPECT_TRUE(got.at(key) == bytes)
              << key << " differs with " << threads << " threads, importance "
              << with_importance << ", chunk rows " << chunk_rows;
        }
      }
    }
  }
}

TEST_F(DetectorThreadsTest, RestartWithAnotherThreadCountEqualsOneRun) {
  const Data d = SkewedData(9, 5000);
  auto imp = std::move(ImportanceTable::Parse(d.importance, "imp").value());
  auto ref = OneRun("restart-ref", d, 50, &imp, 1);
  auto root = Chunked("restart", d, 50);
  // 4 threads for 23 chunks, dropped without a flush (as in a crash), then
  // 1 thread, then 3.
  const int threads[] = {4, 1, 3};
  for (int i = 0; i < 3; ++i) {
    Detector det(root.get(), &imp, Options(threads[i]), &clock_);
    ASSERT_TRUE(det.Open().ok());
    ASSERT_NO_FATAL_FAILURE(PollChunks(&det, i < 2 ? 23 : 0));
    // Each restart resumes from the last snapshot (every 5 chunks) before
    // the drop, so chunks after it are replayed, with another thread count.
    if (i == 2) {
      EXPECT_EQ(det.stats().chunks, 100u);
    }
    if (i == 2) {
      ASSERT_NO_FATAL_FAILURE(Finish(&det));
    }
  }
  EXPECT_EQ(Contents(root.get()), Contents(ref.get()));
}

// A table still being parsed (PendingImportance, as txflow detect|run load
// it): each restart restores beside the parse, and the root ends byte for
// byte as with the parsed table in one run.
TEST_F(DetectorThreadsTest, PendingImportanceAcrossRestartsEqualsOneRun) {
  const Data d = SkewedData(11, 5000);
  auto imp = std::move(ImportanceTable::Parse(d.importance, "imp").value());
  auto ref = OneRun("pending-ref", d, 50, &imp, 2);
  auto root = Chunked("pending", d, 50);
  for (int i = 0; i < 3; ++i) {
    PendingImportance pending(d.importance, "imp");
    EXPECT_EQ(pending.Fingerprint().value(), imp.fingerprint());
    Detector det(root.get(), &pending, Options(2), &clock_);
    ASSERT_TRUE(det.Open().ok());
    ASSERT_NO_FATAL_FAILURE(PollChunks(&det, i < 2 ? 23 : 0));
    if (i == 2) {
      EXPECT_EQ(det.stats().chunks, 100u);
      ASSERT_NO_FATAL_FAILURE(Finish(&det));
    }
  }
  EXPECT_EQ(Contents(root.get()), Contents(ref.get()));
}

// A table that does not parse: Open() restores (it checks only the
// fingerprint), then every call that would write returns the parse's own
// error, and the root is left as it was.
TEST_F(DetectorThreadsTest, PendingImportanceThatDoesNotParseWritesNothing) {
  const Data d = SkewedData(12, 2000);
  auto imp = std::move(ImportanceTable::Parse(d.importance, "imp").value());
  auto root = Chunked("pending-bad", d, 50);
  {
    Detector det(root.get(), &imp, Options(2), &clock_);
    ASSERT_TRUE(det.Open().ok());
    ASSERT_NO_FATAL_FAILURE(PollChunks(&det, 7));
    ASSERT_TRUE(det.Checkpoint().ok());
  }
  const auto before = Contents(root.get());
  // Same fingerprint as the table the checkpoint names is impossible for
  // other bytes, so the bad table is checked twice: on a root with nothing
  // to restore, and after the good table's checkpoint (where Open() fails on
  // the fingerprint; the CLI then reports the parse error, pipeline.cc).
  const std::string bad = d.importance + "'C1','M1',not-a-number,'es_a',0\n";
  const Status want = ImportanceTable::Parse(bad, "bad.csv").status();
  ASSERT_EQ(want.code(), StatusCode::kInvalidArgument);
  auto fresh = Chunked("pending-bad-fresh", d, 50);
  const auto fresh_before = Contents(fresh.get());
  {
    PendingImportance pending(bad, "bad.csv");
    Detector det(fresh.get(), &pending, Options(2), &clock_);
    ASSERT_TRUE(det.Open().ok());
    auto r = det.Poll();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().ToString(), want.ToString());
    EXPECT_EQ(det.Checkpoint().ToString(), want.ToString());
    EXPECT_EQ(det.FlushPending().ToString(), want.ToString());
  }
  EXPECT_EQ(Contents(fresh.get()), fresh_before);
  {
    PendingImportance pending(bad, "bad.csv");
    Detector det(root.get(), &pending, Options(2), &clock_);
    const Status s = det.Open();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("importance table differs"), std::string::npos)
        << s.ToString();
    EXPECT_EQ(pending.Wait().status().ToString(), want.ToString());
  }
  EXPECT_EQ(Contents(root.get()), before);
}

// A table that cannot be read (its read runs beside the restore): Open()
// returns the read's error on a fresh root and on one with a checkpoint, and
// so does every call that would write. Nothing changes either way.
TEST_F(DetectorThreadsTest, PendingImportanceThatCannotBeReadWritesNothing) {
  const Data d = SkewedData(13, 2000);
  auto imp = std::move(ImportanceTable::Parse(d.importance, "imp").value());
  const Status want = Status::Unavailable("imp.csv: the read failed");
  auto unreadable = [&] {
    return std::make_unique<PendingImportance>(
        [want]() -> Result<ObjectBytes> { return want; }, "imp.csv");
  };
  auto fresh = Chunked("unread-fresh", d, 50);
  const auto fresh_before = Contents(fresh.get());
  {
    auto pending = unreadable();
    EXPECT_EQ(pending->Fingerprint().status().ToString(), want.ToString());
    Detector det(fresh.get(), pending.get(), Options(2), &clock_);
    EXPECT_EQ(det.Open().ToString(), want.ToString());
    auto r = det.Poll();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().ToString(), want.ToString());
    EXPECT_EQ(det.Checkpoint().ToString(), want.ToString());
    EXPECT_EQ(det.FlushPending().ToString(), want.ToString());
    EXPECT_EQ(pending->Wait().status().ToString(), want.ToString());
  }
  EXPECT_EQ(Contents(fresh.get()), fresh_before);
  auto root = OneRun("unread", d, 50, &imp, 2);
  const auto before = Contents(root.get());
  {
    auto pending = unreadable();
    Detector det(root.get(), pending.get(), Options(2), &clock_);
    EXPECT_EQ(det.Open().ToString(), want.ToString());
  }
  EXPECT_EQ(Contents(root.get()), before);
}

// A root with nothing to restore but an orphan evidence file (a crash cut a
// detection file's write before the first snapshot): Open() would remove it
// (RemoveOrphanEvidence), so with a table that cannot be read it must
// return the read's error first and leave the root as it was. (The CLI also
// waits for the table on such a root, AwaitImportanceUnlessRestoring.)
TEST_F(DetectorThreadsTest, UnreadableTableOnAFreshRootDeletesNothingInOpen) {
  const Data d = SkewedData(15, 2000);
  const Status want = Status::Unavailable("imp.csv: the read failed");
  auto fresh = Chunked("unread-orphan", d, 50);
  const std::string orphan = EvidenceKeyFor(DetectionFileKey(1'795'614'222, 1));
  ASSERT_TRUE(fresh->Write(orphan, "row\n", {}).ok());
  const auto before = Contents(fresh.get());
  {
    PendingImportance pending([want]() -> Result<ObjectBytes> { return want; },
                              "imp.csv");
    Detector det(fresh.get(), &pending, Options(2), &clock_);
    EXPECT_EQ(det.Open().ToString(), want.ToString());
  }
  EXPECT_EQ(Contents(fresh.get()), before);
}

// The table's fingerprint is checked after the restore, which reads beside
// it; the error is still the one a check in chain order gives: a base taken
// with another table is reported even when a later delta is damaged, and
// the damage when the table is the same.
TEST_F(DetectorThreadsTest, AnotherTableIsReportedBeforeALaterDamagedDelta) {
  const Data d = SkewedData(14, 3000);
  auto imp = std::move(ImportanceTable::Parse(d.importance, "imp").value());
  const std::string other_text = d.importance + "'C1','M1',7,'es_a',0\n";
  auto other = std::move(ImportanceTable::Parse(other_text, "other").value());
  DetectorManifest m;
  auto root = EndingOnADelta("other-table", d, &imp, &m);
  ASSERT_FALSE(m.deltas.empty());
  const std::string base = std::string(kDetectorStateDir) + m.base;
  const std::string delta = std::string(kDetectorStateDir) + m.deltas.back();
  const std::string good = root->Read(delta).value();
  ASSERT_TRUE(root->Write(delta, good.substr(0, good.size() / 2), {}).ok());
  auto open_with = [&](const std::string& text) {
    PendingImportance pending(text, "t");
    return Detector(root.get(), &pending, Options(2), &clock_).Open();
  };
  const Status mismatch = open_with(other_text);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find(base + ": importance table differs"),
            std::string::npos)
      << mismatch.ToString();
  EXPECT_EQ(Detector(root.get(), &other, Options(2), &clock_).Open().ToString(),
            mismatch.ToString());
  const Status damaged = open_with(d.importance);
  EXPECT_EQ(damaged.code(), StatusCode::kCorruption) << damaged.ToString();
  EXPECT_NE(damaged.message().find(delta), std::string::npos)
      << damaged.ToString();
  ASSERT_TRUE(root->Write(delta, good, {}).ok());
  EXPECT_TRUE(open_with(d.importance).ok());
}

// Every object of the chain is checked, not only the first: a delta that
// records another table's fingerprint than its base (a root put together
// by hand, or damage the frame's CRC cannot see) is named, with the table
// pending or not.
TEST_F(DetectorThreadsTest, ALaterDeltaTakenWithAnotherTableIsRefused) {
  const Data d = SkewedData(16, 3000);
  auto imp = std::move(ImportanceTable::Parse(d.importance, "imp").value());
  DetectorManifest m;
  auto root = EndingOnADelta("delta-other-table", d, &imp, &m);
  ASSERT_FALSE(m.deltas.empty());
  const std::string delta = std::string(kDetectorStateDir) + m.deltas.back();
  const std::string good = root->Read(delta).value();
  std::string_view images;
  DetectorDelta dd = DecodeDelta(good, delta, &images).value();
  dd.header.importance_crc = imp.fingerprint() ^ 1;
  std::string forged;
  BeginDelta(dd.header, dd.extends, &forged);
  forged.append(images);
  FinishCheckpoint(&forged);
  ASSERT_TRUE(root->Write(delta, forged, {}).ok());
  const Status direct = Detector(root.get(), &imp, Options(2), &clock_).Open();
  EXPECT_EQ(direct.code(), StatusCode::kInvalidArgument) << direct.ToString();
  EXPECT_NE(direct.message().find(delta + ": importance table differs"),
            std::string::npos)
      << direct.ToString();
  PendingImportance pending(d.importance, "imp");
  EXPECT_EQ(
      Detector(root.get(), &pending, Options(2), &clock_).Open().ToString(),
      direct.ToString());
  ASSERT_TRUE(root->Write(delta, good, {}).ok());
  EXPECT_TRUE(Detector(root.get(), &imp, Options(2), &clock_).Open().ok());
}

TEST_F(DetectorThreadsTest, SumsPastInt64NameTheSameCustomerForAnyThreadCount) {
  // Two merchants overflow in one chunk; the error names the first of them
  // in row order (M9's rows come first), whichever thread applied it.
  Data d;
  d.source = "customer,merchant,gender,amount\n";
  for (int i = 0; i < 93; ++i) {
    d.source += "'C2','M9',F,100000000000\n'C1','M1',F,100000000000\n";
    d.source += "'C3','M" + std::to_string(2 + i % 5) + "',M,1.00\n";
  }
  for (const int threads : {1, 2, 4}) {
    auto root = Chunked("overflow-" + std::to_string(threads), d, 10'000);
    Detector det(root.get(), nullptr, Options(threads), &clock_);
    ASSERT_TRUE(det.Open().ok());
    auto r = det.Poll();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("customer 'C2' at merchant 'M9'"),
              std::string::npos)
        << threads << " threads: " << r.status().message();
    EXPECT_TRUE(root->List({"detections/", "", 0}).value().empty());
  }
}

}  // namespace
}  // namespace txflow
