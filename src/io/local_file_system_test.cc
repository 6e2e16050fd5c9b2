// Behaviour specific to the local backend: what a killed process leaves behind.
#include "io/local_file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace txflow {
namespace {

class LocalFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("txflow-local-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    fs_ = std::make_unique<LocalFileSystem>(dir_.string(), dir_.string());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<LocalFileSystem> fs_;
};

TEST_F(LocalFileSystemTest, StagingFileOfKilledWriterIsInvisible) {
  ASSERT_TRUE(
      fs_->Write("landing_zone/chunk-000000000000.csv", "h\n1\n", {}).ok());
  // What a writer killed between create and rename leaves behind.
  std::ofstream(dir_ / "landing_zone" / ".txflow-tmp-999-0") << "h\n2";
  auto list = fs_->List({"landing_zone/", "", 0});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "landing_zone/chunk-000000000000.csv");
}

TEST_F(LocalFileSystemTest, SuccessfulWriteLeavesNoStagingFile) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(fs_->Write("d/x", std::string(1000, 'x'), {}).ok());
  }
  ASSERT_FALSE(fs_->Write("d/x", "y", {WriteMode::kCreateOnly, ""}).ok());
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "d")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(LocalFileSystemTest, FileInPlaceOfDirectoryIsAClearError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "state") << "not a dir";
  auto w = fs_->Write("state/offset.csv", "x", {});
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("state/offset.csv"), std::string::npos)
      << w.status().message();
}

TEST_F(LocalFileSystemTest, StagingFilesOfDeadWritersAreSweptOnFirstWrite) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // now surely dead
  std::filesystem::create_directories(dir_ / "d");
  const auto dead =
      dir_ / "d" / (".txflow-tmp-" + std::to_string(child) + "-7");
  const auto mine =
      dir_ / "d" / (".txflow-tmp-" + std::to_string(::getpid()) + "-99");
  const auto gen =
      dir_ / "d" / ("data.csv.txflow-tmp-" + std::to_string(child));
  for (const auto& p : {dead, mine, gen}) std::ofstream(p) << "partial";
  ASSERT_TRUE(fs_->Write("d/x", "x", {}).ok());
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_FALSE(std::filesystem::exists(gen));
  EXPECT_TRUE(std::filesystem::exists(mine))
      << "a live writer's staging file stays";
}

}  // namespace
}  // namespace txflow
