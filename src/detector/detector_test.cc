#include "detector/detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "chunker/chunker.h"
#include "chunker/offset_state.h"
#include "common/log.h"
#include "csv/row_decoder.h"
#include "detector/detection_file.h"
#include "detector/sidecar_files.h"
#include "io/fault_injection_file_system.h"
#include "io/file_system_wrapper.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

constexpr int64_t kStart = 1'795'614'222'000;

struct Row {
  std::string customer, merchant, gender, category;
  int64_t paise = 0;
  bool bad = false;
  std::string text;  // the CSV record, '\n'-terminated
};

struct Dataset {
  std::string source;  // CSV text
  std::vector<Row> rows;
  std::string importance;  // CSV text, or "" for none
  std::map<std::tuple<std::string, std::string, std::string>,
           std::vector<int64_t>>
      imp_rows;
};

std::string Money(int64_t paise) {
  const char* sign = paise < 0 ? "-" : "";
  const int64_t a = paise < 0 ? -paise : paise;
  return sign + std::to_string(a / 100) + "." + (a % 100 < 10 ? "0" : "") +
         std::to_string(a % 100);
}

// Few merchants and customers, amounts and weights from small sets (ties at
// percentile boundaries are common), ~3 % bad rows, varied quoting.
Dataset RandomDataset(std::mt19937_64& rng, int rows, bool with_importance,
                      int max_customers = 30) {
  Dataset d;
  d.source = "step,customer,age,gender,merchant,category,amount,fraud\n";
  const int merchants = 2 + static_cast<int>(rng() % 4);
  const int customers = 5 + static_cast<int>(rng() % (max_customers - 4));
  const char* genders[] = {"F", "F", "M", "M", "E", "U"};
  std::vector<std::string> gender_of(customers);
  for (auto& g : gender_of) g = genders[rng() % 6];
  for (int i = 0; i < rows; ++i) {
    Row r;
    const int c = static_cast<int>(rng() % customers);
    r.customer = "C" + std::to_string(1000 + c);
    r.merchant = "M" + std::to_string(50 + static_cast<int>(rng() % merchants));
    r.category = "es_cat" + r.merchant.substr(1);
    r.gender = rng() % 50 == 0 ? genders[rng() % 6]
                               : gender_of[c];  // rarely inconsistent
    static const int64_t amounts[] = {100,  1500, 2299, 2300,
                                      2301, 4000, 500,  -250};
    r.paise = amounts[rng() % 8];
    std::string amount = Money(r.paise);
    const int quoting = static_cast<int>(rng() % 3);
    auto q = [&](const std::string& v) {
      return quoting == 0 ? v : quoting == 1 ? "'" + v + "'" : "\"" + v + "\"";
    };
    r.text = std::to_string(i) + "," + q(r.customer) + ",'3'," + q(r.gender) +
             "," + q(r.merchant) + "," + q(r.category) + "," + amount + ",0\n";
    switch (rng() % 40) {
      case 0:
        r.bad = true;
        r.text =
            std::to_string(i) + "," + r.customer + ",3\n";  // too few fields
        break;
      case 1:
        r.bad = true;
        r.text = std::to_string(i) + "," + r.customer + ",'3'," + r.gender +
                 "," + r.merchant + "," + r.category + ",1e2,0\n";
        break;
      case 2:
        r.bad = true;
        r.text = std::to_string(i) + ",'','3'," + r.gender + "," + r.merchant +
                 "," + r.category + "," + amount + ",0\n";
        break;
      default:
        break;
    }
    d.source += r.text;
    d.rows.push_back(std::move(r));
  }
  if (with_importance) {
    d.importance = "Source,Target,Weight,typeTrans,fraud\n";
    static const char* weights[] = {"1", "2.5", "2.5", "0.125", "10.0005", "3"};
    for (int c = 0; c < customers; ++c) {
      for (int m = 0; m < merchants; ++m) {
        if (rng() % 3 == 0) continue;  // some pairs have no importance row
        const std::string cust = "C" + std::to_string(1000 + c),
                          mer = "M" + std::to_string(50 + m);
        for (int k = 1 + static_cast<int>(rng() % 2); k > 0; --k) {
          const char* w = weights[rng() % 6];
          d.importance += "'" + cust + "','" + mer + "'," + w + ",'es_cat" +
                          mer.substr(1) + "',0\n";
          d.imp_rows[{cust, mer, "es_cat" + mer.substr(1)}].push_back(
              *ParseDecimal(w, 6));
        }
      }
    }
  }
  return d;
}

using Finding =
    std::tuple<int, std::string, std::string>;  // pattern, customer, merchant

// The naive reference: after each chunk, recompute everything from all rows
// so far; sort for percentiles; emit in SPEC order.
std::vector<Finding> Reference(const Dataset& d, size_t chunk_rows,
                               const Thresholds& t) {
  struct Acc {
    int64_t count = 0, paise = 0, weight = 0;
  };
  std::vector<Finding> out;
  std::set<Finding> reported;
  std::vector<const Row*> good;
  for (size_t begin = 0; begin < d.rows.size(); begin += chunk_rows) {
    const size_t end = std::min(d.rows.size(), begin + chunk_rows);
    std::set<std::string> touched_m;
    std::set<std::pair<std::string, std::string>> touched_p;
    for (size_t i = begin; i < end; ++i) {
      if (d.rows[i].bad) continue;
      good.push_back(&d.rows[i]);
      touched_m.insert(d.rows[i].merchant);
      touched_p.insert({d.rows[i].merchant, d.rows[i].customer});
    }
    std::map<std::string, std::map<std::string, Acc>> acc;
    std::map<std::string, std::set<std::string>> fem, mal;
    // A customer's gender at a merchant is the one on its first row there.
    std::set<std::pair<std::string, std::string>> seen;
    for (const Row* r : good) {
      int64_t w = r->paise * 10'000;
      auto it = d.imp_rows.find({r->customer, r->merchant, r->category});
      if (!d.importance.empty() && it != d.imp_rows.end()) {
        int64_t sum = 0;
        for (int64_t x : it->second) sum += x;
        const int64_t n = static_cast<int64_t>(it->second.size());
        // Mean rounded half away from zero, by hand.
        w = (2 * sum + (sum >= 0 ? n : -n)) / (2 * n);
      }
      Acc& a = acc[r->merchant][r->customer];
      ++a.count;
      a.paise += r->paise;
      a.weight += w;
      if (!seen.insert({r->merchant, r->customer}).second) continue;
      if (r->gender == "F") fem[r->merchant].insert(r->customer);
      if (r->gender == "M") mal[r->merchant].insert(r->customer);
    }
    std::vector<Finding> found;
    for (const auto& m : touched_m) {
      int64_t total = 0;
      std::vector<int64_t> counts;
      std::vector<double> avgs;
      for (const auto& [c, a] : acc[m]) {
        total += a.count;
        counts.push_back(a.count);
        avgs.push_back(static_cast<double>(a.weight) /
                       static_cast<double>(a.count));
      }
      if (total > static_cast<int64_t>(t.upgrade_min_txns)) {
        std::sort(counts.begin(), counts.end());
        std::sort(avgs.begin(), avgs.end());
        const int64_t n = static_cast<int64_t>(counts.size());
        const int64_t kc = t.upgrade_count_pct * (n - 1),
                      kw = t.upgrade_weight_pct * (n - 1);
        const int64_t clo = kc / 100, cr = kc % 100,
                      chi = std::min(clo + 1, n - 1);
        const int64_t wlo = kw / 100, wr = kw % 100,
                      whi = std::min(wlo + 1, n - 1);
        const double p10 = avgs[wlo] + (avgs[whi] - avgs[wlo]) *
                                           static_cast<double>(wr) / 100.0;
        for (const auto& [c, a] : acc[m]) {
          const bool many =
              a.count * 100 >=
              counts[clo] * 100 + (counts[chi] - counts[clo]) * cr;
          const double avg =
              static_cast<double>(a.weight) / static_cast<double>(a.count);
          if (many && avg <= p10) found.push_back({1, c, m});
        }
      }
      if (fem[m].size() > t.dei_min_female && fem[m].size() < mal[m].size()) {
        found.push_back({3, "", m});
      }
    }
    for (const auto& [m, c] : touched_p) {
      const Acc& a = acc[m][c];
      if (a.count >= static_cast<int64_t>(t.child_min_txns) &&
          a.paise < t.child_max_avg_paise * a.count) {
        found.push_back({2, c, m});
      }
    }
    std::sort(
        found.begin(), found.end(), [](const Finding& x, const Finding& y) {
          return std::tie(std::get<0>(x), std::get<2>(x), std::get<1>(x)) <
                 std::tie(std::get<0>(y), std::get<2>(y), std::get<1>(y));
        });
    for (const Finding& f : found) {
      if (reported.insert(f).second) out.push_back(f);
    }
  }
  return out;
}

