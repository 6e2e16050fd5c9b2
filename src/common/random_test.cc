#include "common/random.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace txflow {
namespace {

TEST(RandomTest, ValuesDoNotRepeat) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(RandomU64());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomTest, EveryBitVaries) {
  uint64_t ones = 0, zeros = 0;
  for (int i = 0; i < 256; ++i) {
    uint64_t v = RandomU64();
    ones |= v;
    zeros |= ~v;
  }
  EXPECT_EQ(ones, ~uint64_t{0});
  EXPECT_EQ(zeros, ~uint64_t{0});
}

TEST(RandomTest, ThreadsGetDifferentValues) {
  std::vector<uint64_t> v(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < v.size(); ++i)
    threads.emplace_back([&v, i] { v[i] = RandomU64(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<uint64_t>(v.begin(), v.end()).size(), v.size());
}

}  // namespace
}  // namespace txflow
