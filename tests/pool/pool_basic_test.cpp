// Sizing, timeouts, hand-off and the Lease handle, over real SQLite connections.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <numeric>

#include "pool/pool_test_support.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

struct PoolBasics : ::testing::Test {
  std::shared_ptr<FactoryCounters> counters = std::make_shared<FactoryCounters>();
  PoolSettings settings(std::size_t max_size, std::size_t min_idle = 0) {
    return {.min_idle = min_idle,
            .max_size = max_size,
            .acquire_timeout = 5s,
            .housekeeping_period = 1h,
            .name = "tiny"};
  }
};

TEST_F(PoolBasics, LeaseRunsStatementsOnARealConnection) {
  ConnectionPool pool(sqlite_factory(counters), settings(2));
  auto lease = pool.acquire();
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->execute("SELECT 40 + 2").scalar<int>(), 42);
  EXPECT_EQ(pool.stats().active, 1u);
}

TEST_F(PoolBasics, MaxSizeIsEnforced) {
  ConnectionPool pool(sqlite_factory(counters), settings(3));
  std::vector<Lease> leases;
  for (int i = 0; i < 3; ++i) leases.push_back(pool.acquire());
  EXPECT_FALSE(pool.try_acquire().has_value());
  EXPECT_THROW(pool.acquire(20ms), PoolExhausted);
  const auto stats = pool.stats();
  EXPECT_EQ(stats.total, 3u);
  EXPECT_EQ(stats.active, 3u);
  EXPECT_EQ(counters->opened, 3);
}

TEST_F(PoolBasics, TimeoutThrowsPoolExhaustedNamingThePoolAndWhatToRaise) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  auto held = pool.acquire();
  const auto start = std::chrono::steady_clock::now();
  try {
    pool.acquire(150ms);
    FAIL() << "acquire should have timed out";
  } catch (const PoolExhausted& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("pool 'tiny'"), std::string::npos) << what;
    EXPECT_NE(what.find("max_size 1"), std::string::npos) << what;
    EXPECT_THAT(what, ::testing::ContainsRegex("within [0-9]+ ms"));
    EXPECT_NE(what.find("Raise PoolSettings::max_size or acquire_timeout"), std::string::npos)
        << what;
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  const auto stats = pool.stats();
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.waiting, 0u);
}

TEST_F(PoolBasics, PoolExhaustedIsATimeoutError) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  auto held = pool.acquire();
  EXPECT_THROW(pool.acquire(0ms), TimeoutError);
}

TEST_F(PoolBasics, ReleasedConnectionIsHandedToTheWaiter) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  auto held = pool.acquire();
  Connection* const connection = &*held;
  auto waiter = std::async(std::launch::async, [&] {
    auto lease = pool.acquire(10s);
    return &*lease;
  });
  ASSERT_TRUE(eventually([&] { return pool.stats().waiting == 1; }));
  held.release();
  EXPECT_EQ(waiter.get(), connection);
  EXPECT_EQ(counters->opened, 1);
  const auto stats = pool.stats();
  EXPECT_EQ(stats.acquired, 2u);
  // The waiter's wait landed in a histogram bucket above the fast path's.
  EXPECT_EQ(std::accumulate(stats.acquire_wait.begin(), stats.acquire_wait.end(), 0ull), 2u);
  EXPECT_GT(stats.acquire_wait_sum.count(), 0);
}

TEST_F(PoolBasics, NoBargingAfterAHandOff) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  auto held = pool.acquire();
  std::promise<void> release_it;
  auto waiter = std::async(std::launch::async, [&] {
    auto lease = pool.acquire(10s);
    release_it.get_future().wait();
  });
  ASSERT_TRUE(eventually([&] { return pool.stats().waiting == 1; }));
  held.release();
  // The connection went straight to the waiter: it never became idle for us to grab.
  EXPECT_FALSE(pool.try_acquire().has_value());
  release_it.set_value();
  waiter.get();
}

