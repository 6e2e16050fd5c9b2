// `txflow status` against roots in known states: every exit code, the JSON
// parsed by an independent parser (Python's json module) and its numbers
// checked against what the test itself generated and counted, the root left
// byte-identical, and status polled while `txflow run` works on the root.
// On local directories, and (TXFLOW_TEST_STORAGE=s3) on the S3 server, where
// the request counts also prove that no PUT, POST or DELETE was sent.
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
using testing::Slurp;
using testing::Spawn;
using testing::TreeOf;
using testing::Wait;

constexpr uint64_t kRecords = 40'000;
constexpr uint64_t kChunkRows = 1'000;
// A bad amount: one quarantined row in the last chunk.
constexpr char kBadRow[] =
    "0,'C9','4','M','28007','M9','28007','es_food',1e2,0\n";

struct StatusRun {
  int rc = -1;
  std::string out, err;
  std::map<std::string, std::string> json;  // "a.b" -> JSON text of the value
};

class StatusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) /
           ("status-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ASSERT_TRUE(
        GenerateDataset(dir_.string(), GeneratorOptions{kRecords, 3, 0}).ok());
    source_ = (dir_ / "transactions.csv").string();
    { std::ofstream(source_, std::ios::app) << kBadRow; }
    base_ = dir_.string();
    if (testing::UsingS3()) {
      base_ = testing::S3TestRoot("status");
      ASSERT_NO_FATAL_FAILURE(testing::Upload(source_, base_ + "/in"));
      source_ = base_ + "/in/transactions.csv";
    }
  }
  static void TearDownTestSuite() {
    if (testing::UsingS3()) testing::RemoveTree(base_);
    fs::remove_all(dir_);
  }

  std::string Root(const std::string& name) { return base_ + "/" + name; }

  static std::vector<std::string> Chunk(const std::string& root,
                                        uint64_t rows = kChunkRows) {
    return {"chunk",    "--drain", "--chunk-rows", std::to_string(rows),
            "--source", source_,   "--root",       root};
  }
  // Low thresholds, so all three patterns fire on 40,000 records.
  static std::vector<std::string> Detect(const std::string& root) {
    return {"detect",
            "--drain",
            "--root",
            root,
            "--upgrade-min-txns",
            "300",
            "--child-min-txns",
            "8",
            "--dei-min-female",
            "20",
            "--checkpoint-every",
            "3"};
  }

  // Runs `txflow status --root root extra...`; with --json, parses stdout.
  StatusRun Status(const std::string& root, std::vector<std::string> extra) {
    std::vector<std::string> args = {"status", "--root", root};
    for (auto& a : extra) args.push_back(a);
    const std::string base =
        (dir_ / ("st-" + std::to_string(++calls_))).string();
    StatusRun r;
    r.rc = RunSplit(args, base + ".out", base + ".err");
    r.out = Slurp(base + ".out");
    r.err = Slurp(base + ".err");
    if (std::find(extra.begin(), extra.end(), "--json") != extra.end())
      r.json = ParseJson(base + ".out");
    return r;
  }

  // stdout and stderr to separate files.
  static int RunSplit(const std::vector<std::string>& args,
                      const std::string& out, const std::string& err) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      std::vector<char*> argv = {const_cast<char*>(TXFLOW_BINARY)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(TXFLOW_BINARY, argv.data());
      ::_exit(127);
    }
    return Wait(pid);
  }

  // Python's json module (not txflow's code) parses the output and
  // flattens it to "a.b=<json value>" lines; a parse error leaves the map
  // with the single key "error".
  static std::map<std::string, std::string> ParseJson(const std::string& path) {
    const std::string script =
        "import json,sys\n"
        "d=json.load(open(sys.argv[1]))\n"
        "def walk(p,v):\n"
        "  if isinstance(v,dict):\n"
        "    for k,x in v.items(): walk(p+[k],x)\n"
        "  else: print('.'.join(p)+'='+json.dumps(v))\n"
        "walk([],d)\n";
    const std::string py = path + ".py", flat = path + ".flat";
    std::ofstream(py) << script;
    const std::string cmd =
        "python3 " + py + " " + path + " > " + flat + " 2>&1";
    std::map<std::string, std::string> out;
    if (std::system(cmd.c_str()) != 0) {
      out["error"] = Slurp(flat);
      return out;
    }
    std::stringstream in(Slurp(flat));
    std::string line;
    while (std::getline(in, line)) {
      const size_t eq = line.find('=');
      out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
  }

  // Detections in the root's detection files, counted from their rows.
  static uint64_t DetectionRows(const std::string& root, uint64_t* files) {
    uint64_t rows = 0;
    *files = 0;
    for (const auto& [name, bytes] : TreeOf(root + "/detections")) {
      if (name.rfind("detections_", 0) != 0) continue;  // evidence/ etc.
      ++*files;
      rows += std::count(bytes.begin(), bytes.end(), '\n') - 1;  // header
    }
    return rows;
  }

  static void ExpectReadOnly(const StatusRun& r) {
    // Zero on local roots; on S3 the binary's own request counters.
    EXPECT_EQ(r.json.at("requests.put"), "0");
    EXPECT_EQ(r.json.at("requests.post"), "0");
    EXPECT_EQ(r.json.at("requests.delete"), "0");
    EXPECT_LE(std::stoull(r.json.at("requests.total")),
              std::stoull(r.json.at("requests.budget")));
  }

  static inline fs::path dir_;
  static inline std::string source_, base_;
  static inline int calls_ = 0;
};

