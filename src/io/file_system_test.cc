// The FileSystem contract, run as one suite against every backend. A backend is
// correct for txflow exactly when it passes all of these.
#include "txflow/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "io/fault_injection_file_system.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

std::string UniqueName() {
  static std::atomic<int> n{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->name()) + "-" +
                     std::to_string(::getpid()) + "-" + std::to_string(n++);
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
}

class FileSystemContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string backend = GetParam();
    if (backend == "file") {
      dir_ = std::filesystem::temp_directory_path() /
             ("txflow-fs-" + UniqueName());
      std::filesystem::remove_all(dir_);
      root_ = dir_.string() + "/root";  // does not exist yet: writes create it
    } else if (backend == "s3" || backend == "fault-s3") {
      root_ = testing::S3TestRoot(UniqueName() + "/some/prefix");
    } else {
      root_ = "mem://" + UniqueName() + "/some/prefix";
    }
    auto fs = OpenFileSystem(root_);
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    if (backend.rfind("fault-", 0) ==
        0) {  // the wrapper must be transparent when idle
      fs_ = std::make_unique<FaultInjectionFileSystem>(std::move(fs_));
    }
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Put(const std::string& key, const std::string& data) {
    auto r = fs_->Write(key, data);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::vector<std::string> Keys(const ListOptions& options) {
    auto r = fs_->List(options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> keys;
    if (r.ok()) {
      for (const auto& info : *r) keys.push_back(info.key);
    }
    return keys;
  }

  std::filesystem::path dir_;
  std::string root_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_P(FileSystemContract, WriteThenReadReturnsSameBytes) {
  std::string binary("a\0b\r\n\xff", 6);
  Put("x/y/obj.bin", binary);
  auto r = fs_->Read("x/y/obj.bin");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, binary);
  Put("empty", "");
  auto e = fs_->Read("empty");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, "");
}

// One buffer reused across reads of smaller, larger and empty objects holds
// exactly the object each time (the local backend keeps the buffer's memory).
TEST_P(FileSystemContract, ReadIntoReplacesTheBufferWhole) {
  const std::string big(100'000, 'b'), small = "small\n";
  Put("big", big);
  Put("small", small);
  Put("empty", "");
  std::string buffer = "old contents";
  for (const auto& [key, want] :
       std::vector<std::pair<std::string, std::string>>{{"big", big},
                                                        {"small", small},
                                                        {"empty", ""},
                                                        {"big", big},
                                                        {"small", small}}) {
    ASSERT_TRUE(fs_->ReadInto(key, &buffer).ok()) << key;
    EXPECT_EQ(buffer, want) << key;
  }
  EXPECT_TRUE(fs_->ReadInto("absent", &buffer).IsNotFound());
}

// ReadMapped holds exactly the object, small or large (a local file of
// 1 MiB or more is mapped), and its bytes stay the ones read when the
// object is then replaced or deleted, as a restore's are while a detector
// writes the next checkpoint.
TEST_P(FileSystemContract, ReadMappedHoldsTheObjectItRead) {
  std::mt19937_64 rng(17);
  std::string big((size_t{1} << 20) + 4097, '\0');
  for (char& c : big) c = static_cast<char>(rng());
  const std::string small = "small\n";
  Put("state/big.bin", big);
  Put("small", small);
  Put("empty", "");
  for (const auto& [key, want] :
       std::vector<std::pair<std::string, std::string>>{
           {"state/big.bin", big}, {"small", small}, {"empty", ""}}) {
    auto r = fs_->ReadMapped(key);
    ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
    EXPECT_EQ(r->view(), want) << key;
  }
  auto held = fs_->ReadMapped("state/big.bin");
  ASSERT_TRUE(held.ok());
  const ObjectBytes copy = *held;  // shares the bytes
  Put("state/big.bin", std::string(big.size(), 'x'));
  EXPECT_EQ(held->view(), big);
  ASSERT_TRUE(fs_->Delete("state/big.bin").ok());
  held = ObjectBytes();
  EXPECT_EQ(copy.view(), big);
  auto missing = fs_->ReadMapped("state/big.bin");
  ASSERT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("state/big.bin"),
            std::string::npos);
}

