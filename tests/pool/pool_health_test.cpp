// Connection health: broken connections, rollback on return, validation, idle timeout,
// max lifetime and leak detection.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>

#include "pool/pool_test_support.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

struct PoolHealth : ::testing::Test {
  std::shared_ptr<FactoryCounters> counters = std::make_shared<FactoryCounters>();
  static PoolSettings settings(std::size_t max_size) {
    return {.min_idle = 0,
            .max_size = max_size,
            .acquire_timeout = 5s,
            .housekeeping_period = 1h,
            .name = "health"};
  }
};

TEST_F(PoolHealth, BrokenConnectionIsDiscardedAndReplaced) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  {
    auto lease = pool.acquire();
    killable(lease).kill();
    EXPECT_THROW(lease->execute("SELECT 1"), ConnectionLost);
    EXPECT_TRUE(lease->is_broken());
  }
  auto stats = pool.stats();
  EXPECT_EQ(stats.total, 0u);
  EXPECT_EQ(stats.destroyed, 1u);
  EXPECT_EQ(counters->alive, 0);
  auto lease = pool.acquire();
  EXPECT_EQ(lease->execute("SELECT 1").scalar<int>(), 1);
  EXPECT_EQ(counters->opened, 2);
}

TEST_F(PoolHealth, WaiterOpensAReplacementWhenALeasedConnectionDies) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  auto held = pool.acquire();
  auto waiter = std::async(std::launch::async,
                           [&] { return pool.acquire(10s)->execute("SELECT 5").scalar<int>(); });
  ASSERT_TRUE(eventually([&] { return pool.stats().waiting == 1; }));
  killable(held).kill();
  EXPECT_FALSE(held->ping());
  const auto start = std::chrono::steady_clock::now();
  held.release();  // discarded: the freed slot goes to the waiter
  EXPECT_EQ(waiter.get(), 5);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // not its 10 s timeout
  EXPECT_EQ(counters->opened, 2);
}

TEST_F(PoolHealth, WaiterGrantedASlotReportsTheOpenFailure) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  auto held = pool.acquire();
  auto waiter = std::async(std::launch::async, [&] { pool.acquire(10s); });
  ASSERT_TRUE(eventually([&] { return pool.stats().waiting == 1; }));
  counters->fail_opens = true;
  killable(held).kill();
  held->ping();
  held.release();
  EXPECT_THROW(waiter.get(), ConnectionError);  // the real reason, not a timeout
  EXPECT_EQ(pool.stats().timeouts, 0u);
}

TEST_F(PoolHealth, ConnectionReturnedInsideATransactionIsRolledBack) {
  TempDir dir;
  const auto uri = "sqlite:" + dir.path() + "/rollback.db";
  ConnectionPool pool(sqlite_factory(counters, uri), settings(2));
  pool.acquire()->execute_script("CREATE TABLE t (x INTEGER)");
  {
    auto lease = pool.acquire();
    lease->execute_script("BEGIN");
    lease->execute("INSERT INTO t VALUES (1)");
    EXPECT_EQ(lease->transaction_status(), TransactionStatus::in_transaction);
  }  // returned mid-transaction
  auto first = pool.acquire();
  EXPECT_EQ(first->transaction_status(), TransactionStatus::idle);
  EXPECT_EQ(first->execute("SELECT count(*) FROM t").scalar<int>(), 0);
  // No write lock left behind: a second connection can write at once.
  auto second = pool.acquire();
  second->execute("INSERT INTO t VALUES (2)");
  EXPECT_EQ(first->execute("SELECT count(*) FROM t").scalar<int>(), 1);
  EXPECT_EQ(pool.stats().destroyed, 0u);
}

TEST_F(PoolHealth, ConnectionWhoseRollbackFailsIsDiscarded) {
  ConnectionPool pool(sqlite_factory(counters), settings(1));
  {
    auto lease = pool.acquire();
    lease->execute_script("BEGIN");
    killable(lease).kill();  // the ROLLBACK on return will fail
  }
  EXPECT_EQ(pool.stats().destroyed, 1u);
  EXPECT_EQ(counters->alive, 0);
  EXPECT_EQ(pool.acquire()->transaction_status(), TransactionStatus::idle);
}

TEST_F(PoolHealth, StaleIdleConnectionFailingValidationIsReplaced) {
  auto s = settings(2);
  s.validation_threshold = 0ms;  // ping on every acquire
  ConnectionPool pool(sqlite_factory(counters), s);
  {
    auto lease = pool.acquire();
    killable(lease).kill();  // dies while idle; is_broken() stays false until used
  }
  EXPECT_EQ(pool.stats().idle, 1u);
  auto lease = pool.acquire();
  EXPECT_EQ(lease->execute("SELECT 3").scalar<int>(), 3);
  const auto stats = pool.stats();
  EXPECT_EQ(stats.validation_failures, 1u);
  EXPECT_EQ(stats.destroyed, 1u);
  EXPECT_EQ(stats.total, 1u);
  EXPECT_EQ(counters->opened, 2);
}

TEST_F(PoolHealth, ValidationMovesOnToTheNextIdleConnection) {
  auto s = settings(3);
  s.validation_threshold = 0ms;
  ConnectionPool pool(sqlite_factory(counters), s);
  auto a = pool.acquire();
  auto b = pool.acquire();
  Connection* const healthy = &*a;
  killable(b).kill();
  a.release();
  b.release();  // warmest, so tried first
  EXPECT_EQ(&*pool.acquire(), healthy);
  EXPECT_EQ(pool.stats().validation_failures, 1u);
  EXPECT_EQ(counters->opened, 2);
}

