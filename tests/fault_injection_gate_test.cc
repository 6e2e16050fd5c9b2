// TXFLOW_FAULT_INJECTION belongs to test builds: the txflow binary must not
// read it (a stray variable in production would fail storage calls on
// purpose), and the fault-injection build of the same commands
// (txflow_fault_injection, which the reliability storms drive) must.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gen/banksim_generator.h"
#include "process.h"

namespace txflow {
namespace {

namespace fs = std::filesystem;
using testing::Slurp;
using testing::Spawn;
using testing::SpawnWithFaults;
using testing::Tree;
using testing::Wait;

constexpr std::string_view kVariable = "TXFLOW_FAULT_INJECTION";

class FaultInjectionGate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("fault-gate-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    // Two chunks of 10,000 records.
    ASSERT_TRUE(
        GenerateDataset(dir_.string(), GeneratorOptions{20'000, 5, 0}).ok());
    log_ = (dir_ / "log").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Args() const {
    return {"run",          "--drain",
            "--source",     (dir_ / "transactions.csv").string(),
            "--importance", (dir_ / "CustomerImportance.csv").string(),
            "--root",       (dir_ / "root").string()};
  }
  size_t Chunks() const { return Tree(dir_ / "root" / "landing_zone").size(); }

  fs::path dir_;
  std::string log_;
};

TEST_F(FaultInjectionGate, ReleaseBinaryIgnoresTheVariable) {
  const int code =
      Wait(Spawn(Args(), log_, {{std::string(kVariable), std::string("p=1")}}));
  const std::string out = Slurp(log_);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out.find(kVariable), std::string::npos) << out;
  EXPECT_EQ(out.find("injected"), std::string::npos) << out;
  EXPECT_EQ(Chunks(), 2u);
}

TEST_F(FaultInjectionGate, ReleaseBinaryDoesNotContainTheVariableName) {
  // Not read, not even linked in: the name is nowhere in the executable.
  EXPECT_EQ(Slurp(TXFLOW_BINARY).find(kVariable), std::string::npos)
      << TXFLOW_BINARY;
  // (The search does find it where it is.)
  EXPECT_NE(Slurp(TXFLOW_FAULT_INJECTION_BINARY).find(kVariable),
            std::string::npos);
}

TEST_F(FaultInjectionGate, FaultInjectionBinaryInjects) {
  // Every storage call fails, fatally: exit 1 naming the injected error.
  const int code = Wait(SpawnWithFaults(Args(), log_, "p=1,fatal=1"));
  const std::string out = Slurp(log_);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("TXFLOW_FAULT_INJECTION is set"), std::string::npos)
      << out;
  EXPECT_NE(out.find("injected I/O error"), std::string::npos) << out;
}

TEST_F(FaultInjectionGate, FaultInjectionBinaryWithoutTheVariableIsTxflow) {
  const int code =
      Wait(testing::SpawnBinary(TXFLOW_FAULT_INJECTION_BINARY, Args(), log_,
                                {{std::string(kVariable), std::nullopt}}));
  const std::string out = Slurp(log_);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out.find(kVariable), std::string::npos) << out;
  EXPECT_EQ(Chunks(), 2u);
}

TEST_F(FaultInjectionGate, MalformedSpecIsOneClearLine) {
  const int code = Wait(SpawnWithFaults(Args(), log_, "p=lots"));
  const std::string out = Slurp(log_);
  EXPECT_EQ(code, 1) << out;
  EXPECT_EQ(out, "txflow: TXFLOW_FAULT_INJECTION: bad item 'p=lots'\n");
}

}  // namespace
}  // namespace txflow
