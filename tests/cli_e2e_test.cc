// Drives the built txflow binary the way a user does: exit codes, help, errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "gen/banksim_generator.h"
#include "process.h"

namespace txflow {
namespace {

struct Outcome {
  int code;
  std::string out;  // stdout and stderr together
};

Outcome Txflow(const std::string& args) {
  const std::string cmd = std::string(TXFLOW_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  Outcome r{-1, ""};
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("txflow-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CliTest, EveryCommandHasHelpAndExitsZero) {
  for (const char* cmd :
       {"gen", "chunk", "x", "detect", "y", "run", "version"}) {
    Outcome r = Txflow(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("Usage: txflow"), std::string::npos)
        << cmd << ": " << r.out;
  }
  Outcome top = Txflow("--help");
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("Commands:"), std::string::npos);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Txflow("").code, 2);
  EXPECT_EQ(Txflow("frobnicate").code, 2);
  Outcome r = Txflow("gen --rows 10");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("missing required flag --out"), std::string::npos)
      << r.out;
  Outcome s3 = Txflow("gen --out s3://bucket/x");
  EXPECT_EQ(s3.code, 2);
  EXPECT_NE(s3.out.find("local directory only"), std::string::npos) << s3.out;
}

TEST_F(CliTest, GenWritesWhatTheLibraryGenerates) {
  Outcome r = Txflow("gen --out " + dir_.string() + " --rows 5000 --seed 9");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("5000 records"), std::string::npos) << r.out;
  BankSimGenerator gen(GeneratorOptions{5000, 9, 0});
  std::string expected;
  ASSERT_TRUE(gen.WriteTransactions([&](std::string_view b) {
                   expected.append(b);
                   return Status::OK();
                 })
                  .ok());
  EXPECT_EQ(Slurp(dir_ / "transactions.csv"), expected);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "CustomerImportance.csv"));
  // No staging files left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 2);
}

TEST_F(CliTest, GenIntoUnwritablePlaceIsOneLineErrorExitOne) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  const std::string target = (dir_ / "file" / "sub").string();
  Outcome r = Txflow("gen --out " + target + " --rows 10");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(target), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST_F(CliTest, ChunkMissingSourceIsOneLineErrorNamingIt) {
  const std::string missing = (dir_ / "nope.csv").string();
  Outcome r = Txflow("chunk --source " + missing + " --root " +
                     (dir_ / "r").string() + " --once");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "txflow chunk: " + missing + ": source not found\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "r" / "state" / "offset.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "r" / "state" / "chunker.lock"));
}

TEST_F(CliTest, SecondChunkerIsRefusedAndSigtermReleasesTheLock) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "s.csv") << "h\n1\n2\n";
  const std::string src = (dir_ / "s.csv").string(),
                    root = (dir_ / "r").string();
  const pid_t first = testing::Spawn({"chunk", "--source", src, "--root", root,
                                      "--every", "100ms", "--linger", "0s"});
  const auto lock = dir_ / "r" / "state" / "chunker.lock";
  for (int i = 0;
       i < 500 && !std::filesystem::exists(dir_ / "r" / "state" / "offset.csv");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(lock));
  Outcome second =
      Txflow("chunk --source " + src + " --root " + root + " --once");
  EXPECT_EQ(second.code, 1) << second.out;
  EXPECT_NE(second.out.find("held by pid " + std::to_string(first)),
            std::string::npos)
      << second.out;
  EXPECT_EQ(std::count(second.out.begin(), second.out.end(), '\n'), 1)
      << second.out;
  ::kill(first, SIGTERM);
  EXPECT_EQ(testing::Wait(first), 0);
  EXPECT_FALSE(std::filesystem::exists(lock));
  // The first chunker's work is intact and a new one can continue.
  EXPECT_EQ(
      testing::Slurp(dir_ / "r" / "landing_zone" / "chunk-000000000000.csv"),
      "h\n1\n2\n");
  EXPECT_EQ(
      Txflow("chunk --source " + src + " --root " + root + " --once").code, 0);
}

constexpr const char* kSmallThresholds =
    " --upgrade-min-txns 2000 --child-min-txns 20 --dei-min-female 5";

