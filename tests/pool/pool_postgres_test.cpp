// The pool against the real PostgreSQL cluster (scripts/pg-cluster): dead hosts, backends
// killed with pg_terminate_backend, rollback on return and credentials kept out of errors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <set>

#include "nexdb/transaction.hpp"
#include "pool/pool_test_support.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

PoolSettings pg_settings(std::string name) {
  return {.min_idle = 0,
          .max_size = 2,
          .acquire_timeout = 20s,
          .housekeeping_period = 1h,
          .name = std::move(name)};
}

std::int64_t backend_pid(Connection& connection) {
  return connection.execute("SELECT pg_backend_pid()").scalar<std::int64_t>();
}

/// Kills a session from outside, as an operator or a failover would, and waits until it is gone.
void terminate_backend(std::int64_t pid) {
  auto admin = connect(pg_primary_uri());
  ASSERT_TRUE(admin->execute("SELECT pg_terminate_backend($1)", pid).scalar<bool>());
  ASSERT_TRUE(eventually([&] {
    return admin->execute("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
               .scalar<std::int64_t>() == 0;
  }));
}

TEST(PoolPostgres, DeadHostIsAConnectionErrorNotATimeout) {
  const auto dead = fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", closed_port());
  auto settings = pg_settings("dead");
  settings.min_idle = 1;  // the housekeeper tries too, and must not get in the way
  ConnectionPool pool(ConnectOptions{.uri = dead, .connect_timeout = 1s}, settings);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(pool.acquire(), ConnectionError);
  EXPECT_THROW(pool.acquire(), ConnectionError);             // the failed open gave its slot back
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // well inside acquire_timeout
  const auto stats = pool.stats();
  EXPECT_EQ(stats.total, 0u);
  EXPECT_EQ(stats.timeouts, 0u);
  EXPECT_EQ(stats.waiting, 0u);
  EXPECT_EQ(stats.created, 0u);
}

TEST(PoolPostgres, RecoversWhenTheHostComesBack) {
  std::atomic<bool> host_up{false};
  const auto dead = fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", closed_port());
  ConnectionPool pool(
      [&]() {
        return connect(
            ConnectOptions{.uri = host_up ? pg_primary_uri() : dead, .connect_timeout = 1s});
      },
      pg_settings("flapping"), "primary");
  EXPECT_THROW(pool.acquire(), ConnectionError);
  host_up = true;
  EXPECT_EQ(pool.acquire()->execute("SELECT 1").scalar<int>(), 1);
  EXPECT_EQ(pool.stats().total, 1u);
}

TEST(PoolPostgres, TerminatedBackendIsValidatedAwayOnNextAcquire) {
  auto settings = pg_settings("validated");
  settings.validation_threshold = 0ms;
  ConnectionPool pool(ConnectOptions{.uri = pg_primary_uri()}, settings);
  const auto killed = backend_pid(*pool.acquire());
  terminate_backend(killed);
  auto lease = pool.acquire();  // pings the idle connection, finds it dead, opens another
  EXPECT_NE(backend_pid(*lease), killed);
  const auto stats = pool.stats();
  EXPECT_EQ(stats.validation_failures, 1u);
  EXPECT_EQ(stats.destroyed, 1u);
  EXPECT_EQ(stats.total, 1u);
}

TEST(PoolPostgres, TerminatedBackendUsedUnvalidatedIsDiscardedOnReturn) {
  auto settings = pg_settings("unvalidated");
  settings.validation_threshold = 1h;
  ConnectionPool pool(ConnectOptions{.uri = pg_primary_uri()}, settings);
  const auto killed = backend_pid(*pool.acquire());
  terminate_backend(killed);
  {
    auto lease = pool.acquire();  // recently used, so handed out without a ping
    EXPECT_THROW(lease->execute("SELECT 1"), ConnectionError);
    EXPECT_TRUE(lease->is_broken());
  }
  EXPECT_EQ(pool.stats().destroyed, 1u);
  auto lease = pool.acquire();
  EXPECT_NE(backend_pid(*lease), killed);
}

TEST(PoolPostgres, PasswordNeverAppearsInErrorsOrLogs) {
  LogCapture log;
  const auto uri =
      fmt::format("postgresql://nexdb_secret:wrong-password@127.0.0.1:{}/nexdb", pg_base_port());
  auto settings = pg_settings("secret");
  settings.min_idle = 1;
  ConnectionPool pool(ConnectOptions{.uri = uri, .connect_timeout = 2s}, settings);
  try {
    pool.acquire();
    FAIL() << "authentication should have failed";
  } catch (const ConnectionError& e) {
    EXPECT_EQ(std::string(e.what()).find("wrong-password"), std::string::npos) << e.what();
    EXPECT_EQ(e.host().find("wrong-password"), std::string::npos) << e.host();
  }
  EXPECT_EQ(pool.description().find("wrong-password"), std::string::npos) << pool.description();
  ASSERT_TRUE(eventually([&] { return log.count("could not open a connection") >= 1; }));
  EXPECT_EQ(log.text().find("wrong-password"), std::string::npos) << log.text();
}

TEST(PoolPostgres, ConnectionReturnedInsideATransactionIsRolledBack) {
  PgSchema schema;
  auto settings = pg_settings("rollback");
  settings.max_size = 1;
  ConnectionPool pool(ConnectOptions{.uri = schema.uri()}, settings);
  pool.acquire()->execute_script("CREATE TABLE t (x int)");
  std::int64_t pid = 0;
  {
    auto lease = pool.acquire();
    pid = backend_pid(*lease);
    lease->execute_script("BEGIN");
    lease->execute("INSERT INTO t VALUES (1)");
  }
  {
    auto lease = pool.acquire();
    EXPECT_EQ(backend_pid(*lease), pid);  // the same connection, kept
    EXPECT_EQ(lease->transaction_status(), TransactionStatus::idle);
    EXPECT_EQ(lease->execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 0);
  }
  {
    auto lease = pool.acquire();
    lease->execute_script("BEGIN");
    EXPECT_THROW(lease->execute("SELECT 1 / 0"), SqlError);
    EXPECT_EQ(lease->transaction_status(), TransactionStatus::failed);
  }
  auto lease = pool.acquire();
  EXPECT_EQ(lease->execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 0);
  EXPECT_EQ(pool.stats().destroyed, 0u);
}

TEST(PoolPostgres, ThreadsShareAtMostMaxSizeBackends) {
  ConnectionPool pool(ConnectOptions{.uri = pg_primary_uri()}, pg_settings("shared"));
  std::mutex pids_mutex;
  std::set<std::int64_t> pids;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const auto pid = backend_pid(*pool.acquire());
        std::lock_guard lock(pids_mutex);
        pids.insert(pid);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(pids.size(), 2u);
  const auto stats = pool.stats();
  EXPECT_EQ(stats.created, pids.size());
  EXPECT_EQ(stats.timeouts, 0u);
}

}  // namespace
}  // namespace nexdb::test