Thresholds SmallThresholds() {
  Thresholds t;
  t.upgrade_min_txns = 60;
  t.child_min_txns = 6;
  t.dei_min_female = 2;
  return t;
}

// The evidence files' bodies (trailer checked and removed) in detection-file
// order, after checking that exactly the detection files have evidence
// (none missing, none extra) and that each evidence row names the detection
// on the same row of its detection file.
std::vector<std::string> ReadEvidence(FileSystem* root) {
  std::map<uint64_t, std::string> files;
  for (const auto& info :
       root->List({std::string(kDetectionsPrefix), "", 0}).value()) {
    files[*ParseDetectionFileSeq(info.key)] = info.key;
  }
  std::set<std::string> want_keys, got_keys;
  for (const auto& [seq, key] : files) want_keys.insert(EvidenceKeyFor(key));
  for (const auto& info :
       root->List({std::string(kEvidencePrefix), "", 0}).value()) {
    got_keys.insert(info.key);
  }
  EXPECT_EQ(got_keys, want_keys) << "evidence files must match detection files";
  std::vector<std::string> out;
  std::vector<std::string> det, ev;
  for (const auto& [seq, key] : files) {
    auto text = root->Read(EvidenceKeyFor(key));
    if (!text.ok()) continue;  // reported above
    auto body = CheckChecksumTrailer(*text, kEvidenceTag, key);
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    if (!body.ok()) continue;
    const std::string detections = root->Read(key).value();
    size_t dpos = detections.find('\n') + 1;
    size_t epos = body->find('\n') + 1;
    EXPECT_EQ(body->substr(0, epos), kEvidenceHeader);
    while (dpos < detections.size() || epos < body->size()) {
      const size_t dnl = detections.find('\n', dpos);
      const size_t enl = body->find('\n', epos);
      if (dnl == std::string::npos || enl == std::string_view::npos) {
        ADD_FAILURE() << key
                      << ": evidence and detection rows differ in number";
        break;
      }
      (void)SplitFields(std::string_view(detections).substr(dpos, dnl - dpos),
                        &det);
      (void)SplitFields(body->substr(epos, enl - epos), &ev);
      EXPECT_EQ(std::tie(ev[2], ev[3], ev[4]), std::tie(det[2], det[4], det[5]))
          << key;
      dpos = dnl + 1;
      epos = enl + 1;
    }
    out.emplace_back(*body);
  }
  return out;
}

// The per-chunk stats rows (docs/formats.md), trailers checked, one per
// chunk: files in key order, a later row for the same chunk replacing an
// earlier one (a replay's). Maps chunk key to (records, bad_rows,
// detections).
std::map<std::string, std::tuple<uint64_t, uint64_t, uint64_t>> ReadStats(
    FileSystem* root) {
  std::map<std::string, std::tuple<uint64_t, uint64_t, uint64_t>> out;
  std::vector<std::string> f;
  for (const auto& info :
       root->List({std::string(kChunkStatsPrefix), "", 0}).value()) {
    const std::string text = root->Read(info.key).value();
    auto body = CheckChecksumTrailer(text, kChunkStatsTag, info.key);
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    if (!body.ok()) continue;
    size_t pos = body->find('\n') + 1;
    EXPECT_EQ(body->substr(0, pos), kChunkStatsHeader);
    while (pos < body->size()) {
      const size_t nl = body->find('\n', pos);
      (void)SplitFields(body->substr(pos, nl - pos), &f);
      out[f[0]] = {std::stoull(f[1]), std::stoull(f[2]), std::stoull(f[3])};
      pos = nl + 1;
    }
  }
  return out;
}

// Reads the detection files in sequence order.
std::vector<Finding> ReadFindings(FileSystem* root,
                                  std::vector<size_t>* sizes = nullptr) {
  std::map<uint64_t, std::string> files;
  for (const auto& info :
       root->List({std::string(kDetectionsPrefix), "", 0}).value()) {
    files[*ParseDetectionFileSeq(info.key)] = info.key;
  }
  std::vector<Finding> out;
  std::vector<std::string> f;
  for (const auto& [seq, key] : files) {
    const std::string text = root->Read(key).value();
    size_t pos = text.find('\n') + 1, rows = 0;
    while (pos < text.size()) {
      const size_t nl = text.find('\n', pos);
      EXPECT_FALSE(SplitFields(std::string_view(text).substr(pos, nl - pos), &f)
                       .has_value());
      const int pattern = f[2] == "PatId1" ? 1 : f[2] == "PatId2" ? 2 : 3;
      out.push_back({pattern, f[4], f[5]});
      pos = nl + 1;
      ++rows;
    }
    if (sizes) sizes->push_back(rows);
  }
  return out;
}

class DetectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetLogQuiet(true); }

  // Chunks `d` into a fresh mem root with the real chunker.
  std::unique_ptr<FileSystem> Chunked(const std::string& store,
                                      const Dataset& d, uint64_t chunk_rows) {
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
  // Runs a detector to the end of the landing zone and flushes.
  void Detect(FileSystem* root, const ImportanceTable* imp, const Thresholds& t,
              size_t per_poll = 1000) {
    DetectorOptions o;
    o.thresholds = t;
    o.max_chunks_per_poll = per_poll;
    Detector det(root, imp, o, &clock_);
    ASSERT_TRUE(det.Open().ok());
    while (true) {
      auto r = det.Poll();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (r->chunks == 0) break;
    }
    ASSERT_TRUE(det.FlushPending().ok());
    ASSERT_TRUE(det.Checkpoint().ok());  // as a drain ends
  }

  // A root detected with a snapshot every 4 chunks of 25 rows and no cap on
  // deltas (a base and a chain of deltas); *o: the options used.
  std::unique_ptr<FileSystem> DeltaChainRoot(const std::string& store,
                                             uint64_t seed, int rows,
                                             DetectorOptions* o);

  ManualClock clock_{kStart};
};