TEST_F(CliTest, RunDrainEqualsChunkThenDetect) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 20000 --seed 5");
  ASSERT_EQ(g.code, 0) << g.out;
  const std::string src = (dir_ / "transactions.csv").string();
  const std::string imp = (dir_ / "CustomerImportance.csv").string();
  Outcome run = Txflow("run --drain --source " + src + " --importance " + imp +
                       " --root " + (dir_ / "a").string() +
                       " --chunk-rows 1000" + kSmallThresholds);
  ASSERT_EQ(run.code, 0) << run.out;
  EXPECT_NE(run.out.find("records:     20000 chunked into 20 chunks"),
            std::string::npos)
      << run.out;
  ASSERT_EQ(Txflow("chunk --drain --source " + src + " --root " +
                   (dir_ / "b").string() + " --chunk-rows 1000")
                .code,
            0);
  Outcome det = Txflow("detect --drain --importance " + imp + " --root " +
                       (dir_ / "b").string() + kSmallThresholds);
  ASSERT_EQ(det.code, 0) << det.out;
  const auto a = testing::DetectionsWithoutTimes((dir_ / "a").string());
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, testing::DetectionsWithoutTimes((dir_ / "b").string()));
  // Every pattern fires on this data at these thresholds.
  std::string all;
  for (const auto& f : a) all += f;
  for (const char* p :
       {"PatId1,UPGRADE", "PatId2,CHILD", "PatId3,DEI-NEEDED"}) {
    EXPECT_NE(all.find(p), std::string::npos) << p;
  }
}

TEST_F(CliTest, ThreadsChangeNoDetectionAndRunTakesTheFlag) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 30000 --seed 8");
  ASSERT_EQ(g.code, 0) << g.out;
  const std::string src = (dir_ / "transactions.csv").string();
  const std::string imp = (dir_ / "CustomerImportance.csv").string();
  std::map<std::string, std::vector<std::string>> got;
  for (const char* threads : {"1", "2", "5"}) {
    const std::string root = (dir_ / (std::string("d") + threads)).string();
    ASSERT_EQ(Txflow("chunk --drain --source " + src + " --root " + root +
                     " --chunk-rows 700")
                  .code,
              0);
    Outcome det =
        Txflow("detect --drain --threads " + std::string(threads) +
               " --importance " + imp + " --root " + root + kSmallThresholds);
    ASSERT_EQ(det.code, 0) << det.out;
    got[threads] = testing::DetectionsWithoutTimes(root);
  }
  // X and Y side by side, Y on three threads.
  const std::string run_root = (dir_ / "run").string();
  Outcome run = Txflow("run --drain --threads 3 --source " + src +
                       " --importance " + imp + " --root " + run_root +
                       " --chunk-rows 700" + kSmallThresholds);
  ASSERT_EQ(run.code, 0) << run.out;
  got["run"] = testing::DetectionsWithoutTimes(run_root);
  std::string all;
  for (const auto& f : got["1"]) all += f;
  for (const char* p :
       {"PatId1,UPGRADE", "PatId2,CHILD", "PatId3,DEI-NEEDED"}) {
    EXPECT_NE(all.find(p), std::string::npos) << p;
  }
  for (const auto& [name, files] : got) EXPECT_EQ(files, got["1"]) << name;
  Outcome bad = Txflow("detect --drain --threads 100000 --root " + run_root);
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--threads must be at most 256"), std::string::npos)
      << bad.out;
}

TEST_F(CliTest, DetectMissingColumnIsOneLineErrorNamingIt) {
  std::filesystem::create_directories(dir_ / "r" / "landing_zone");
  std::ofstream(dir_ / "r" / "landing_zone" / "chunk-000000000000.csv")
      << "customer,merchant,sex,amount\nC1,M1,F,1.00\n";
  Outcome r = Txflow("detect --drain --root " + (dir_ / "r").string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("chunk-000000000000.csv: header has no 'gender' column"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "r" / "detections"));
}

TEST_F(CliTest, SecondDetectorIsRefused) {
  std::filesystem::create_directories(dir_ / "r");
  const pid_t first = testing::Spawn(
      {"detect", "--root", (dir_ / "r").string(), "--poll", "100ms"});
  const auto lock = dir_ / "r" / "state" / "detector.lock";
  for (int i = 0; i < 500 && !std::filesystem::exists(lock); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(lock));
  Outcome second = Txflow("detect --drain --root " + (dir_ / "r").string());
  EXPECT_EQ(second.code, 1) << second.out;
  EXPECT_NE(second.out.find("held by pid " + std::to_string(first)),
            std::string::npos)
      << second.out;
  ::kill(first, SIGTERM);
  EXPECT_EQ(testing::Wait(first), 0);
  EXPECT_FALSE(std::filesystem::exists(lock));
}

