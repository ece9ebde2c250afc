// GlobalIdGenerator: unique across threads and nodes, increasing, decodable.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <unordered_set>
#include <vector>

#include "nexdb/error.hpp"
#include "nexdb/global_id.hpp"

namespace nexdb::test {
namespace {

TEST(GlobalId, IncreasesAndDecodes) {
  GlobalIdGenerator ids({.node_id = 513});
  const auto before =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::int64_t last = 0;
  for (int i = 0; i < 20000; ++i) {  // more than 4096 per ms: sequences carry into later ms
    const std::int64_t id = ids.next();
    ASSERT_GT(id, last);
    last = id;
  }
  const GlobalIdParts parts = GlobalIdGenerator::decode(last);
  EXPECT_EQ(parts.node_id, 513);
  EXPECT_GE(parts.time, before);
  EXPECT_LT(parts.time - before, std::chrono::seconds(60));
  EXPECT_GT(last, 0);
}

TEST(GlobalId, UniqueAcrossThreadsAndNodes) {
  GlobalIdGenerator a({.node_id = 1});
  GlobalIdGenerator b({.node_id = 2});
  std::vector<std::vector<std::int64_t>> made(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25000; ++i) made[t].push_back((t % 2 == 0 ? a : b).next());
    });
  }
  for (auto& thread : threads) thread.join();
  std::unordered_set<std::int64_t> all;
  for (const auto& ids : made) {
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), 100000u);
}

TEST(GlobalId, RejectsANodeIdThatDoesNotFit) {
  EXPECT_THROW(GlobalIdGenerator({.node_id = 1024}), ConfigError);
  EXPECT_LE(GlobalIdGenerator().node_id(), 1023);
}

}  // namespace
}  // namespace nexdb::test