TEST_F(DetectorTest, MatchesNaiveReferenceOnRandomInputs) {
  std::mt19937_64 rng(4242);
  int runs = 0;
  size_t total_findings = 0;
  std::array<size_t, 4> by_pattern{};
  for (int seed = 0; seed < 12; ++seed) {
    for (bool with_imp : {false, true}) {
      const Dataset d =
          RandomDataset(rng, 400 + static_cast<int>(rng() % 800), with_imp);
      std::optional<ImportanceTable> imp;
      if (with_imp) {
        auto t = ImportanceTable::Parse(d.importance, "imp");
        ASSERT_TRUE(t.ok()) << t.status().ToString();
        imp = std::move(t).value();
      }
      for (uint64_t chunk_rows : {1, 7, 10'000}) {
        const std::string store = "diff-" + std::to_string(runs++);
        auto root = Chunked(store, d, chunk_rows);
        ASSERT_NO_FATAL_FAILURE(
            Detect(root.get(), imp ? &*imp : nullptr, SmallThresholds()));
        const auto want = Reference(d, chunk_rows, SmallThresholds());
        const auto got = ReadFindings(root.get());
        ASSERT_EQ(got, want) << "seed " << seed << " importance " << with_imp
                             << " chunk_rows " << chunk_rows;
        total_findings += want.size();
        for (const auto& f : want) ++by_pattern[std::get<0>(f)];
      }
    }
  }
  // The inputs must exercise every pattern, or the comparison proves little.
  EXPECT_GT(by_pattern[1], 20u);
  EXPECT_GT(by_pattern[2], 20u);
  EXPECT_GT(by_pattern[3], 20u);
  RecordProperty("findings", static_cast<int>(total_findings));
}

TEST_F(DetectorTest, FilesHoldFiftyEachAndTheRemainderOnFlush) {
  std::mt19937_64 rng(9);
  const Dataset d = RandomDataset(rng, 6000, false, 300);
  auto root = Chunked("fifty", d, 100);
  ASSERT_NO_FATAL_FAILURE(Detect(root.get(), nullptr, SmallThresholds()));
  std::vector<size_t> sizes;
  const auto got = ReadFindings(root.get(), &sizes);
  ASSERT_GT(got.size(), 50u);
  for (size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_EQ(sizes[i], 50u);
  EXPECT_EQ(sizes.back(), got.size() % 50 == 0 ? 50 : got.size() % 50);
}

// The wall clock jumps back an hour between chunks, and further back across a
// restart: detection times and file names must still go forward, so the
// names sort in sequence order.
TEST_F(DetectorTest, ClockJumpingBackwardsKeepsTimesAndNamesOrdered) {
  std::mt19937_64 rng(15);
  const Dataset d = RandomDataset(rng, 6000, false, 300);
  auto root = Chunked("clock-back", d, 200);
  ManualClock clock(kStart);
  for (int life = 0; life < 2; ++life) {
    DetectorOptions o;
    o.thresholds = SmallThresholds();
    o.max_chunks_per_poll = 1;
    Detector det(root.get(), nullptr, o, &clock);
    ASSERT_TRUE(det.Open().ok());
    for (int poll = 0; poll < 15; ++poll) {
      clock.AdvanceMs(-3'600'000);
      ASSERT_TRUE(det.Poll().ok());
    }
    if (life == 1) {
      ASSERT_TRUE(det.FlushPending().ok());
    }
    ASSERT_TRUE(det.Checkpoint().ok());
    clock.AdvanceMs(-86'400'000);  // the restart sees a day earlier
  }
  auto files = root->List({std::string(kDetectionsPrefix), "", 0});
  ASSERT_TRUE(files.ok());
  ASSERT_GT(files->size(), 3u);
  std::string last_time;
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& key = (*files)[i].key;
    // Listed (name) order is sequence order.
    EXPECT_EQ(ParseDetectionFileSeq(key), i + 1) << key;
    std::stringstream in(root->Read(key).value());
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      const std::string time =
          line.substr(line.find(',') + 1,
                      line.find(',', line.find(',') + 1) - line.find(',') - 1);
      EXPECT_LE(last_time, time) << key;
      last_time = time;
    }
  }
}

// The CLI keeps one Detector and calls Poll again after a retryable error.
// Storage that fails at random (some failures after the write took effect)
// must not make a retried chunk count twice. (Found by the binary's fault
// storm: a detection file that failed to write made the chunk's rows apply
// again on the retry.)
TEST_F(DetectorTest, RetriedPollsAfterStorageFaultsEqualUndisturbedRun) {
  for (int trial = 0; trial < 6; ++trial) {
    std::mt19937_64 rng(100 + trial);
    const Dataset d = RandomDataset(rng, 3000, trial % 2 == 1, 120);
    ImportanceTable table;
    if (!d.importance.empty()) {
      table = ImportanceTable::Parse(d.importance, "imp").value();
    }
    const ImportanceTable* imp = d.importance.empty() ? nullptr : &table;
    auto ref = Chunked("retry-ref-" + std::to_string(trial), d, 50);
    ASSERT_NO_FATAL_FAILURE(Detect(ref.get(), imp, SmallThresholds()));
    auto base = Chunked("retry-" + std::to_string(trial), d, 50);
    FaultInjectionFileSystem faulty(std::move(base));
    DetectorOptions o;
    o.thresholds = SmallThresholds();
    o.max_chunks_per_poll = 3;
    o.checkpoint_every = 4;
    Detector det(&faulty, imp, o, &clock_);
    ASSERT_TRUE(det.Open().ok());
    faulty.SetRandomFaults(0.15, 7 + trial, /*after_fraction=*/0.5);
    int errors = 0;
    for (int i = 0; i < 100'000; ++i) {
      auto r = det.Poll();
      if (!r.ok()) {
        ASSERT_TRUE(r.status().IsRetryable()) << r.status().ToString();
        ++errors;
        continue;
      }
      if (r->chunks == 0 && !r->more) break;
    }
    faulty.ClearFaults();
    ASSERT_TRUE(det.FlushPending().ok());
    EXPECT_GT(errors, 5);
    std::vector<size_t> got_sizes, want_sizes;
    EXPECT_EQ(ReadFindings(&faulty, &got_sizes),
              ReadFindings(ref.get(), &want_sizes))
        << "trial " << trial;
    EXPECT_EQ(got_sizes, want_sizes) << "trial " << trial;
  }
}

// Objects in the landing zone that are not chunks (other names, non-UTF-8
// bytes, very long names, subdirectories) are ignored, with a log line;
// they change nothing.
TEST_F(DetectorTest, ForeignObjectsInTheLandingZoneChangeNothing) {
  std::mt19937_64 rng(17);
  const Dataset d = RandomDataset(rng, 2000, false, 100);
  auto ref = Chunked("foreign-ref", d, 100);
  ASSERT_NO_FATAL_FAILURE(Detect(ref.get(), nullptr, SmallThresholds()));
  auto root = Chunked("foreign", d, 100);
  const std::string lz = "landing_zone/";
  for (const std::string& name :
       {lz + "notes.txt", lz + "chunk-abc.csv", lz + "chunk-\xff\xfe.csv",
        lz + "chunk-" + std::string(200, '9') + ".csv",  // posix: <= 255
        lz + "sub/chunk-000000000000.csv", lz + "chunk-000000000050.csv.bak",
        lz + "zzz"}) {
    ASSERT_TRUE(root->Write(name, "customer,merchant\nx,y\n", {}).ok()) << name;
  }
  ASSERT_NO_FATAL_FAILURE(Detect(root.get(), nullptr, SmallThresholds()));
  std::vector<size_t> got_sizes, want_sizes;
  EXPECT_EQ(ReadFindings(root.get(), &got_sizes),
            ReadFindings(ref.get(), &want_sizes));
  EXPECT_EQ(got_sizes, want_sizes);
}

TEST_F(DetectorTest, OutputDoesNotDependOnChunksPerPoll) {
  std::mt19937_64 rng(11);
  const Dataset d = RandomDataset(rng, 1500, false);
  auto one = Chunked("poll-1", d, 7);
  auto many = Chunked("poll-many", d, 7);
  ASSERT_NO_FATAL_FAILURE(Detect(one.get(), nullptr, SmallThresholds(), 1));
  ASSERT_NO_FATAL_FAILURE(Detect(many.get(), nullptr, SmallThresholds(), 1000));
  EXPECT_EQ(ReadFindings(one.get()), ReadFindings(many.get()));
  EXPECT_FALSE(ReadFindings(one.get()).empty());
}

