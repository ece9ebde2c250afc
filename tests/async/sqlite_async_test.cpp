// The async API over SQLite: the same interface, statements on a small thread pool.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <string>
#include <thread>
#include <vector>

#include "async_test_support.hpp"
#include "nexdb/async.hpp"
#include "nexdb/error.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;
using test::run_on;
using test::since;

class AsyncSqlite : public ::testing::Test {
 protected:
  void SetUp() override { db.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT)"); }
  test::TempDir dir;
  asio::io_context io;
  Database db = Database::open({.connection = {.uri = "sqlite:" + dir.path() + "/app.db"},
                                .pool = {.min_idle = 0, .max_size = 4}});
};

TEST_F(AsyncSqlite, RunsStatementsOffTheCallersThread) {
  AsyncDatabase adb(io.get_executor(), db);
  EXPECT_EQ(adb.dialect(), Dialect::sqlite);
  auto work = [&]() -> asio::awaitable<std::int64_t> {
    co_await adb.async_run("INSERT INTO u (id, name) VALUES (?, ?)", 1, "ann");
    Rows rows = co_await adb.async_run("SELECT count(*) FROM u WHERE name = ?", "ann");
    co_return rows.scalar<std::int64_t>();
  };
  EXPECT_EQ(run_on(io, work()), 1);
  EXPECT_THROW(run_on(io, adb.async_run("INSERT INTO u (id) VALUES (?)", 1)), UniqueViolation);
  EXPECT_EQ(adb.stats().pipelined, 0u);  // SQLite has no pipeline: no lanes
}

TEST_F(AsyncSqlite, ManyCoroutinesOnOneThreadShareTheSmallThreadPool) {
  AsyncDatabase adb(io.get_executor(), db, {.blocking_threads = 2});
  constexpr int kCoroutines = 300;
  int done = 0;
  for (int i = 0; i < kCoroutines; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          co_await adb.async_run("INSERT INTO u (id, name) VALUES (?, ?)", i, "n");
          ++done;
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(done, kCoroutines);
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), kCoroutines);
  EXPECT_LE(db.pool().stats().total, 4u);  // the pool's limit holds for async callers too
  EXPECT_EQ(db.pool().stats().active, 0u);
}

// A SQLite pipeline is all or nothing, as PostgreSQL's is.
TEST_F(AsyncSqlite, APipelineIsOneTransaction) {
  AsyncDatabase adb(io.get_executor(), db);
  Pipeline good = adb.pipeline();
  good.add("INSERT INTO u (id) VALUES (?)", 1);
  good.add("INSERT INTO u (id) VALUES (?)", 2);
  good.add("SELECT count(*) FROM u");
  auto results = run_on(io, good.async_run());
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].scalar<std::int64_t>(), 2);

  Pipeline bad = adb.pipeline();
  bad.add("INSERT INTO u (id) VALUES (?)", 3);
  bad.add("INSERT INTO u (id) VALUES (?)", 1);  // duplicate
  bad.add("INSERT INTO u (id) VALUES (?)", 4);
  try {
    run_on(io, bad.async_run());
    FAIL() << "expected a PipelineError";
  } catch (const PipelineError& e) {
    EXPECT_EQ(e.index(), 1u);
    EXPECT_EQ(e.sqlstate(), "23505");
  }
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 2);
}

TEST_F(AsyncSqlite, TransactionsCommitAndRollBack) {
  AsyncDatabase adb(io.get_executor(), db);
  auto work = [&]() -> asio::awaitable<void> {
    co_await adb.async_transaction([](AsyncTransaction& tx) -> asio::awaitable<void> {
      co_await tx.async_run("INSERT INTO u (id) VALUES (?)", 1);
    });
    AsyncTransaction tx = co_await adb.async_begin();
    co_await tx.async_run("INSERT INTO u (id) VALUES (?)", 2);
    co_await tx.async_rollback();
    {
      AsyncTransaction abandoned = co_await adb.async_begin();
      co_await abandoned.async_run("INSERT INTO u (id) VALUES (?)", 3);
    }
  };
  run_on(io, work());
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 1);
}

// A read-only transaction refuses writes, and its connection writes again afterwards (query_only
// is lifted even when the transaction was abandoned).
TEST_F(AsyncSqlite, AReadOnlyTransactionRefusesWritesAndLeavesNoTrace) {
  Database one = Database::open({.connection = {.uri = "sqlite:" + dir.path() + "/app.db"},
                                 .pool = {.min_idle = 0, .max_size = 1}});
  AsyncDatabase adb(io.get_executor(), one);
  auto work = [&]() -> asio::awaitable<void> {
    {
      AsyncReadOnlyTransaction tx = co_await adb.async_begin_read();
      EXPECT_THROW(co_await tx.async_run("INSERT INTO u (id) VALUES (?)", 1), SqlError);
    }
    co_await adb.async_run("INSERT INTO u (id) VALUES (?)", 2);
  };
  run_on(io, work());
  EXPECT_EQ(one.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 1);
}

// A deadline interrupts a long SQLite statement; the connection is fine afterwards.
TEST_F(AsyncSqlite, ADeadlineInterruptsALongStatement) {
  AsyncDatabase adb(io.get_executor(), db);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(run_on(io, adb.with_timeout(50ms).async_run(
                              "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                              "SELECT count(*) FROM c")),
               TimeoutError);
  EXPECT_LT(since(start), 5000ms);
  EXPECT_EQ(run_on(io, adb.async_run("SELECT 5")).scalar<std::int64_t>(), 5);
  EXPECT_EQ(adb.stats().timeouts, 1u);
}

TEST_F(AsyncSqlite, AnAsyncLeaseKeepsOneConnection) {
  AsyncDatabase adb(io.get_executor(), db);
  auto work = [&]() -> asio::awaitable<std::int64_t> {
    AsyncLease lease = co_await adb.async_acquire();
    co_await lease.async_run("CREATE TEMP TABLE scratch (a INTEGER)");
    co_await lease.async_run("INSERT INTO scratch VALUES (?)", 1);
    co_return (co_await lease.async_run("SELECT count(*) FROM scratch")).scalar<std::int64_t>();
  };
  EXPECT_EQ(run_on(io, work()), 1);
  EXPECT_EQ(db.pool().stats().active, 0u);
}

TEST_F(AsyncSqlite, AReleasedLeaseIsAUsageError) {
  AsyncDatabase adb(io.get_executor(), db);
  auto work = [&]() -> asio::awaitable<void> {
    AsyncLease lease = co_await adb.async_acquire();
    lease.release();
    EXPECT_FALSE(lease);
    EXPECT_THROW(co_await lease.async_run("SELECT 1"), UsageError);
  };
  run_on(io, work());
}

}  // namespace
}  // namespace nexdb
