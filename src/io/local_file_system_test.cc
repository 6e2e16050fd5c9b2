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

// ReadMapped maps a file of 1 MiB or more (its pages are the page cache's:
// nothing zeroed or copied) until the bytes are released, and reads a
// smaller one.
TEST_F(LocalFileSystemTest, ReadMappedMapsLargeFilesOnly) {
  auto mapped = [&](const std::string& key) {
    std::ifstream maps("/proc/self/maps");
    const std::string path = (dir_ / key).string();
    for (std::string line; std::getline(maps, line);) {
      if (line.size() >= path.size() &&
          line.compare(line.size() - path.size(), path.size(), path) == 0) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(fs_->Write("large", std::string(size_t{1} << 20, 'l'), {}).ok());
  ASSERT_TRUE(fs_->Write("small", std::string((1 << 20) - 1, 's'), {}).ok());
  {
    auto large = fs_->ReadMapped("large");
    auto small = fs_->ReadMapped("small");
    ASSERT_TRUE(large.ok() && small.ok());
    EXPECT_EQ(large->size(), size_t{1} << 20);
    EXPECT_EQ(small->size(), (size_t{1} << 20) - 1);
    EXPECT_TRUE(mapped("large"));
    EXPECT_FALSE(mapped("small"));
  }
  EXPECT_FALSE(mapped("large"));  // unmapped with its last holder
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