// Restart equivalence in-process: stop the detector after random numbers of
// chunks (no flush, as a crash would), sometimes mid-write through a crashing
// file system, and reopen from the checkpoint. The files must equal an
// uninterrupted run's.
TEST_F(DetectorTest, CrashesAndRestartsEqualUninterruptedRun) {
  std::mt19937_64 rng(77);
  const Dataset d = RandomDataset(rng, 5000, true, 300);
  auto imp = ImportanceTable::Parse(d.importance, "imp").value();
  auto ref = Chunked("restart-ref", d, 7);
  ASSERT_NO_FATAL_FAILURE(Detect(ref.get(), &imp, SmallThresholds()));
  const auto want = ReadFindings(ref.get());
  ASSERT_GT(want.size(), 100u);
  const auto want_evidence = ReadEvidence(ref.get());
  const auto want_stats = ReadStats(ref.get());
  uint64_t stats_records = 0, stats_detections = 0;
  for (const auto& [chunk, r] : want_stats) {
    stats_records += std::get<0>(r);
    stats_detections += std::get<2>(r);
  }
  EXPECT_EQ(want_stats.size(), (d.rows.size() + 6) / 7);  // chunks of 7
  EXPECT_EQ(stats_records, d.rows.size());
  EXPECT_EQ(stats_detections, want.size());

  int crashes = 0, restarts = 0;
  for (int trial = 0; trial < 8; ++trial) {
    auto root = Chunked("restart-" + std::to_string(trial), d, 7);
    DetectorOptions o;
    o.thresholds = SmallThresholds();
    o.max_chunks_per_poll = 1 + rng() % 5;
    o.checkpoint_every = 1 + rng() % 10;
    // Full images only, short chains (frequent compaction), long ones.
    o.max_deltas = trial % 4 == 0 ? 0 : trial % 4 == 1 ? 2 : 64;
    bool done = false;
    for (int life = 0; life < 400 && !done; ++life) {
      auto faulty = std::make_unique<FaultInjectionFileSystem>(std::move(
          OpenFileSystem(
              testing::TestRoot("restart-" + std::to_string(trial) + "/root"))
              .value()));
      if (rng() % 2) faulty->CrashAfterMutations(rng() % 30);
      Detector det(faulty.get(), &imp, o, &clock_);
      if (Status s = det.Open(); !s.ok()) {
        if (!faulty->crashed()) ADD_FAILURE() << "open: " << s.ToString();
        continue;  // crashed while opening: try again
      }
      // After Open: every detection file has its evidence, and no evidence
      // file stands without its detection file (a crash's leftover is gone).
      ReadEvidence(faulty.get());
      // A life outlasts one checkpoint interval on average, as a real
      // process must to make progress.
      for (int polls = static_cast<int>(rng() % 40); polls >= 0; --polls) {
        auto r = det.Poll();
        if (!r.ok()) break;  // the "process" died
        if (r->chunks == 0) {
          done = det.FlushPending().ok() && det.Checkpoint().ok();
          break;
        }
      }
      crashes += faulty->crashed();
      ++restarts;
      clock_.AdvanceMs(1000);
    }
    ASSERT_TRUE(done) << "trial " << trial << " never finished";
    EXPECT_EQ(ReadFindings(root.get()), want) << "trial " << trial;
    // Deterministic: the replays wrote the same evidence, byte for byte.
    EXPECT_EQ(ReadEvidence(root.get()), want_evidence) << "trial " << trial;
    // Every chunk has its stats row, with the uninterrupted run's counts.
    EXPECT_EQ(ReadStats(root.get()), want_stats) << "trial " << trial;
  }
  EXPECT_GT(crashes, 20);
  EXPECT_GT(restarts, 40);
  std::printf("restart equivalence: %d lives, %d crashed mid-write\n", restarts,
              crashes);
}

// C1's 6th transaction at M1 is record 6, in the second chunk of 5
// (records 5-8: C1 three times, one bad row): the CHILD detection's evidence
// names that chunk, with the numbers at its evaluation, after the whole
// chunk (C1 7 transactions, M1 8). The stats file has one row per chunk (the
// last one with no backlog: nothing followed it).
TEST_F(DetectorTest, EvidenceNamesTheChunkThatTriggeredAndStatsCountChunks) {
  Dataset d;
  d.source = "customer,merchant,gender,amount\n'C2','M1','M',1.00\n";
  for (int i = 0; i < 7; ++i) d.source += "'C1','M1','F',1.00\n";
  d.source += "'C3','M1'\n";  // bad: wrong field count
  auto root = Chunked("evidence-chunk", d, 5);
  Thresholds t;
  t.child_min_txns = 6;
  ASSERT_NO_FATAL_FAILURE(Detect(root.get(), nullptr, t));
  const auto evidence = ReadEvidence(root.get());
  ASSERT_EQ(evidence.size(), 1u);
  EXPECT_NE(evidence[0].find("\n1,landing_zone/chunk-000000000005.csv,PatId2,"
                             "C1,M1,8,,,,,7,1.000000,"),
            std::string::npos)
      << evidence[0];
  using S = std::tuple<uint64_t, uint64_t, uint64_t>;
  EXPECT_EQ(ReadStats(root.get()),
            (std::map<std::string, S>{
                {"landing_zone/chunk-000000000000.csv", S{5, 0, 0}},
                {"landing_zone/chunk-000000000005.csv", S{4, 1, 1}}}));
  const std::string stats = root->Read(ChunkStatsKey(0)).value();
  EXPECT_NE(stats.find(",-1\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find(",0\n#"), std::string::npos) << stats;
}

TEST_F(DetectorTest, BadRowsAreQuarantinedWithReasonsAndChangeNothing) {
  Dataset d;
  d.source =
      "customer,merchant,gender,amount\n"
      "'C1','M1','F',1.00\n"
      "'C2','M1','F',1e2\n"
      "'','M1','F',1.00\n"
      "'C3','M1'\n"
      "\"C4\",\"M1\",\"M\",\"2.50\"\n";
  auto root = Chunked("bad-rows", d, 10);
  ASSERT_NO_FATAL_FAILURE(Detect(root.get(), nullptr, Thresholds{}));
  // Byte offsets in the chunk: header 31+1 = 32; "'C1','M1','F',1.00\n" is 19,
  // so row 1 starts at 51; "'C2','M1','F',1e2\n" is 18 -> 69;
  // "'','M1','F',1.00\n" is 17 -> 86.
  auto q = root->Read("quarantine/chunk-000000000000.csv");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(
      *q,
      "chunk,record,byte_offset,reason,raw\n"
      "landing_zone/chunk-000000000000.csv,1,51,amount '1e2' is not a "
      "decimal number,\"'C2','M1','F',1e2\"\n"
      "landing_zone/chunk-000000000000.csv,2,69,empty "
      "customer,\"'','M1','F',1.00\"\n"
      "landing_zone/chunk-000000000000.csv,3,86,\"has 2 fields, header has 4\","
      "\"'C3','M1'\"\n");
}

TEST_F(DetectorTest, AmountsBeyondTheExactRangeAreQuarantined) {
  // The bound is +-10^11 rupees (10^13 paise): at it the row counts, one
  // paisa past it (either sign) is quarantined, as is a value ParseDecimal
  // still reads (15 integer digits) but txflow could not sum exactly.
  Dataset d;
  d.source =
      "customer,merchant,gender,amount\n"
      "C1,M1,F,100000000000.00\n"
      "C2,M1,F,100000000000.01\n"
      "C3,M1,F,-100000000000.01\n"
      "C4,M1,F,999999999999999.99\n"
      "C5,M1,F,-100000000000.00\n";
  auto root = Chunked("amount-range", d, 10);
  ASSERT_NO_FATAL_FAILURE(Detect(root.get(), nullptr, Thresholds{}));
  auto q = root->Read("quarantine/chunk-000000000000.csv");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  for (const char* amount :
       {"'100000000000.01'", "'-100000000000.01'", "'999999999999999.99'"}) {
    EXPECT_NE(q->find(std::string("amount ") + amount +
                      " is beyond +-100000000000.00"),
              std::string::npos)
        << *q;
  }
  EXPECT_EQ(q->find("C1,"), std::string::npos) << *q;
  EXPECT_EQ(q->find("C5,"), std::string::npos) << *q;
}

TEST_F(DetectorTest, SumsPastInt64StopWithOneLineNamingThem) {
  // Without a table the weight is the amount in 10^-6 rupees: 93 rows of
  // 10^11 rupees sum to 9.3 * 10^18 units, past int64's 9.22 * 10^18, at
  // the 93rd row.
  Dataset d;
  d.source = "customer,merchant,gender,amount\n";
  for (int i = 0; i < 93; ++i) d.source += "'C1','M1',F,100000000000\n";
  auto root = Chunked("sum-overflow", d, 1000);
  Detector det(root.get(), nullptr, {}, &clock_);
  ASSERT_TRUE(det.Open().ok());
  auto r = det.Poll();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(
                "chunk-000000000000.csv: the amount or weight sum of customer "
                "'C1' at merchant 'M1' leaves the exact 64-bit range"),
            std::string::npos)
      << r.status().message();
  // Nothing reached storage: no detections, no snapshot.
  EXPECT_TRUE(root->List({"detections/", "", 0}).value().empty());
  EXPECT_TRUE(root->List({"state/detector/", "", 0}).value().empty());
  // 92 rows are still fine.
  Dataset ok = d;
  ok.source = "customer,merchant,gender,amount\n";
  for (int i = 0; i < 92; ++i) ok.source += "'C1','M1',F,100000000000\n";
  auto root_ok = Chunked("sum-fits", ok, 1000);
  ASSERT_NO_FATAL_FAILURE(Detect(root_ok.get(), nullptr, Thresholds{}));
}

TEST_F(DetectorTest, EmptyAndHeaderOnlyChunksAreHarmless) {
  // A zero-byte chunk and a header-only chunk: each is taken, holds no
  // records, and the next chunk still follows on at the same record number.
  for (const char* first : {"", "customer,merchant,gender,amount\n"}) {
    auto root = std::move(
        OpenFileSystem(testing::TestRoot("empty-chunks-" +
                                         std::to_string(std::strlen(first)) +
                                         "/root"))
            .value());
    ASSERT_TRUE(root->Write(ChunkKey(0), first, {}).ok());
    ASSERT_TRUE(
        root->Write(ChunkKey(0) + "x", "junk", {}).ok());  // not a chunk name
    Detector det(root.get(), nullptr, {}, &clock_);
    ASSERT_TRUE(det.Open().ok());
    auto r = det.Poll();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->chunks, 1u);
    EXPECT_EQ(r->records, 0u);
    EXPECT_TRUE(root->List({"quarantine/", "", 0}).value().empty());
  }
}