// One tick of X would look like the end of the source to Y, which would
// then write a short detection file mid-stream: refused as a usage error.
TEST_F(CliTest, RunOnceIsAUsageErrorAndWritesNothing) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 2000 --seed 5");
  ASSERT_EQ(g.code, 0) << g.out;
  for (const char* drain : {"", " --drain"}) {
    Outcome r = Txflow("run --once" + std::string(drain) + " --source " +
                       (dir_ / "transactions.csv").string() + " --root " +
                       (dir_ / "r").string());
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("txflow run: --once is for txflow chunk"),
              std::string::npos)
        << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "r"));
  }
}

// A detector that cannot start (here: a corrupt checkpoint pointer) stops
// txflow run before its chunker cuts anything.
TEST_F(CliTest, RunWhoseDetectorCannotStartCutsNoChunk) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 2000 --seed 5");
  ASSERT_EQ(g.code, 0) << g.out;
  std::filesystem::create_directories(dir_ / "r" / "state" / "detector");
  std::ofstream(dir_ / "r" / "state" / "detector" / "CURRENT") << "nothing\n";
  Outcome r =
      Txflow("run --drain --source " + (dir_ / "transactions.csv").string() +
             " --root " + (dir_ / "r").string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("CURRENT: names no checkpoint"), std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "r" / "landing_zone"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "r" / "state" / "offset.csv"));
}

// A start that fails on its inputs leaves a fresh local root untouched (no
// lock, no probe scratch object, not even the directory).
TEST_F(CliTest, FailedStartLeavesAFreshLocalRootUntouched) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 100 --seed 5");
  ASSERT_EQ(g.code, 0) << g.out;
  for (const char* cmd : {"run", "detect"}) {
    const std::string source =
        std::string(cmd) == "run"
            ? " --source " + (dir_ / "transactions.csv").string()
            : "";
    Outcome r = Txflow(std::string(cmd) + " --drain" + source + " --root " +
                       (dir_ / "fresh").string() + " --importance " +
                       (dir_ / "missing.csv").string());
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("missing.csv: importance table not found"),
              std::string::npos)
        << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "fresh")) << cmd;
  }
}

// `root` with the first 1,000 records of `src` cut (one chunk; X has more
// to cut) and detected with `table`: a root with a checkpoint.
void CutOneChunkAndDetect(const std::string& src, const std::string& table,
                          const std::string& root) {
  Outcome x = Txflow("chunk --once --source " + src + " --root " + root +
                     " --chunk-rows 1000");
  ASSERT_EQ(x.code, 0) << x.out;
  Outcome y = Txflow("detect --drain --importance " + table + " --root " +
                     root + kSmallThresholds);
  ASSERT_EQ(y.code, 0) << y.out;
}

