// Hostile input through the binary: rows and records far larger than any
// real one. Never a crash, a hang or a silent wrong answer: a clear error or
// a quarantine entry with its reason.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "process.h"

namespace txflow {
namespace {

namespace fs = std::filesystem;
using testing::Slurp;
using testing::Spawn;
using testing::Wait;

// Megabytes of the hostile lines: 80 by default, TXFLOW_HUGE_LINE_MB=1024 in
// tools/reliability-long.sh.
size_t HugeBytes() {
  const char* v = std::getenv("TXFLOW_HUGE_LINE_MB");
  return (v ? std::strtoull(v, nullptr, 10) : 80) << 20;
}

// A hostile chunk: one 80 MB line between good rows. The detector must not
// crash or stall; the line is quarantined (in part) with its reason and the
// good rows count.
TEST(HostileInput, HugeLineInAChunkIsQuarantinedInPart) {
  const fs::path root = fs::path(::testing::TempDir()) /
                        ("huge-chunk-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "landing_zone");
  std::string chunk = "customer,merchant,gender,amount\n'C1','M1','F',1.00\n";
  chunk += "'C2','M1','F',";
  chunk.append(HugeBytes(), '9');
  chunk += "\n'C3','M1','M',2.00\n";
  {
    std::ofstream(root / "landing_zone" / "chunk-000000000000.csv",
                  std::ios::binary)
        << chunk;
  }
  const std::string log = (root.string() + ".log");
  ASSERT_EQ(Wait(Spawn({"detect", "--drain", "--root", root.string()}, log)), 0)
      << Slurp(log);
  const auto q = testing::Tree(root / "quarantine");
  ASSERT_EQ(q.size(), 1u);
  const std::string& text = q.begin()->second;
  EXPECT_LT(text.size(), 100'000u);
  EXPECT_NE(text.find("more bytes"), std::string::npos);
  EXPECT_NE(text.find("not a decimal number"), std::string::npos);
  EXPECT_NE(Slurp(log).find("bad rows 1"), std::string::npos) << Slurp(log);
  fs::remove_all(root);
  fs::remove(log);
}

// A source whose second record is a line of more than 64 MiB (80 MB, or
// 1 GB in the long variant): the chunker stops with one clear line naming
// the source and the record, and writes no chunk.
TEST(HostileInput, HugeLineInTheSourceIsAClearError) {
  const fs::path dir = fs::path(::testing::TempDir()) /
                       ("huge-source-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "tx.csv", std::ios::binary);
    out << "customer,merchant,gender,amount\n'C1','M1','F',1.00\n";
    out << std::string(HugeBytes(), 'x') << "\n'C2','M1','M',2.00\n";
  }
  const std::string root = (dir / "root").string();
  const std::string log = (dir / "log").string();
  EXPECT_EQ(Wait(Spawn({"run", "--drain", "--source", (dir / "tx.csv").string(),
                        "--root", root},
                       log)),
            1);
  const std::string out = Slurp(log);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("tx.csv: record 1 "), std::string::npos) << out;
  EXPECT_NE(out.find("is longer than 67108864 bytes"), std::string::npos)
      << out;
  EXPECT_TRUE(testing::Tree(dir / "root" / "landing_zone").empty());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace txflow