TEST_F(DetectorTest, StopIsHonouredBetweenChunks) {
  std::mt19937_64 rng(21);
  const Dataset d = RandomDataset(rng, 200, false);
  auto root = Chunked("stop-between", d, 10);  // 20 chunks
  Detector det(root.get(), nullptr, {}, &clock_);
  ASSERT_TRUE(det.Open().ok());
  int asked = 0;
  auto r = det.Poll([&] { return ++asked > 3; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chunks, 3u);
  EXPECT_TRUE(r->more);
  auto rest = det.Poll();
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->chunks, 17u);
}

TEST_F(DetectorTest, MissingRequiredColumnNamesIt) {
  auto root =
      std::move(OpenFileSystem(testing::TestRoot("no-amount/root")).value());
  ASSERT_TRUE(
      root->Write(ChunkKey(0), "customer,merchant,gender,price\nC,M,F,1\n", {})
          .ok());
  Detector det(root.get(), nullptr, {}, &clock_);
  ASSERT_TRUE(det.Open().ok());
  auto r = det.Poll();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "chunk-000000000000.csv: header has no 'amount' column"),
            std::string::npos)
      << r.status().message();
}

TEST_F(DetectorTest, GapInLandingZoneIsAnError) {
  auto root = std::move(OpenFileSystem(testing::TestRoot("gap/root")).value());
  ASSERT_TRUE(
      root->Write(ChunkKey(0), "customer,merchant,gender,amount\nC,M,F,1\n", {})
          .ok());
  ASSERT_TRUE(
      root->Write(ChunkKey(5), "customer,merchant,gender,amount\nC,M,F,1\n", {})
          .ok());
  Detector det(root.get(), nullptr, {}, &clock_);
  ASSERT_TRUE(det.Open().ok());
  auto r = det.Poll();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(
                "landing_zone/chunk-000000000001.csv: the next chunk is "
                "missing, but landing_zone/chunk-000000000005.csv exists"),
            std::string::npos)
      << r.status().message();
}

// A listing is no snapshot while X writes: a directory read or an object
// listing can show a later chunk and miss an earlier one. The detector reads
// chunks by name, so such a listing changes nothing.
class ListingHidesEveryOtherChunk : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::vector<ObjectInfo>> List(const ListOptions& o) override {
    TXFLOW_ASSIGN_OR_RETURN(auto all, base()->List(o));
    if (o.prefix.rfind("landing_zone/", 0) != 0) return all;
    std::vector<ObjectInfo> shown;
    for (size_t i = 0; i < all.size(); ++i) {
      if (i % 2 == 1) shown.push_back(std::move(all[i]));
    }
    return shown;
  }
};

TEST_F(DetectorTest, ListingsThatMissChunksChangeNothing) {
  std::mt19937_64 rng(41);
  const Dataset d = RandomDataset(rng, 1000, false);
  auto ref = Chunked("hide-ref", d, 10);
  ASSERT_NO_FATAL_FAILURE(Detect(ref.get(), nullptr, SmallThresholds()));
  ListingHidesEveryOtherChunk root(Chunked("hide", d, 10));
  ASSERT_NO_FATAL_FAILURE(Detect(&root, nullptr, SmallThresholds()));
  std::vector<size_t> got_sizes, want_sizes;
  EXPECT_EQ(ReadFindings(&root, &got_sizes),
            ReadFindings(ref.get(), &want_sizes));
  EXPECT_EQ(got_sizes, want_sizes);
}

// With offset.csv, a missing chunk is a gap only once X says it has moved
// past it; before that the detector waits, even beside a later (foreign)
// chunk, because X may still write the missing one.
TEST_F(DetectorTest, MissingChunkIsAGapOnlyOnceTheChunkerHasPassedIt) {
  auto root =
      std::move(OpenFileSystem(testing::TestRoot("gap-offset/root")).value());
  const std::string one_row = "customer,merchant,gender,amount\nC,M,F,1\n";
  ASSERT_TRUE(root->Write(ChunkKey(0), one_row, {}).ok());
  ASSERT_TRUE(root->Write(ChunkKey(5), one_row, {}).ok());
  auto offset_at = [&](uint64_t next) {
    OffsetState x;
    x.source = "in/tx.csv";
    x.next_record = next;
    ASSERT_TRUE(root->Write(kOffsetKey, EncodeOffsetState(x), {}).ok());
  };
  ASSERT_NO_FATAL_FAILURE(offset_at(1));
  Detector det(root.get(), nullptr, {}, &clock_);
  ASSERT_TRUE(det.Open().ok());
  auto r = det.Poll();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->chunks, 1u);
  r = det.Poll();  // chunk 1 absent, X at record 1: wait
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->chunks, 0u);
  ASSERT_NO_FATAL_FAILURE(offset_at(6));  // X says it cut records 1..5
  r = det.Poll();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(
                "chunk-000000000001.csv: the next chunk is missing, but "
                "state/offset.csv says the chunker is at record 6"),
            std::string::npos)
      << r.status().message();
  // The chunk turns up after all (restored from a backup): on it goes.
  ASSERT_TRUE(root->Write(ChunkKey(1), one_row, {}).ok());
  r = det.Poll();
  ASSERT_FALSE(r.ok()) << "chunk 2 is missing too";
  EXPECT_NE(r.status().message().find("chunk-000000000002.csv"),
            std::string::npos)
      << r.status().message();
}

TEST_F(DetectorTest, CheckpointWithTwoImagesOfOneMerchantIsRefused) {
  auto root =
      std::move(OpenFileSystem(testing::TestRoot("dup-merchant/root")).value());
  MerchantState m("M1");
  m.Apply("C1", Gender::kFemale, 100, 1'000'000);
  DetectorCheckpoint c;
  c.thresholds_crc = ThresholdsFingerprint(Thresholds{});
  c.merchant_count = 2;
  std::string image;
  BeginCheckpoint(c, &image);
  m.Serialize(&image);
  m.Serialize(&image);
  FinishCheckpoint(&image);
  const std::string key = CheckpointKey(1);
  ASSERT_TRUE(root->Write(key, image, {}).ok());
  ASSERT_TRUE(root->Write(kDetectorCurrentKey,
                          key.substr(kDetectorStateDir.size()) + "\n", {})
                  .ok());
  Detector det(root.get(), nullptr, {}, &clock_);
  const Status s = det.Open();
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("merchant 'M1' appears twice"), std::string::npos)
      << s.message();
}