TEST_F(PoolBasics, IdleConnectionsAreReusedWarmestFirst) {
  ConnectionPool pool(sqlite_factory(counters), settings(3));
  auto a = pool.acquire();
  auto b = pool.acquire();
  Connection* const last_returned = &*b;
  a.release();
  b.release();
  EXPECT_EQ(&*pool.acquire(), last_returned);
  EXPECT_EQ(counters->opened, 2);
}

TEST_F(PoolBasics, LeaseMovesAndReleasesOnce) {
  ConnectionPool pool(sqlite_factory(counters), settings(2));
  Lease first = pool.acquire();
  Lease moved = std::move(first);
  EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_TRUE(moved);
  Lease other = pool.acquire();
  other = std::move(moved);  // returns the connection `other` held
  EXPECT_EQ(pool.stats().active, 1u);
  other.release();
  other.release();
  EXPECT_EQ(pool.stats().active, 0u);
  EXPECT_EQ(pool.stats().idle, 2u);
}

TEST_F(PoolBasics, LeaseMayOutliveThePool) {
  Lease lease;
  {
    ConnectionPool pool(sqlite_factory(counters), settings(2));
    lease = pool.acquire();
    pool.close(0ms);
  }
  EXPECT_EQ(lease->execute("SELECT 1").scalar<int>(), 1);  // never closed under its user
  EXPECT_EQ(counters->alive, 1);
  lease.release();
  EXPECT_EQ(counters->alive, 0);
}

TEST_F(PoolBasics, DestructorClosesEveryConnection) {
  {
    ConnectionPool pool(sqlite_factory(counters), settings(3, 2));
    auto a = pool.acquire();
    ASSERT_TRUE(eventually([&] { return counters->opened >= 2; }));
  }
  EXPECT_EQ(counters->alive, 0);
}

TEST_F(PoolBasics, MinIdleIsFilledInTheBackground) {
  ConnectionPool pool(sqlite_factory(counters), settings(4, 2));
  ASSERT_TRUE(eventually([&] { return pool.stats().idle == 2; }));
  EXPECT_EQ(pool.stats().total, 2u);
}

TEST_F(PoolBasics, ConnectOptionsPoolDescribesItsTargetWithoutPassword) {
  ConnectionPool pool(ConnectOptions{.uri = "sqlite::memory:"}, settings(1));
  EXPECT_EQ(pool.acquire()->execute("SELECT 1").scalar<int>(), 1);
  EXPECT_EQ(pool.description(), "sqlite::memory:");
  EXPECT_EQ(pool.settings().name, "tiny");
}

TEST_F(PoolBasics, InconsistentSettingsAreConfigErrors) {
  EXPECT_THROW(ConnectionPool(sqlite_factory(counters), {.max_size = 0}), ConfigError);
  EXPECT_THROW(ConnectionPool(sqlite_factory(counters), {.min_idle = 5, .max_size = 2}),
               ConfigError);
  EXPECT_THROW(ConnectionPool(sqlite_factory(counters), {.acquire_timeout = -1ms}), ConfigError);
  EXPECT_THROW(ConnectionPool(sqlite_factory(counters), {.housekeeping_period = 0ms}), ConfigError);
  EXPECT_THROW(ConnectionPool(ConnectionPool::Factory{}), ConfigError);
}

TEST_F(PoolBasics, FailedOpenIsAConnectionErrorAndFreesTheSlot) {
  counters->fail_opens = true;
  ConnectionPool pool(sqlite_factory(counters), settings(1));  // must not throw
  EXPECT_THROW(pool.acquire(), ConnectionError);
  EXPECT_THROW(pool.acquire(), ConnectionError);  // not PoolExhausted: the slot came back
  EXPECT_EQ(pool.stats().total, 0u);
  counters->fail_opens = false;
  EXPECT_EQ(pool.acquire()->execute("SELECT 1").scalar<int>(), 1);
}

}  // namespace
}  // namespace nexdb::test
