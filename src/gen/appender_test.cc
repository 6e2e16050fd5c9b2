#include "gen/appender.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace txflow {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

class AppenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("appender-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "transactions.csv").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Appends without waiting: every sleep returns at once, so the rate only
  // decides how many records each write carries.
  Status Append(uint64_t until, AppendStats* stats = nullptr) {
    AppendOptions o;
    o.records_per_second = 1e9;
    o.until_records = until;
    AppendStats ignored;
    return AppendTransactions(
        path_, o, [](std::chrono::milliseconds) { return true; },
        stats ? stats : &ignored);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AppenderTest, CreatesTheFileWithTheHeaderAndStopsAtRows) {
  ASSERT_TRUE(Append(250).ok());
  const auto lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 251u);
  EXPECT_EQ(lines[0] + "\n", kTransactionsHeader);
}

TEST_F(AppenderTest, TwoSessionsEqualOneSession) {
  ASSERT_TRUE(Append(120).ok());
  ASSERT_TRUE(Append(300).ok());
  const std::string two = ReadFile(path_);
  std::filesystem::remove(path_);
  ASSERT_TRUE(Append(300).ok());
  EXPECT_EQ(ReadFile(path_), two);
}

TEST_F(AppenderTest, ContinuesAGeneratedFileKeepingItsBytesAndSteps) {
  GeneratorOptions g;
  g.rows = 3000;
  g.customers = 4000;  // the stream's default population
  ASSERT_TRUE(GenerateDataset(dir_.string(), g).ok());
  const std::string before = ReadFile(path_);
  AppendStats stats;
  ASSERT_TRUE(Append(3500, &stats).ok());
  const std::string after = ReadFile(path_);
  ASSERT_EQ(after.substr(0, before.size()), before);
  EXPECT_EQ(stats.records_before, 3000u);
  EXPECT_EQ(stats.appended, 500u);
  EXPECT_EQ(stats.customers, 4000u);
  const auto lines = Lines(after);
  ASSERT_EQ(lines.size(), 3501u);
  // The generated file's steps run 0..179 over its 3000 rows; appended
  // records stay at 179 (3000 / 3333 would be step 0).
  uint64_t previous = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const uint64_t step = std::stoull(lines[i]);
    EXPECT_GE(step, previous) << "line " << i;
    previous = step;
  }
  EXPECT_EQ(std::stoull(lines.back()), 179u);
}

TEST_F(AppenderTest, CutsATornLastRecordBeforeAppending) {
  ASSERT_TRUE(Append(20).ok());
  const std::string clean = ReadFile(path_);
  std::filesystem::remove(path_);
  ASSERT_TRUE(Append(10).ok());
  WriteFile(path_, ReadFile(path_) + "5,'C12");  // a crashed writer's part
  AppendStats stats;
  ASSERT_TRUE(Append(20, &stats).ok());
  EXPECT_EQ(stats.torn_bytes_cut, 6u);
  // As if the crash had never happened.
  EXPECT_EQ(ReadFile(path_), clean);
}

TEST_F(AppenderTest, RefusesAForeignFileAndLeavesItUntouched) {
  const std::string foreign = "a,b,c\n1,2,3\n";
  WriteFile(path_, foreign);
  Status s = Append(10);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(ReadFile(path_), foreign);
}

TEST_F(AppenderTest, StopsWhenTheSleepReportsAStop) {
  AppendOptions o;
  o.records_per_second = 1000;
  int sleeps = 0;
  AppendStats stats;
  ASSERT_TRUE(AppendTransactions(
                  path_, o,
                  [&](std::chrono::milliseconds) { return ++sleeps < 3; },
                  &stats)
                  .ok());
  EXPECT_EQ(sleeps, 3);
  EXPECT_EQ(Lines(ReadFile(path_)).size(), 1 + stats.appended);
}

TEST(ParseRate, AcceptsPerSecondMinuteHour) {
  EXPECT_DOUBLE_EQ(*ParseRate("2000/s"), 2000.0);
  EXPECT_DOUBLE_EQ(*ParseRate("2000"), 2000.0);
  EXPECT_DOUBLE_EQ(*ParseRate("120/m"), 2.0);
  EXPECT_DOUBLE_EQ(*ParseRate("7200/h"), 2.0);
  EXPECT_DOUBLE_EQ(*ParseRate("0.5/s"), 0.5);
}

TEST(ParseRate, RefusesNonsense) {
  for (const char* bad : {"", "/s", "0/s", "-5/s", "5/d", "5x/s", "nan/s"}) {
    EXPECT_FALSE(ParseRate(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace txflow