TEST_F(DetectorTest, CorruptCheckpointIsAClearErrorNeverASilentRestart) {
  std::mt19937_64 rng(5);
  const Dataset d = RandomDataset(rng, 300, false);
  auto root = Chunked("corrupt-ckpt", d, 50);
  {
    Detector det(root.get(), nullptr, {}, &clock_);
    ASSERT_TRUE(det.Open().ok());
    ASSERT_TRUE(det.Poll().ok());
    ASSERT_TRUE(det.Checkpoint().ok());
  }
  const std::string name = root->Read(kDetectorCurrentKey).value();
  const DetectorManifest manifest = DecodeManifest(name, "CURRENT").value();
  ASSERT_TRUE(manifest.deltas.empty());
  const std::string key = std::string(kDetectorStateDir) + manifest.base;
  const std::string good = root->Read(key).value();
  for (size_t at : {size_t{3}, size_t{10}, good.size() / 2, good.size() - 1}) {
    std::string bad = good;
    bad[at] ^= 0x10;
    ASSERT_TRUE(root->Write(key, bad, {}).ok());
    Detector det(root.get(), nullptr, {}, &clock_);
    Status s = det.Open();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << at << ": " << s.ToString();
    EXPECT_NE(s.message().find(key), std::string::npos) << s.message();
  }
  // Every truncation, and every single-bit flip of the first 256 bytes plus
  // 400 random ones elsewhere: each a clear error, never OK, never a crash.
  size_t refused = 0;
  auto expect_refused = [&](const std::string& bytes, const std::string& what) {
    ++refused;
    ASSERT_TRUE(root->Write(key, bytes, {}).ok());
    Status st = Detector(root.get(), nullptr, {}, &clock_).Open();
    EXPECT_EQ(st.code(), StatusCode::kCorruption)
        << what << ": " << st.ToString();
  };
  for (size_t len = 0; len < good.size(); ++len) {
    expect_refused(good.substr(0, len), "truncated to " + std::to_string(len));
  }
  std::mt19937_64 flips(77);
  for (int i = 0; i < 256 * 8 + 400; ++i) {
    const size_t bit = i < 256 * 8 && static_cast<size_t>(i / 8) < good.size()
                           ? static_cast<size_t>(i)
                           : flips() % (good.size() * 8);
    std::string bad = good;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    expect_refused(bad, "bit " + std::to_string(bit));
  }
  EXPECT_EQ(refused, good.size() + 256 * 8 + 400);
  EXPECT_GT(good.size(), 200u);
  ASSERT_TRUE(root->Write(key, good, {}).ok());
  // CURRENT naming something outside the state directory, or nothing.
  for (const char* current : {"../../landing_zone/chunk-000000000000.csv\n",
                              "\n", "no-such-checkpoint.bin\n"}) {
    ASSERT_TRUE(root->Write(kDetectorCurrentKey, current, {}).ok());
    Status st = Detector(root.get(), nullptr, {}, &clock_).Open();
    EXPECT_FALSE(st.ok()) << current;
    EXPECT_NE(st.message().find("state/detector/"), std::string::npos)
        << st.message();
  }
  ASSERT_TRUE(root->Write(kDetectorCurrentKey, name, {}).ok());
  ASSERT_TRUE(root->Delete(key).ok());
  EXPECT_EQ(Detector(root.get(), nullptr, {}, &clock_).Open().code(),
            StatusCode::kCorruption);
}

// What CURRENT names, decoded.
DetectorManifest ReadManifest(FileSystem* root) {
  return DecodeManifest(root->Read(kDetectorCurrentKey).value(), "CURRENT")
      .value();
}

// The state objects (checkpoint-*, delta-*) present, by name.
std::set<std::string> StateObjects(FileSystem* root) {
  std::set<std::string> out;
  for (const auto& o :
       root->List({std::string(kDetectorStateDir), "", 0}).value()) {
    const std::string name = o.key.substr(kDetectorStateDir.size());
    if (ParseStateName(name, "checkpoint-") || ParseStateName(name, "delta-"))
      out.insert(name);
  }
  return out;
}

// Runs a detector with `o` over the whole landing zone, then Checkpoint().
void DetectWith(FileSystem* root, const ImportanceTable* imp,
                const DetectorOptions& o, Clock* clock) {
  Detector det(root, imp, o, clock);
  ASSERT_TRUE(det.Open().ok());
  while (true) {
    auto r = det.Poll();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->chunks == 0) break;
  }
  ASSERT_TRUE(det.FlushPending().ok());
  ASSERT_TRUE(det.Checkpoint().ok());
}

std::unique_ptr<FileSystem> DetectorTest::DeltaChainRoot(
    const std::string& store, uint64_t seed, int rows, DetectorOptions* o) {
  std::mt19937_64 rng(seed);
  const Dataset d = RandomDataset(rng, rows, false, 1000);
  auto root = Chunked(store, d, 25);
  o->thresholds = SmallThresholds();
  o->checkpoint_every = 4;
  o->max_deltas = 1000;
  DetectWith(root.get(), nullptr, *o, &clock_);
  return root;
}

// The merchant images of the full checkpoint CURRENT names as base.
std::string BaseImages(FileSystem* root) {
  const DetectorManifest m = ReadManifest(root);
  EXPECT_TRUE(m.deltas.empty());
  const std::string key = std::string(kDetectorStateDir) + m.base;
  return DecodeCheckpoint(root->Read(key).value(), key).value().merchants;
}

// A base plus deltas restores to exactly the state an uninterrupted run
// has: restored, then written as a full image (max_deltas 0), it is byte
// for byte the full image of a run that never wrote a delta.
TEST_F(DetectorTest, BasePlusDeltasRestoresTheStateByteForByte) {
  std::mt19937_64 rng(41);
  // Many customers, few rows per checkpoint: deltas far smaller than the
  // state, so a chain builds up.
  const Dataset d = RandomDataset(rng, 6000, true, 2000);
  auto imp = ImportanceTable::Parse(d.importance, "imp").value();
  DetectorOptions full;
  full.thresholds = SmallThresholds();
  full.checkpoint_every = 3;
  full.max_deltas = 0;
  auto ref = Chunked("delta-bytes-ref", d, 20);
  ASSERT_NO_FATAL_FAILURE(DetectWith(ref.get(), &imp, full, &clock_));
  EXPECT_EQ(StateObjects(ref.get()).size(), 1u);  // superseded ones deleted
  DetectorOptions inc = full;
  inc.max_deltas = 1000;  // compaction by bytes only
  auto root = Chunked("delta-bytes", d, 20);
  ASSERT_NO_FATAL_FAILURE(DetectWith(root.get(), &imp, inc, &clock_));
  const DetectorManifest m = ReadManifest(root.get());
  EXPECT_GE(m.deltas.size(), 2u) << "the run must end on a chain of deltas";
  // Exactly the objects CURRENT names remain.
  std::set<std::string> named(m.deltas.begin(), m.deltas.end());
  named.insert(m.base);
  EXPECT_EQ(StateObjects(root.get()), named);
  // Snapshots with no chunk since rewrite the last delta under its name
  // (same changes, newer counters), after a restart and within one process.
  for (int i = 0; i < 2; ++i) {
    Detector det(root.get(), &imp, inc, &clock_);
    ASSERT_TRUE(det.Open().ok());
    ASSERT_TRUE(det.Checkpoint().ok());
    ASSERT_TRUE(det.Checkpoint().ok());
  }
  EXPECT_EQ(ReadManifest(root.get()).deltas, m.deltas);
  ASSERT_NO_FATAL_FAILURE(DetectWith(root.get(), &imp, full, &clock_));
  EXPECT_EQ(BaseImages(root.get()), BaseImages(ref.get()));
  EXPECT_EQ(ReadFindings(root.get()), ReadFindings(ref.get()));
}

// The deltas since the last full image never outweigh it, nor number more
// than max_deltas; superseded objects are gone once a new base is named.
TEST_F(DetectorTest, CompactionBoundsTheChain) {
  std::mt19937_64 rng(43);
  const Dataset d = RandomDataset(rng, 4000, false, 150);
  auto root = Chunked("compaction", d, 10);
  DetectorOptions o;
  o.thresholds = SmallThresholds();
  o.checkpoint_every = 1;
  o.max_deltas = 5;
  o.max_chunks_per_poll = 1;
  Detector det(root.get(), nullptr, o, &clock_);
  ASSERT_TRUE(det.Open().ok());
  std::set<std::string> bases;
  size_t most_deltas = 0;
  while (true) {
    auto r = det.Poll();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->chunks == 0) break;
    if (!root->Read(kDetectorCurrentKey).ok()) continue;
    const DetectorManifest m = ReadManifest(root.get());
    bases.insert(m.base);
    most_deltas = std::max(most_deltas, m.deltas.size());
    uint64_t base_bytes =
        root->Read(std::string(kDetectorStateDir) + m.base).value().size();
    uint64_t delta_bytes = 0;
    for (const std::string& n : m.deltas) {
      delta_bytes +=
          root->Read(std::string(kDetectorStateDir) + n).value().size();
    }
    EXPECT_LE(delta_bytes, base_bytes);
    EXPECT_LE(m.deltas.size(), 5u);
    std::set<std::string> named(m.deltas.begin(), m.deltas.end());
    named.insert(m.base);
    EXPECT_EQ(StateObjects(root.get()), named);
  }
  EXPECT_EQ(most_deltas, 5u);
  EXPECT_GT(bases.size(), 3u) << "compactions";
}

