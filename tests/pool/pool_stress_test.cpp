// Many threads against a small pool: capacity is never exceeded and the counters add up.
#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include "pool/pool_test_support.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

TEST(PoolStress, CountersStayConsistentUnderContention) {
  auto counters = std::make_shared<FactoryCounters>();
  constexpr std::size_t kMax = 3;
  constexpr int kThreads = 8;
  constexpr int kAcquires = 500;
  ConnectionPool pool(sqlite_factory(counters), {.min_idle = 1,
                                                 .max_size = kMax,
                                                 .acquire_timeout = 30s,
                                                 .validation_threshold = 1ms,
                                                 .housekeeping_period = 5ms,
                                                 .name = "stress"});
  std::atomic<int> in_use{0};
  std::atomic<int> max_in_use{0};
  std::atomic<int> killed{0};
  std::atomic<bool> over_capacity{false};
  std::atomic<bool> stop{false};

  std::thread monitor([&] {
    while (!stop) {
      const auto s = pool.stats();
      if (s.total > kMax || s.active > kMax || s.idle + s.active > kMax) over_capacity = true;
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kAcquires; ++i) {
        auto lease = pool.acquire();
        const int now = ++in_use;
        int seen = max_in_use.load();
        while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
        }
        if (i % 10 == 0) lease->execute("SELECT 1");
        if ((t * kAcquires + i) % 97 == 0) {  // now and then a connection dies mid-lease
          killable(lease).kill();
          lease->ping();  // the failure is noticed, so the pool discards it on return
          ++killed;
        }
        --in_use;
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  monitor.join();

  EXPECT_FALSE(over_capacity);
  EXPECT_LE(max_in_use, static_cast<int>(kMax));
  const auto s = pool.stats();
  EXPECT_EQ(s.active, 0u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.timeouts, 0u);
  EXPECT_LE(s.total, kMax);
  EXPECT_EQ(s.created - s.destroyed, s.total);
  EXPECT_EQ(static_cast<int>(s.created), counters->opened);
  EXPECT_EQ(static_cast<int>(s.total), counters->alive);
  EXPECT_GE(s.destroyed, static_cast<std::uint64_t>(killed.load()));
  EXPECT_GE(s.acquired, static_cast<std::uint64_t>(kThreads * kAcquires));
  // Every acquisition landed in exactly one histogram bucket.
  EXPECT_EQ(std::accumulate(s.acquire_wait.begin(), s.acquire_wait.end(), std::uint64_t{0}),
            s.acquired);
}

TEST(PoolStress, MixedSyncAndAsyncWaitersAllGetServed) {
  auto counters = std::make_shared<FactoryCounters>();
  ConnectionPool pool(sqlite_factory(counters), {.min_idle = 0,
                                                 .max_size = 2,
                                                 .acquire_timeout = 30s,
                                                 .housekeeping_period = 1h,
                                                 .name = "mixed"});
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  std::atomic<int> async_done{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto lease = pool.acquire();
        pool.acquire_async([&](Lease async_lease, std::exception_ptr error) {
          if (async_lease && error == nullptr) ++async_done;
        });
        if (i % 3 == 0) {
          auto second = pool.try_acquire();
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  ASSERT_TRUE(eventually([&] { return async_done == kThreads * kRounds; }));
  const auto s = pool.stats();
  EXPECT_EQ(s.active, 0u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.created - s.destroyed, s.total);
  EXPECT_LE(s.total, 2u);
}

}  // namespace
}  // namespace nexdb::test