TEST_F(StatusTest, DrainedRootIsHealthyWithTheNumbersTheRunProduced) {
  const std::string root = Root("drained");
  ASSERT_EQ(Wait(Spawn(Chunk(root))), 0);
  ASSERT_EQ(Wait(Spawn(Detect(root))), 0);
  const auto before = TreeOf(root);
  uint64_t files = 0;
  const uint64_t detections = DetectionRows(root, &files);
  ASSERT_GT(files, 1u);

  StatusRun r = Status(root, {"--json"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  ASSERT_EQ(r.json.count("error"), 0u) << r.json["error"];
  const uint64_t records = kRecords + 1;  // the generated rows + the bad one
  const uint64_t chunks = (records + kChunkRows - 1) / kChunkRows;
  EXPECT_EQ(r.json["verdict"], "\"healthy\"");
  EXPECT_EQ(r.json["chunker.next_record"], std::to_string(records));
  EXPECT_EQ(r.json["chunker.chunks_written"], std::to_string(chunks));
  EXPECT_EQ(r.json["source.size_bytes"],
            std::to_string(fs::file_size(dir_ / "transactions.csv")));
  EXPECT_EQ(r.json["chunker.source_backlog_bytes"], "0");
  EXPECT_EQ(r.json["detector.chunks"], std::to_string(chunks));
  EXPECT_EQ(r.json["detector.records"], std::to_string(records));
  EXPECT_EQ(r.json["detector.detections"], std::to_string(detections));
  EXPECT_EQ(r.json["detector.files"], std::to_string(files));
  EXPECT_EQ(r.json["detector.pending_detections"], "0");  // drained
  EXPECT_EQ(r.json["detector.bad_rows"], "1");
  EXPECT_EQ(r.json["outputs.quarantine_files"], "1");
  EXPECT_EQ(r.json["outputs.detection_files"], std::to_string(files));
  char last[32];
  std::snprintf(last, sizeof(last), "_%06llu.csv",
                static_cast<unsigned long long>(files));
  EXPECT_NE(r.json["outputs.last_detection_file"].find(last),
            std::string::npos);
  EXPECT_EQ(r.json["backlog.chunks"], "0");
  EXPECT_EQ(r.json["backlog.records"], "0");
  EXPECT_EQ(r.json["detector.lock"], "null");  // released on exit
  ExpectReadOnly(r);
  if (testing::UsingS3()) {
    EXPECT_GT(std::stoull(r.json["requests.total"]), 0u);
  }

  StatusRun text = Status(root, {});
  EXPECT_EQ(text.rc, 0);
  EXPECT_NE(text.out.find("verdict      healthy"), std::string::npos)
      << text.out;
  EXPECT_EQ(TreeOf(root), before) << "status changed the root";
}

// The source grows after X and Y caught up with its first half: status shows
// the unchunked bytes, then the chunks and records Y has not taken.
TEST_F(StatusTest, GrowingSourceShowsSourceAndChunkBacklogs) {
  const std::string all = Slurp(dir_ / "transactions.csv");
  size_t cut = 0;  // the end of the header and 20,000 records
  for (int lines = 0; lines < 20'001; ++lines) cut = all.find('\n', cut) + 1;
  const fs::path half_dir = dir_ / "growing";
  fs::create_directories(half_dir);
  const fs::path local = half_dir / "growing.csv";
  std::string source = local.string();
  auto publish = [&](std::string_view text) {
    std::ofstream(local, std::ios::binary | std::ios::trunc) << text;
    if (testing::UsingS3()) {
      testing::Upload(local.string(), base_ + "/growing-in");
      source = base_ + "/growing-in/growing.csv";
    }
  };
  publish(std::string_view(all).substr(0, cut));
  const std::string root = Root("growing");
  auto chunk = [&] {
    return Wait(Spawn({"chunk", "--drain", "--chunk-rows", "1000", "--source",
                       source, "--root", root}));
  };
  ASSERT_EQ(chunk(), 0);
  ASSERT_EQ(Wait(Spawn(Detect(root))), 0);
  publish(all);

  StatusRun r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.json["chunker.source_backlog_bytes"],
            std::to_string(all.size() - cut));
  EXPECT_EQ(r.json["backlog.chunks"], "0");

  ASSERT_EQ(chunk(), 0);
  r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.json["chunker.source_backlog_bytes"], "0");
  EXPECT_EQ(r.json["detector.next_record"], "20000");
  EXPECT_EQ(r.json["backlog.chunks"], "21");  // 20,001 records in 1,000s
  EXPECT_EQ(r.json["backlog.records"], "20001");
  EXPECT_EQ(r.json["backlog.oldest_chunk"],
            "\"landing_zone/chunk-000000020000.csv\"");
  ExpectReadOnly(r);
}

TEST_F(StatusTest, BacklogOlderThanLagWarnIsLagging) {
  const std::string root = Root("undetected");
  ASSERT_EQ(Wait(Spawn(Chunk(root))), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const auto before = TreeOf(root);
  StatusRun r = Status(root, {"--json", "--lag-warn", "1s"});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_EQ(r.json["verdict"], "\"lagging\"");
  const uint64_t chunks = (kRecords + 1 + kChunkRows - 1) / kChunkRows;
  EXPECT_EQ(r.json["backlog.chunks"], std::to_string(chunks));
  EXPECT_EQ(r.json["backlog.records"], std::to_string(kRecords + 1));
  EXPECT_EQ(r.json["backlog.oldest_chunk"],
            "\"landing_zone/chunk-000000000000.csv\"");
  EXPECT_GE(std::stoll(r.json["backlog.lag_ms"]), 2000);
  EXPECT_NE(r.json["reasons"].find("over --lag-warn"), std::string::npos);
  ExpectReadOnly(r);
  // The same backlog within the default lag-warn (60 s) is healthy.
  EXPECT_EQ(Status(root, {}).rc, 0);
  EXPECT_EQ(TreeOf(root), before) << "status changed the root";
}

TEST_F(StatusTest, ExpiredDetectorLockWithBacklogIsLagging) {
  const std::string root = Root("dead-detector");
  ASSERT_EQ(Wait(Spawn(Chunk(root))), 0);
  auto fs = OpenFileSystem(root);
  ASSERT_TRUE(fs.ok());
  // A holder whose lease ran out a minute ago (docs/formats.md, lock object).
  const int64_t expired =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count() -
      60'000;
  const std::string lock =
      "format,host,boot_id,pid,token,acquired_at_ms,expires_at_ms\n"
      "txflow-lock-1,elsewhere,b00t,4242,1," +
      std::to_string(expired - 60'000) + "," + std::to_string(expired) + "\n";
  ASSERT_TRUE((*fs)->Write("state/detector.lock", lock).ok());
  StatusRun r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_EQ(r.json["detector.lock.pid"], "4242");
  EXPECT_EQ(r.json["detector.lock.host"], "\"elsewhere\"");
  EXPECT_EQ(r.json["detector.lock.expired"], "true");
  EXPECT_NE(r.json["reasons"].find("lock expired"), std::string::npos);
}

TEST_F(StatusTest, CorruptOffsetIsBrokenWithOneLine) {
  const std::string root = Root("corrupt-offset");
  ASSERT_EQ(Wait(Spawn(Chunk(root))), 0);
  auto fs = OpenFileSystem(root);
  ASSERT_TRUE(fs.ok());
  auto offset = (*fs)->Read("state/offset.csv");
  ASSERT_TRUE(offset.ok());
  std::string bad = *offset;
  bad[bad.size() / 2 + 3] ^= 0x01;  // one flipped bit in the data row
  ASSERT_TRUE((*fs)->Write("state/offset.csv", bad).ok());
  StatusRun r = Status(root, {});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("state/offset.csv"), std::string::npos) << r.err;
  StatusRun j = Status(root, {"--json"});
  EXPECT_EQ(j.rc, 2);
  EXPECT_EQ(j.json["verdict"], "\"broken\"");
  EXPECT_NE(j.json["reasons"].find("offset.csv"), std::string::npos);
}

TEST_F(StatusTest, MissingChunkIsAGapAndBroken) {
  const std::string root = Root("gap");
  ASSERT_EQ(Wait(Spawn(Chunk(root))), 0);
  auto fs = OpenFileSystem(root);
  ASSERT_TRUE(fs.ok());
  ASSERT_TRUE((*fs)->Delete("landing_zone/chunk-000000000000.csv").ok());
  StatusRun r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.json["reasons"].find("chunk-000000000000.csv is missing"),
            std::string::npos)
      << r.json["reasons"];
}

// Every object CURRENT names must exist, not only the newest: a root the
// detector refuses to start is broken, never healthy.
TEST_F(StatusTest, MissingMiddleDeltaIsBroken) {
  const std::string root = Root("middle-delta");
  ASSERT_EQ(Wait(Spawn(Chunk(root))), 0);
  ASSERT_EQ(Wait(Spawn(Detect(root))), 0);
  auto fs = OpenFileSystem(root);
  ASSERT_TRUE(fs.ok());
  const std::string current = (*fs)->Read("state/detector/CURRENT").value();
  // The manifest holds the names as plain bytes.
  std::vector<std::string> deltas;
  for (size_t at = current.find("delta-"); at != std::string::npos;
       at = current.find("delta-", at + 1)) {
    deltas.push_back(current.substr(at, std::string("delta-").size() + 16));
  }
  ASSERT_GE(deltas.size(), 2u) << "a chain of deltas";
  EXPECT_EQ(Status(root, {"--json"}).rc, 0);
  ASSERT_TRUE((*fs)->Delete("state/detector/" + deltas.front()).ok());
  StatusRun r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_EQ(r.json["verdict"], "\"broken\"");
  EXPECT_NE(r.json["reasons"].find(deltas.front() + ", which does not exist"),
            std::string::npos)
      << r.json["reasons"];
}

TEST_F(StatusTest, ChunkerPastAnAbsentChunkIsAGapAndBroken) {
  const std::string root = Root("emptied");
  ASSERT_EQ(Wait(Spawn(Chunk(root))), 0);
  auto fs = OpenFileSystem(root);
  ASSERT_TRUE(fs.ok());
  auto chunks = (*fs)->List({"landing_zone/", "", 0});
  ASSERT_TRUE(chunks.ok());
  for (const auto& c : *chunks) ASSERT_TRUE((*fs)->Delete(c.key).ok());
  StatusRun r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.json["reasons"].find("says the chunker is at record 40001"),
            std::string::npos)
      << r.json["reasons"];
}