// The importance table is parsed beside the restore (PendingImportance), so
// a table that does not parse is found after the lock on a root with a
// checkpoint: it must still be the error reported (not the fingerprint
// mismatch the restore sees first), X must not start, and nothing changes;
// on a fresh root it is found before anything is touched.
TEST_F(CliTest, ImportanceThatDoesNotParseIsTheErrorAndChangesNothing) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 6000 --seed 9");
  ASSERT_EQ(g.code, 0) << g.out;
  const std::string src = (dir_ / "transactions.csv").string();
  const std::string good = (dir_ / "CustomerImportance.csv").string();
  const std::string bad = (dir_ / "bad.csv").string();
  std::ofstream(bad, std::ios::binary)
      << testing::Slurp(good) << "'C1','M1',zz,'es_a',0\n";
  const std::string root = (dir_ / "r").string();
  // One chunk of the source cut and detected with the good table: a
  // checkpoint exists, and X would have more to cut.
  ASSERT_NO_FATAL_FAILURE(CutOneChunkAndDetect(src, good, root));
  const auto before = testing::Tree(dir_ / "r");
  ASSERT_TRUE(before.count("state/detector/CURRENT"));
  ASSERT_TRUE(before.count("landing_zone/chunk-000000000000.csv"));
  const std::string alerts = (dir_ / "alerts.txt").string();
  for (const char* cmd : {"detect", "run"}) {
    const std::string source = std::string(cmd) == "run"
                                   ? " --source " + src + " --chunk-rows 1000"
                                   : "";
    // The table is read beside the restore too: one that is not there is
    // reported the same way.
    const std::string missing = (dir_ / "missing.csv").string();
    for (const auto& [table, said] :
         {std::pair{bad, "bad.csv: record "},
          std::pair{missing, "missing.csv: importance table not found"}}) {
      for (const std::string& r : {root, (dir_ / "fresh").string()}) {
        std::filesystem::remove(alerts);
        Outcome o = Txflow(std::string(cmd) + " --drain" + source + " --root " +
                           r + " --importance " + table + kSmallThresholds +
                           " --notify-command 'cat >> " + alerts + "'");
        EXPECT_EQ(o.code, 1) << o.out;
        EXPECT_NE(o.out.find(said), std::string::npos) << o.out;
        if (table == bad) {
          EXPECT_NE(o.out.find("Weight 'zz' is not a decimal"),
                    std::string::npos)
              << o.out;
        }
        EXPECT_EQ(o.out.find("differs"), std::string::npos) << o.out;
        // Alerted or not by the command, never by the root's state: detect
        // reports input errors of its start without an alert; run alerts
        // (its monitor starts first, as before the parse moved).
        EXPECT_EQ(testing::Slurp(alerts).empty(), std::string(cmd) == "detect")
            << cmd << " " << r << " " << table;
      }
    }
    EXPECT_FALSE(std::filesystem::exists(dir_ / "fresh")) << cmd;
    // Nothing written, and X never started: still the one chunk.
    EXPECT_EQ(testing::Tree(dir_ / "r"), before) << cmd;
  }
}

// A missing or unparseable table beside a root whose locks another process
// holds: the table's error is reported (detect without an alert, run with
// one), whether or not the root has a checkpoint (where the locks are taken
// while the table is still being read and parsed).
TEST_F(CliTest, BadImportanceIsReportedBeforeAHeldLockOnAnyRoot) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 3000 --seed 9");
  ASSERT_EQ(g.code, 0) << g.out;
  const std::string src = (dir_ / "transactions.csv").string();
  const std::string good = (dir_ / "CustomerImportance.csv").string();
  const std::string missing = (dir_ / "missing.csv").string();
  const std::string restored = (dir_ / "r").string();
  ASSERT_NO_FATAL_FAILURE(CutOneChunkAndDetect(src, good, restored));
  ASSERT_TRUE(std::filesystem::exists(dir_ / "r/state/detector/CURRENT"));
  const std::string fresh = (dir_ / "fresh").string();
  // Both locks held by a live owner on another host for the next hour.
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string lock =
      "format,host,boot_id,pid,token,acquired_at_ms,expires_at_ms\n"
      "txflow-lock-1,elsewhere,b00t,4242,1," +
      std::to_string(now) + "," + std::to_string(now + 3'600'000) + "\n";
  for (const std::string& r : {restored, fresh}) {
    std::filesystem::create_directories(std::filesystem::path(r) / "state");
    for (const char* name : {"detector.lock", "chunker.lock"}) {
      std::ofstream(std::filesystem::path(r) / "state" / name, std::ios::binary)
          << lock;
    }
  }
  const std::string bad = (dir_ / "bad.csv").string();
  std::ofstream(bad, std::ios::binary)
      << testing::Slurp(good) << "'C1','M1',zz,'es_a',0\n";
  const std::string alerts = (dir_ / "alerts.txt").string();
  for (const char* cmd : {"detect", "run"}) {
    const std::string source = std::string(cmd) == "run"
                                   ? " --source " + src + " --chunk-rows 1000"
                                   : "";
    for (const auto& [table, said] :
         {std::pair{missing, "missing.csv: importance table not found"},
          std::pair{bad, "Weight 'zz' is not a decimal"}}) {
      for (const std::string& r : {fresh, restored}) {
        std::filesystem::remove(alerts);
        Outcome o = Txflow(std::string(cmd) + " --drain" + source + " --root " +
                           r + " --importance " + table + kSmallThresholds +
                           " --notify-command 'cat >> " + alerts + "'");
        EXPECT_EQ(o.code, 1) << o.out;
        EXPECT_NE(o.out.find(said), std::string::npos)
            << cmd << " " << r << ": " << o.out;
        EXPECT_EQ(o.out.find("held by"), std::string::npos)
            << cmd << " " << r << ": " << o.out;
        EXPECT_EQ(testing::Slurp(alerts).empty(), std::string(cmd) == "detect")
            << cmd << " " << r;
      }
    }
  }
}