TEST_P(FileSystemContract, MissingObjectIsNotFoundAndNamesIt) {
  auto r = fs_->Read("state/offset.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().Class(), ErrorClass::kNotFound);
  EXPECT_NE(r.status().message().find("state/offset.csv"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(fs_->Stat("nope").status().IsNotFound());
  EXPECT_TRUE(fs_->ReadRange("nope", 0, 10).status().IsNotFound());
}

TEST_P(FileSystemContract, ReadRangeClampsToObjectEnd) {
  Put("r", "0123456789");
  EXPECT_EQ(*fs_->ReadRange("r", 2, 3), "234");
  EXPECT_EQ(*fs_->ReadRange("r", 8, 100), "89");
  EXPECT_EQ(*fs_->ReadRange("r", 10, 5), "");
  EXPECT_EQ(*fs_->ReadRange("r", 50, 5), "");
  EXPECT_EQ(*fs_->ReadRange("r", 3, 0), "");
}

TEST_P(FileSystemContract, StatReportsSizeAndWriteReportsSameVersion) {
  auto w = fs_->Write("s", "hello");
  ASSERT_TRUE(w.ok());
  auto st = fs_->Stat("s");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 5u);
  EXPECT_EQ(st->key, "s");
  EXPECT_EQ(st->version, w->version);
}

TEST_P(FileSystemContract, OverwriteReplacesWholeObject) {
  Put("o", "a long first version");
  Put("o", "short");
  EXPECT_EQ(*fs_->Read("o"), "short");
  EXPECT_EQ(fs_->Stat("o")->size, 5u);
}

// Every write of new content gets a new version. S3's version is the ETag, a
// digest of the content, so equal bytes may keep it; txflow's compare-and-swap
// users never rewrite equal bytes (each carries a token or a generation).
TEST_P(FileSystemContract, VersionChangesWhenContentChanges) {
  std::vector<std::string> versions;
  for (int i = 0; i < 20; ++i) {
    auto w = fs_->Write("v", "content " + std::to_string(i));
    ASSERT_TRUE(w.ok());
    versions.push_back(w->version);
  }
  std::sort(versions.begin(), versions.end());
  EXPECT_EQ(std::unique(versions.begin(), versions.end()), versions.end());
}

TEST_P(FileSystemContract, RewritingSameContentStillSucceedsAsCompareAndSwap) {
  auto v1 = fs_->Write("same", "x");
  ASSERT_TRUE(v1.ok());
  auto v2 = fs_->Write("same", "x",
                       WriteOptions{WriteMode::kReplaceIfMatch, v1->version});
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(fs_->Stat("same")->version, v2->version);
}

TEST_P(FileSystemContract, CreateOnlyRefusesExistingObject) {
  WriteOptions create{WriteMode::kCreateOnly, ""};
  ASSERT_TRUE(fs_->Write("lock", "first", create).ok());
  auto again = fs_->Write("lock", "second", create);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*fs_->Read("lock"), "first");
}

TEST_P(FileSystemContract, CreateOnlyRaceHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<int> won(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = fs_->Write("race", "writer-" + std::to_string(t),
                          WriteOptions{WriteMode::kCreateOnly, ""});
      if (r.ok()) {
        ++winners;
        won[t] = 1;
      } else {
        EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(winners.load(), 1);
  const int winner =
      static_cast<int>(std::find(won.begin(), won.end(), 1) - won.begin());
  EXPECT_EQ(*fs_->Read("race"), "writer-" + std::to_string(winner));
}

TEST_P(FileSystemContract, ReplaceIfMatchIsCompareAndSwap) {
  auto v1 = fs_->Write("cas", "one");
  ASSERT_TRUE(v1.ok());
  auto v2 = fs_->Write("cas", "two",
                       WriteOptions{WriteMode::kReplaceIfMatch, v1->version});
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  // The old version no longer matches.
  auto stale = fs_->Write(
      "cas", "three", WriteOptions{WriteMode::kReplaceIfMatch, v1->version});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(*fs_->Read("cas"), "two");
  auto missing = fs_->Write(
      "absent", "x", WriteOptions{WriteMode::kReplaceIfMatch, v1->version});
  EXPECT_EQ(missing.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_TRUE(fs_->Stat("absent").status().IsNotFound());
}

TEST_P(FileSystemContract, ReplaceIfMatchRaceHasExactlyOneWinner) {
  auto v = fs_->Write("cas-race", "base");
  ASSERT_TRUE(v.ok());
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = fs_->Write("cas-race", "t" + std::to_string(t),
                          WriteOptions{WriteMode::kReplaceIfMatch, v->version});
      if (r.ok()) ++winners;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(FileSystemContract, ListIsSortedRecursiveAndHonoursPrefixAndStartAfter) {
  for (const char* k :
       {"landing_zone/chunk-000000000020.csv",
        "landing_zone/chunk-000000000000.csv",
        "landing_zone/chunk-000000000010.csv", "landing_zone/other.txt",
        "state/offset.csv", "landing_zone/sub/deep.csv"}) {
    Put(k, k);
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(Keys({"landing_zone/chunk-", "", 0}),
            (V{"landing_zone/chunk-000000000000.csv",
               "landing_zone/chunk-000000000010.csv",
               "landing_zone/chunk-000000000020.csv"}));
  EXPECT_EQ(
      Keys({"landing_zone/chunk-", "landing_zone/chunk-000000000000.csv", 0}),
      (V{"landing_zone/chunk-000000000010.csv",
         "landing_zone/chunk-000000000020.csv"}));
  EXPECT_EQ(Keys({"landing_zone/chunk-", "", 2}),
            (V{"landing_zone/chunk-000000000000.csv",
               "landing_zone/chunk-000000000010.csv"}));
  EXPECT_EQ(Keys({"landing_zone/", "landing_zone/other.txt", 0}),
            (V{"landing_zone/sub/deep.csv"}));
  EXPECT_EQ(Keys({"", "", 0}).size(), 6u);
  EXPECT_EQ(Keys({"state", "", 0}), (V{"state/offset.csv"}));
  EXPECT_TRUE(Keys({"nothing/", "", 0}).empty());
  // start_after below the prefix range does not widen it.
  EXPECT_EQ(Keys({"state/", "a", 0}), (V{"state/offset.csv"}));
}

TEST_P(FileSystemContract, ListReportsSizes) {
  Put("d/a", "123");
  auto r = fs_->List({"d/", "", 0});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].size, 3u);
}

TEST_P(FileSystemContract, DeleteRemovesAndIsIdempotent) {
  Put("del", "x");
  ASSERT_TRUE(fs_->Delete("del").ok());
  EXPECT_TRUE(fs_->Read("del").status().IsNotFound());
  EXPECT_TRUE(fs_->Delete("del").ok());
  EXPECT_TRUE(Keys({"", "", 0}).empty());
}

TEST_P(FileSystemContract, HostileKeysAreRejected) {
  for (const char* k : {"", "/abs", "../escape", "a/../b", "a//b", "a/./b",
                        "trailing/", "x/.txflow-tmp-1-2"}) {
    auto r = fs_->Write(k, "x");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument)
        << "key '" << k << "'";
    EXPECT_EQ(fs_->Read(k).status().code(), StatusCode::kInvalidArgument) << k;
  }
  EXPECT_EQ(fs_->Write(std::string(kMaxKeyBytes + 1, 'k'), "x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Keys({"", "", 0}).empty());
}

// Readers racing an overwriter must see one whole version or the other: never a
// prefix, never a mix. The two versions differ in size and in every byte.
TEST_P(FileSystemContract, ConcurrentReaderNeverSeesPartialWrite) {
  const std::string a(256 * 1024, 'a');
  const std::string b(512 * 1024 + 7, 'b');
  Put("atomic", a);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto r = fs_->Read("atomic");
      ++reads;
      if (!r.ok() || (*r != a && *r != b)) ++bad;
    }
  });
  // Keep writing until the reader has overlapped many writes (bounded).
  int writes = 0;
  for (; writes < 20'000 && (writes < 40 || reads.load() < 40); ++writes) {
    Put("atomic", writes % 2 ? a : b);
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_GE(reads.load(), 40)
      << "reader never overlapped " << writes << " writes";
}

TEST_P(FileSystemContract, UriNamesTheObjectUnderTheRoot) {
  EXPECT_EQ(fs_->Uri("state/offset.csv"), root_ + "/state/offset.csv");
}

#ifdef TXFLOW_CONTRACT_ON_S3
#define TXFLOW_CONTRACT_BACKENDS "s3", "fault-s3"
#else
#define TXFLOW_CONTRACT_BACKENDS "file", "mem", "fault-mem"
#endif

INSTANTIATE_TEST_SUITE_P(Backends, FileSystemContract,
                         ::testing::Values(TXFLOW_CONTRACT_BACKENDS),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

#ifndef TXFLOW_CONTRACT_ON_S3
TEST(OpenFileSystem, UnknownSchemeIsInvalidArgument) {
  auto r = OpenFileSystem("ftp://host/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(SplitObjectUri, SeparatesParentAndKey) {
  auto a = SplitObjectUri("data/demo/transactions.csv");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->root_uri, "data/demo");
  EXPECT_EQ(a->key, "transactions.csv");
  auto b = SplitObjectUri("transactions.csv");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->root_uri, ".");
  auto c = SplitObjectUri("s3://bucket/in/tx.csv");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->root_uri, "s3://bucket/in");
  EXPECT_EQ(c->key, "tx.csv");
  auto d = SplitObjectUri("/tx.csv");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->root_uri, "/");
  EXPECT_FALSE(SplitObjectUri("s3://bucket").ok());
}

#endif  // TXFLOW_CONTRACT_ON_S3

}  // namespace
}  // namespace txflow
