// close(grace): waiters fail with PoolClosed, leases are waited for, everything is closed.
#include <gtest/gtest.h>

#include <future>

#include "pool/pool_test_support.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

struct PoolShutdown : ::testing::Test {
  std::shared_ptr<FactoryCounters> counters = std::make_shared<FactoryCounters>();
  ConnectionPool pool{sqlite_factory(counters),
                      {.min_idle = 0,
                       .max_size = 2,
                       .acquire_timeout = 10s,
                       .housekeeping_period = 1h,
                       .name = "closing"}};
};

TEST_F(PoolShutdown, CloseWaitsForALeaseToComeBack) {
  pool.acquire().release();  // one idle, closed at once
  auto lease = pool.acquire();
  auto holder = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(150ms);
    lease.release();
  });
  const auto start = std::chrono::steady_clock::now();
  pool.close(10s);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 5s);
  holder.get();
  EXPECT_EQ(pool.stats().total, 0u);
  EXPECT_EQ(counters->alive, 0);
}

TEST_F(PoolShutdown, CloseFailsWaitersWithPoolClosed) {
  auto a = pool.acquire();
  auto b = pool.acquire();
  auto waiter = std::async(std::launch::async, [&] { pool.acquire(); });
  ASSERT_TRUE(eventually([&] { return pool.stats().waiting == 1; }));
  bool async_failed = false;
  pool.acquire_async(
      [&](Lease lease, std::exception_ptr error) { async_failed = !lease && error != nullptr; });
  auto closer = std::async(std::launch::async, [&] { pool.close(10s); });
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);  // failed before close returns
  EXPECT_THROW(waiter.get(), PoolClosed);
  EXPECT_EQ(closer.wait_for(50ms), std::future_status::timeout);  // still waiting for a, b
  a.release();
  b.release();
  ASSERT_EQ(closer.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(async_failed);
  EXPECT_EQ(counters->alive, 0);
}

TEST_F(PoolShutdown, AcquireAfterCloseThrowsPoolClosed) {
  pool.close();
  EXPECT_THROW(pool.acquire(), PoolClosed);
  EXPECT_THROW(pool.try_acquire(), PoolClosed);
  std::exception_ptr error;
  pool.acquire_async([&](Lease, std::exception_ptr e) { error = e; });
  EXPECT_THROW(std::rethrow_exception(error), PoolClosed);
  pool.close();  // idempotent
}

TEST_F(PoolShutdown, GraceRunsOutWithoutClosingALeaseUnderItsUser) {
  LogCapture log;
  auto lease = pool.acquire();
  const auto start = std::chrono::steady_clock::now();
  pool.close(50ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_EQ(log.count("1 lease(s) still out"), 1) << log.text();
  EXPECT_EQ(lease->execute("SELECT 1").scalar<int>(), 1);
  lease.release();  // closed on return
  EXPECT_EQ(counters->alive, 0);
  EXPECT_EQ(pool.stats().total, 0u);
}

TEST_F(PoolShutdown, CloseStopsTheHousekeeperPromptly) {
  ConnectionPool slow(sqlite_factory(counters),
                      {.min_idle = 1, .max_size = 2, .housekeeping_period = 1h});
  ASSERT_TRUE(eventually([&] { return slow.stats().idle == 1; }));
  const auto start = std::chrono::steady_clock::now();
  slow.close();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);  // not a housekeeping period
}

TEST_F(PoolShutdown, CloseFromACallbackRunningOnTheHousekeeper) {
  auto owned = std::make_unique<ConnectionPool>(sqlite_factory(counters),
                                                PoolSettings{.min_idle = 0, .max_size = 1});
  std::promise<void> closed;
  owned->acquire_async([&](Lease lease, std::exception_ptr) {
    lease.release();
    owned->close(0ms);  // runs on the housekeeper thread, which close() cannot join
    closed.set_value();
  });
  ASSERT_EQ(closed.get_future().wait_for(10s), std::future_status::ready);
  owned.reset();
  EXPECT_TRUE(eventually([&] { return counters->alive == 0; }));
}

}  // namespace
}  // namespace nexdb::test