// A wrong --root (a typo, an unmounted volume, a wrong prefix) is broken,
// never healthy, and status creates nothing there.
TEST_F(StatusTest, MissingRootIsBrokenAndStaysMissing) {
  const std::string root = Root("no-such") + "/root";
  StatusRun r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_EQ(r.json["verdict"], "\"broken\"");
  EXPECT_NE(r.json["reasons"].find("nothing here: no state/offset.csv, no "
                                   "detector checkpoint; is the root right?"),
            std::string::npos)
      << r.json["reasons"];
  ExpectReadOnly(r);
  StatusRun text = Status(root, {});
  EXPECT_EQ(text.rc, 2);
  EXPECT_NE(text.out.find("verdict      broken"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("nothing here"), std::string::npos) << text.out;
  if (!testing::UsingS3()) {
    EXPECT_FALSE(fs::exists(Root("no-such")));
  }
  EXPECT_TRUE(TreeOf(Root("no-such")).empty()) << "status created objects";
}

// An empty directory or prefix, beside a sibling whose name it prefixes.
TEST_F(StatusTest, EmptyRootIsBroken) {
  const std::string root = Root("empty");
  if (!testing::UsingS3()) fs::create_directories(root);
  auto sibling = OpenFileSystem(Root("empty-sibling"));
  ASSERT_TRUE(sibling.ok());
  ASSERT_TRUE((*sibling)->Write("x", "y").ok());
  StatusRun r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.json["reasons"].find("nothing here"), std::string::npos)
      << r.json["reasons"];
  ExpectReadOnly(r);
  EXPECT_TRUE(TreeOf(root).empty()) << "status created objects";
  // Any object under it: a root that started, judged as before.
  auto fs = OpenFileSystem(root);
  ASSERT_TRUE(fs.ok());
  ASSERT_TRUE((*fs)->Write("state/x", "x").ok());
  r = Status(root, {"--json"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
}

TEST_F(StatusTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Status("", {}).rc, 2);
  StatusRun r = Status(Root("any"), {"--max-requests", "3"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--max-requests"), std::string::npos);
}

TEST_F(StatusTest, ListingsStopAtTheRequestBudget) {
  const std::string root = Root("many-chunks");
  ASSERT_EQ(Wait(Spawn(Chunk(root, 20))), 0);  // 2,001 chunks
  // The smallest budget: one page (1,000 keys) per listing.
  StatusRun r = Status(root, {"--json", "--max-requests", "15"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(r.json["backlog.chunks"], "1000");
  EXPECT_EQ(r.json["backlog.chunks_truncated"], "true");
  EXPECT_EQ(r.json["backlog.records"], std::to_string(kRecords + 1));
  ExpectReadOnly(r);
  if (testing::UsingS3()) {
    EXPECT_LE(std::stoull(r.json["requests.total"]), 15u);
    EXPECT_EQ(r.json["requests.list"], "3");  // no checkpoint yet: 3 listings
  }
}

// X and Y together: status polled all through a `txflow run` never fails,
// never reads a gap, and the run's output is what the same run gives alone.
TEST_F(StatusTest, PolledDuringRunNeverFailsNorDisturbsIt) {
  const std::string alone = Root("run-alone");
  const std::string watched = Root("run-watched");
  auto run = [&](const std::string& root) {
    std::vector<std::string> args = {"run",
                                     "--drain",
                                     "--chunk-rows",
                                     "50",
                                     "--source",
                                     source_,
                                     "--root",
                                     root,
                                     "--upgrade-min-txns",
                                     "300",
                                     "--child-min-txns",
                                     "8",
                                     "--dei-min-female",
                                     "20",
                                     "--checkpoint-every",
                                     "5"};
    return Spawn(
        args, (dir_ / (fs::path(root).filename().string() + ".log")).string());
  };
  ASSERT_EQ(Wait(run(alone)), 0);
  const pid_t pid = run(watched);
  // Until the run's first write (its lock) the root is empty, which status
  // rightly calls broken ("nothing here"): poll from then on.
  auto watched_fs = OpenFileSystem(watched);
  ASSERT_TRUE(watched_fs.ok());
  for (int i = 0; i < 3000; ++i) {
    auto first = (*watched_fs)->List({"", "", 1});
    if (first.ok() && !first->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int polls = 0;
  int status_rc = 0;
  while (true) {
    StatusRun r = Status(watched, {"--json", "--lag-warn", "1h"});
    ++polls;
    ASSERT_EQ(r.rc, 0) << "poll " << polls << ": " << r.out << r.err;
    ASSERT_EQ(r.json.count("error"), 0u) << r.json["error"];
    ExpectReadOnly(r);
    if (::waitpid(pid, &status_rc, WNOHANG) == pid) break;
  }
  ASSERT_TRUE(WIFEXITED(status_rc) && WEXITSTATUS(status_rc) == 0);
  EXPECT_GE(polls, 2);
  EXPECT_EQ(testing::DetectionsWithoutTimes(watched),
            testing::DetectionsWithoutTimes(alone));
  EXPECT_EQ(TreeOf(watched + "/landing_zone"), TreeOf(alone + "/landing_zone"));
  StatusRun last = Status(watched, {"--json"});
  EXPECT_EQ(last.rc, 0);
  EXPECT_EQ(last.json["backlog.chunks"], "0");
  EXPECT_EQ(last.json["detector.records"], std::to_string(kRecords + 1));
}

}  // namespace
}  // namespace txflow