// A damaged, truncated or missing delta, or a damaged manifest, is a clear
// Corruption naming the object: never a silent restart from the base.
TEST_F(DetectorTest, CorruptDeltaOrManifestIsAClearError) {
  DetectorOptions o;
  auto root = DeltaChainRoot("corrupt-delta", 47, 1500, &o);
  ASSERT_FALSE(HasFatalFailure());
  const std::string manifest = root->Read(kDetectorCurrentKey).value();
  const DetectorManifest m = DecodeManifest(manifest, "CURRENT").value();
  ASSERT_GE(m.deltas.size(), 2u);
  auto expect_corrupt = [&](const std::string& key, const std::string& bytes,
                            const std::string& what) {
    ASSERT_TRUE(root->Write(key, bytes, {}).ok());
    const Status s = Detector(root.get(), nullptr, o, &clock_).Open();
    EXPECT_EQ(s.code(), StatusCode::kCorruption)
        << what << ": " << s.ToString();
    EXPECT_NE(s.message().find(key), std::string::npos)
        << what << ": " << s.message();
  };
  for (const std::string& name : {m.deltas.front(), m.deltas.back()}) {
    const std::string key = std::string(kDetectorStateDir) + name;
    const std::string good = root->Read(key).value();
    for (size_t len = 0; len < good.size(); ++len) {
      expect_corrupt(key, good.substr(0, len),
                     name + " truncated to " + std::to_string(len));
    }
    std::mt19937_64 flips(59);
    for (size_t i = 0; i < 64 * 8 + 300; ++i) {
      const size_t bit = i < 64 * 8 ? i : flips() % (good.size() * 8);
      std::string bad = good;
      bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      expect_corrupt(key, bad, name + " bit " + std::to_string(bit));
    }
    ASSERT_TRUE(root->Write(key, good, {}).ok());
    ASSERT_TRUE(root->Delete(key).ok());
    const Status s = Detector(root.get(), nullptr, o, &clock_).Open();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
    ASSERT_TRUE(root->Write(key, good, {}).ok());
  }
  // Deltas swapped: the manifest's own order check. One left out: the
  // chain check, before any pair is touched (the pair-count check in
  // MerchantState::ApplyDelta is a second guard).
  const std::vector<std::pair<std::vector<std::string>, std::string>> wrongs = {
      {{m.deltas[1], m.deltas[0]}, "unordered delta name"},
      {std::vector<std::string>(m.deltas.begin() + 1, m.deltas.end()),
       "but CURRENT puts it after"}};
  for (const auto& [deltas, why] : wrongs) {
    DetectorManifest wrong = m;
    wrong.deltas = deltas;
    ASSERT_TRUE(
        root->Write(kDetectorCurrentKey, EncodeManifest(wrong), {}).ok());
    const Status s = Detector(root.get(), nullptr, o, &clock_).Open();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
  }
  // The manifest itself: every truncation and bit flip.
  const std::string current(kDetectorCurrentKey);
  for (size_t len = 0; len < manifest.size(); ++len) {
    expect_corrupt(current, manifest.substr(0, len),
                   "CURRENT truncated to " + std::to_string(len));
  }
  for (size_t bit = 0; bit < manifest.size() * 8; ++bit) {
    std::string bad = manifest;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    expect_corrupt(current, bad, "CURRENT bit " + std::to_string(bit));
  }
  ASSERT_TRUE(root->Write(kDetectorCurrentKey, manifest, {}).ok());
  EXPECT_TRUE(Detector(root.get(), nullptr, o, &clock_).Open().ok());
}

// Deltas that decode (their checksums are right) but do not fit the state
// they extend: of several, the earliest in the chain is named, with any
// number of threads (merchants apply in parallel; a later delta extends a
// bad one, so its own failure says less).
TEST_F(DetectorTest, OfSeveralDeltasThatDoNotFitTheEarliestIsNamed) {
  DetectorOptions o;
  auto root = DeltaChainRoot("unfit-deltas", 61, 3000, &o);
  ASSERT_FALSE(HasFatalFailure());
  const DetectorManifest m = ReadManifest(root.get());
  ASSERT_GE(m.deltas.size(), 4u);
  auto key_of = [](const std::string& name) {
    return std::string(kDetectorStateDir) + name;
  };
  // Each merchant's image in a delta, by merchant id.
  auto images_of = [&](size_t k) {
    const std::string key = key_of(m.deltas[k]);
    const std::string bytes = root->Read(key).value();
    std::string_view images;
    const DetectorDelta delta = DecodeDelta(bytes, key, &images).value();
    std::map<std::string, std::string> out;
    std::string id;
    for (uint64_t i = 0; i < delta.header.merchant_count; ++i) {
      const std::string_view start = images;
      EXPECT_TRUE(MerchantState::SkipDelta(&images, &id));
      out[id] = std::string(start.substr(0, start.size() - images.size()));
    }
    return std::make_pair(delta, out);
  };
  auto rewrite = [&](size_t k, const std::map<std::string, std::string>& by) {
    const DetectorDelta own = images_of(k).first;
    DetectorCheckpoint h = own.header;
    h.merchant_count = by.size();
    std::string bytes;
    BeginDelta(h, own.extends, &bytes);
    for (const auto& [id, image] : by) bytes += image;
    FinishCheckpoint(&bytes);
    ASSERT_TRUE(root->Write(key_of(m.deltas[k]), bytes, {}).ok());
  };
  // Delta 0's images do not fit a state that delta 0 grew. Delta 3 carries
  // them for every merchant; delta 1 for one merchant only, the one with the
  // largest id, so neither merchant order nor id order finds delta 1 first.
  const auto d0 = images_of(0).second;
  auto d1 = images_of(1).second;
  std::string last;
  for (const auto& [id, image] : d1) {
    if (d0.count(id)) last = id;
  }
  ASSERT_FALSE(last.empty());
  d1[last] = d0.at(last);
  ASSERT_NO_FATAL_FAILURE(rewrite(1, d1));
  ASSERT_NO_FATAL_FAILURE(rewrite(3, d0));
  for (const int threads : {1, 2, 4}) {
    DetectorOptions t = o;
    t.threads = threads;
    const Status s = Detector(root.get(), nullptr, t, &clock_).Open();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find(key_of(m.deltas[1])), std::string::npos)
        << threads << " threads: " << s.message();
  }
  // Two merchants unfit in that delta: the lower id is named.
  std::string lowest;
  for (const auto& [id, image] : d1) {
    if (d0.count(id) && id != last) {
      lowest = id;
      break;
    }
  }
  ASSERT_FALSE(lowest.empty());
  d1[lowest] = d0.at(lowest);
  ASSERT_NO_FATAL_FAILURE(rewrite(1, d1));
  for (const int threads : {1, 2, 4}) {
    DetectorOptions t = o;
    t.threads = threads;
    const Status s = Detector(root.get(), nullptr, t, &clock_).Open();
    EXPECT_NE(s.message().find("merchant delta '" + lowest + "'"),
              std::string::npos)
        << threads << " threads: " << s.message();
  }
}