TEST_F(PoolHealth, RecentlyUsedConnectionIsNotPinged) {
  auto s = settings(1);
  s.validation_threshold = 1h;
  ConnectionPool pool(sqlite_factory(counters), s);
  {
    auto lease = pool.acquire();
    killable(lease).kill();
  }
  auto lease = pool.acquire();  // handed out unchecked: the threshold is the trade-off
  EXPECT_EQ(pool.stats().validation_failures, 0u);
}

TEST_F(PoolHealth, IdleTimeoutEvictsDownToMinIdle) {
  auto s = settings(4);
  s.min_idle = 1;
  s.idle_timeout = 50ms;
  ConnectionPool pool(sqlite_factory(counters), s);
  {
    std::vector<Lease> leases;
    for (int i = 0; i < 4; ++i) leases.push_back(pool.acquire());
  }
  EXPECT_EQ(pool.stats().idle, 4u);
  pool.run_housekeeping();
  EXPECT_EQ(pool.stats().idle, 4u);  // not idle long enough yet
  std::this_thread::sleep_for(80ms);
  pool.run_housekeeping();
  const auto stats = pool.stats();
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.total, 1u);
  EXPECT_EQ(stats.created - stats.destroyed, stats.total);
  EXPECT_EQ(counters->alive, 1);
}

TEST_F(PoolHealth, HousekeepingRestoresMinIdleAfterLosses) {
  auto s = settings(3);
  s.min_idle = 2;
  ConnectionPool pool(sqlite_factory(counters), s);
  ASSERT_TRUE(eventually([&] { return pool.stats().idle == 2; }));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    killable(a).kill();
    killable(b).kill();
    a->ping();
    b->ping();
  }
  EXPECT_EQ(pool.stats().total, 0u);
  pool.run_housekeeping();
  const auto stats = pool.stats();
  EXPECT_EQ(stats.idle, 2u);
  EXPECT_EQ(stats.created, 4u);
  EXPECT_EQ(counters->alive, 2);
}

TEST_F(PoolHealth, MaxLifetimeRetiresIdleAtOnceAndLeasedOnReturn) {
  auto s = settings(2);
  s.max_lifetime = 50ms;
  ConnectionPool pool(sqlite_factory(counters), s);
  auto leased = pool.acquire();
  pool.acquire().release();  // one idle
  std::this_thread::sleep_for(80ms);
  pool.run_housekeeping();
  EXPECT_EQ(pool.stats().idle, 0u);
  EXPECT_EQ(pool.stats().destroyed, 1u);
  EXPECT_EQ(leased->execute("SELECT 1").scalar<int>(), 1);  // still usable while leased
  leased.release();
  EXPECT_EQ(pool.stats().destroyed, 2u);
  EXPECT_EQ(pool.stats().total, 0u);
  EXPECT_EQ(pool.acquire()->execute("SELECT 1").scalar<int>(), 1);
  EXPECT_EQ(counters->opened, 3);
}

TEST_F(PoolHealth, ExpiredIdleConnectionIsNotHandedOut) {
  auto s = settings(1);
  s.max_lifetime = 30ms;
  ConnectionPool pool(sqlite_factory(counters), s);
  pool.acquire().release();
  std::this_thread::sleep_for(60ms);
  auto lease = pool.acquire();  // finds the idle one expired, closes it, opens another
  EXPECT_EQ(counters->opened, 2);
  EXPECT_EQ(pool.stats().destroyed, 1u);
}

TEST_F(PoolHealth, LeakIsLoggedOnceWithTheAcquireSite) {
  LogCapture log;
  auto s = settings(2);
  s.leak_detection_threshold = 30ms;
  ConnectionPool pool(sqlite_factory(counters), s);
  const int line = __LINE__ + 1;
  auto leaked = pool.acquire();
  std::this_thread::sleep_for(60ms);
  pool.run_housekeeping();
  pool.run_housekeeping();
  ASSERT_TRUE(eventually([&] { return pool.stats().leaks_detected == 1; }));
  std::this_thread::sleep_for(80ms);  // the background pass (every 30 ms here) must not repeat it
  EXPECT_EQ(pool.stats().leaks_detected, 1u);
  const auto site = fmt::format("pool_health_test.cpp:{}", line);
  EXPECT_EQ(log.count("possible connection leak"), 1) << log.text();
  EXPECT_EQ(log.count(site), 1) << log.text();
  EXPECT_EQ(log.count("LeakIsLoggedOnceWithTheAcquireSite"), 1) << log.text();
  EXPECT_EQ(log.count("[warning]"), 1) << log.text();
  leaked.release();
  EXPECT_EQ(log.count("reported as a possible leak was returned"), 1) << log.text();
}

TEST_F(PoolHealth, ShortLeaseIsNotALeak) {
  LogCapture log;
  auto s = settings(1);
  s.leak_detection_threshold = 1h;
  ConnectionPool pool(sqlite_factory(counters), s);
  auto lease = pool.acquire();
  pool.run_housekeeping();
  EXPECT_EQ(pool.stats().leaks_detected, 0u);
  EXPECT_EQ(log.count("leak"), 0);
}

}  // namespace
}  // namespace nexdb::test