// Writes `text` into the FIFO at `path` after `delay`, once a reader has
// opened it (giving up after 20 s without one).
std::thread FeedFifo(const std::string& path, const std::string& text,
                     std::chrono::milliseconds delay) {
  return std::thread([=] {
    std::this_thread::sleep_for(delay);
    int fd = -1;
    for (int i = 0; i < 400 && fd < 0; ++i) {
      fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO: no reader
      if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (fd < 0) return;
    ::fcntl(fd, F_SETFL, 0);
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
}

// The table may be a pipe (`--importance <(zcat t.csv.gz)`): it has no
// size, and is read to its end. And since the table is read beside the
// restore, one that arrives late and does not parse shows that `run`
// starts X only after the detector opened: X would cut chunks meanwhile.
TEST_F(CliTest, ImportanceFromAPipeAndRunWaitsForItBeforeX) {
  Outcome g = Txflow("gen --out " + dir_.string() + " --rows 6000 --seed 9");
  ASSERT_EQ(g.code, 0) << g.out;
  const std::string src = (dir_ / "transactions.csv").string();
  const std::string good = (dir_ / "CustomerImportance.csv").string();
  const std::string fifo = (dir_ / "pipe.csv").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string piped = (dir_ / "piped").string();
  const std::string from_file = (dir_ / "file").string();
  for (const std::string& r : {piped, from_file}) {
    ASSERT_EQ(Txflow("chunk --drain --source " + src + " --root " + r +
                     " --chunk-rows 1000")
                  .code,
              0);
  }
  std::thread feed = FeedFifo(fifo, testing::Slurp(good), {});
  Outcome p = Txflow("detect --drain --importance " + fifo + " --root " +
                     piped + kSmallThresholds);
  feed.join();
  ASSERT_EQ(p.code, 0) << p.out;
  ASSERT_EQ(Txflow("detect --drain --importance " + good + " --root " +
                   from_file + kSmallThresholds)
                .code,
            0);
  // The detections, without the two time columns (and the time in the
  // files' names), which differ between runs.
  auto findings = [](const std::string& root) {
    std::map<std::string, std::string> out;
    for (const auto& [key, bytes] : testing::Tree(root)) {
      if (key.rfind("detections/detections_", 0) != 0) continue;
      std::string& rows = out[key.substr(key.rfind('_'))];
      std::istringstream in(bytes);
      for (std::string line; std::getline(in, line);) {
        rows += line.substr(line.find(',', line.find(',') + 1)) + "\n";
      }
    }
    return out;
  };
  EXPECT_EQ(findings(piped), findings(from_file));
  EXPECT_FALSE(findings(piped).empty());

  // A root with a checkpoint and more to cut; the bad table comes 1.5 s in.
  const std::string root = (dir_ / "r").string();
  ASSERT_NO_FATAL_FAILURE(CutOneChunkAndDetect(src, good, root));
  const auto before = testing::Tree(dir_ / "r");
  feed = FeedFifo(fifo, testing::Slurp(good) + "'C1','M1',zz,'es_a',0\n",
                  std::chrono::milliseconds(1500));
  Outcome o = Txflow("run --drain --source " + src +
                     " --chunk-rows 1000 --poll 10ms --root " + root +
                     " --importance " + fifo + kSmallThresholds);
  feed.join();
  EXPECT_EQ(o.code, 1) << o.out;
  EXPECT_NE(o.out.find("Weight 'zz' is not a decimal"), std::string::npos)
      << o.out;
  EXPECT_EQ(testing::Tree(dir_ / "r"), before);
}

TEST_F(CliTest, VersionPrintsSemver) {
  Outcome r = Txflow("version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("txflow 0.", 0), 0u) << r.out;
}

}  // namespace
}  // namespace txflow