// A crash between a delta and CURRENT leaves a delta nothing names: it is
// ignored (the replay regenerates its chunks) and removed at the next Open;
// so is garbage under a state name. The one-line CURRENT of older txflow is
// still read.
TEST_F(DetectorTest, OrphanDeltaIsIgnoredAndOldCurrentIsRead) {
  std::mt19937_64 rng(53);
  const Dataset d = RandomDataset(rng, 2000, false, 1000);
  auto ref = Chunked("orphan-ref", d, 20);
  ASSERT_NO_FATAL_FAILURE(Detect(ref.get(), nullptr, SmallThresholds()));
  auto root = Chunked("orphan", d, 20);
  DetectorOptions o;
  o.thresholds = SmallThresholds();
  o.checkpoint_every = 2;
  {
    // Until the newest snapshot is a delta.
    Detector det(root.get(), nullptr, o, &clock_);
    ASSERT_TRUE(det.Open().ok());
    for (int i = 0; i < 100; ++i) {
      int n = 0;
      ASSERT_TRUE(det.Poll([&] { return n++ == 2; }).ok());
      if (root->Read(kDetectorCurrentKey).ok() &&
          !ReadManifest(root.get()).deltas.empty()) {
        break;
      }
    }
  }
  // As if the process died after the newest delta but before its CURRENT.
  const DetectorManifest newer = ReadManifest(root.get());
  ASSERT_FALSE(newer.deltas.empty());
  DetectorManifest older = newer;
  older.deltas.pop_back();
  ASSERT_TRUE(root->Write(kDetectorCurrentKey, EncodeManifest(older), {}).ok());
  const std::string junk =
      std::string(kDetectorStateDir) + "delta-999999999999.bin";
  ASSERT_TRUE(root->Write(junk, "not a delta", {}).ok());
  {
    Detector det(root.get(), nullptr, o, &clock_);
    ASSERT_TRUE(det.Open().ok());
    EXPECT_FALSE(root->Read(junk).ok());
    EXPECT_FALSE(
        root->Read(std::string(kDetectorStateDir) + newer.deltas.back()).ok());
  }
  // An older txflow's CURRENT: one line naming a full checkpoint.
  {
    DetectorOptions full = o;
    full.max_deltas = 0;
    Detector det(root.get(), nullptr, full, &clock_);
    ASSERT_TRUE(det.Open().ok());
    ASSERT_TRUE(det.Checkpoint().ok());
  }
  const DetectorManifest base = ReadManifest(root.get());
  ASSERT_TRUE(base.deltas.empty());
  ASSERT_TRUE(root->Write(kDetectorCurrentKey, base.base + "\n", {}).ok());
  ASSERT_NO_FATAL_FAILURE(DetectWith(root.get(), nullptr, o, &clock_));
  EXPECT_EQ(ReadFindings(root.get()), ReadFindings(ref.get()));
}

// A lost CURRENT on a root with deltas is Corruption, and no snapshot object
// is deleted: restarting from zero would drop the state silently. A full
// image without CURRENT (a crash before the first CURRENT) is legitimate:
// the detector starts from zero and keeps it until a CURRENT exists.
TEST_F(DetectorTest, LostCurrentWithDeltasIsRefusedAndNothingIsDeleted) {
  std::mt19937_64 rng(59);
  const Dataset d = RandomDataset(rng, 2000, false, 1000);
  auto ref = Chunked("lost-current-ref", d, 20);
  ASSERT_NO_FATAL_FAILURE(Detect(ref.get(), nullptr, SmallThresholds()));
  auto root = Chunked("lost-current", d, 20);
  DetectorOptions o;
  o.thresholds = SmallThresholds();
  o.checkpoint_every = 3;
  ASSERT_NO_FATAL_FAILURE(DetectWith(root.get(), nullptr, o, &clock_));
  const DetectorManifest m = ReadManifest(root.get());
  ASSERT_FALSE(m.deltas.empty());
  const std::string image = std::string(kDetectorStateDir) + m.base;
  const std::string image_bytes = root->Read(image).value();
  const auto before = root->List({std::string(kDetectorStateDir), "", 0});
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(root->Delete(kDetectorCurrentKey).ok());
  {
    Detector det(root.get(), nullptr, o, &clock_);
    const Status s = det.Open();
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find("CURRENT is missing, but"), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("delta-"), std::string::npos) << s.message();
  }
  const auto after = root->List({std::string(kDetectorStateDir), "", 0});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size() - 1);  // all but CURRENT
  // Repaired by hand, the run goes on as if nothing happened.
  ASSERT_TRUE(root->Write(kDetectorCurrentKey, EncodeManifest(m), {}).ok());
  ASSERT_NO_FATAL_FAILURE(DetectWith(root.get(), nullptr, o, &clock_));
  EXPECT_EQ(ReadFindings(root.get()), ReadFindings(ref.get()));

  // Only a full image and no CURRENT: started from zero, the image kept.
  auto fresh = Chunked("lost-current-first", d, 20);
  ASSERT_TRUE(fresh->Write(image, image_bytes, {}).ok());
  {
    Detector det(fresh.get(), nullptr, o, &clock_);
    ASSERT_TRUE(det.Open().ok());
    EXPECT_EQ(det.stats().chunks, 0u);
    EXPECT_TRUE(fresh->Read(image).ok());
  }
  ASSERT_NO_FATAL_FAILURE(DetectWith(fresh.get(), nullptr, o, &clock_));
  EXPECT_EQ(ReadFindings(fresh.get()), ReadFindings(ref.get()));
}

TEST_F(DetectorTest, OtherThresholdsThanTheCheckpointAreRefused) {
  auto root =
      std::move(OpenFileSystem(testing::TestRoot("thresholds/root")).value());
  {
    Detector det(root.get(), nullptr, {}, &clock_);
    ASSERT_TRUE(det.Open().ok());
    ASSERT_TRUE(det.Checkpoint().ok());
  }
  DetectorOptions o;
  o.thresholds.child_min_txns = 81;
  Status s = Detector(root.get(), nullptr, o, &clock_).Open();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("thresholds differ"), std::string::npos);
}

TEST(DetectorCheckpoint, PendingDetectionsKeepTheirEvidence) {
  DetectorCheckpoint c;
  c.detections = 1;
  Detection d{Pattern::kUpgrade, "C1", "M1", 1'795'614'222'123, {}};
  d.evidence = {true,  "landing_zone/chunk-000000000100.csv",
                60001, 7,
                -250,  123'456'789,
                420,   1.25e6 + 0.5,
                3,     4};
  c.pending = {d};
  const auto back = DecodeCheckpoint(EncodeCheckpoint(c), "c").value();
  ASSERT_EQ(back.pending.size(), 1u);
  EXPECT_EQ(back.pending[0].evidence, d.evidence);
  // Version 1 (no evidence) is still read: here without pending detections,
  // where the two versions' payloads are the same bytes.
  c.detections = 0;
  c.pending.clear();
  std::string v1 = EncodeCheckpoint(c);
  v1[8] = 1;  // the u32 version after the 8-byte magic, little-endian
  EXPECT_TRUE(DecodeCheckpoint(v1, "c").ok());
  v1[8] = 3;
  EXPECT_EQ(DecodeCheckpoint(v1, "c").status().code(), StatusCode::kCorruption);
}

TEST(DetectionFile, RowsAndNamesFollowTheSpec) {
  EXPECT_EQ(FormatTimestamp(1'795'614'222'123, 330),
            "2026-11-25T19:13:42.123+05:30");
  EXPECT_EQ(FormatTimestamp(1'795'614'222'123, 0),
            "2026-11-25T13:43:42.123+00:00");
  EXPECT_EQ(FormatTimestamp(1'795'614'222'123, -90),
            "2026-11-25T12:13:42.123-01:30");
  EXPECT_EQ(*ParseTimezone("Asia/Kolkata"), 330);
  EXPECT_EQ(*ParseTimezone("-01:30"), -90);
  EXPECT_FALSE(ParseTimezone("Mars/Olympus").ok());
  EXPECT_EQ(DetectionFileKey(1'795'614'222, 7),
            "detections/detections_1795614222_000007.csv");
  EXPECT_EQ(
      ParseDetectionFileSeq("detections/detections_1795614222_000007.csv"), 7u);
  EXPECT_EQ(ParseDetectionFileSeq("detections/other.csv"), std::nullopt);
  const std::string text =
      EncodeDetectionFile({{Pattern::kDei, "", "M1", 1'795'614'222'123, {}},
                           {Pattern::kChild, "C,1", "M2", 0, {}}},
                          1'795'614'000'000, 330);
  EXPECT_EQ(
      text,
      "YStartTime,detectionTime,patternId,ActionType,customerName,MerchantId\n"
      "2026-11-25T19:10:00.000+05:30,2026-11-25T19:13:42.123+05:30,PatId3,DEI-"
      "NEEDED,"
      "\"\",M1\n"
      "2026-11-25T19:10:00.000+05:30,1970-01-01T05:30:00.000+05:30,PatId2,"
      "CHILD,"
      "\"C,1\",M2\n");
  EXPECT_EQ(CountDetectionRows(text), 2u);
}

}  // namespace
}  // namespace txflow
