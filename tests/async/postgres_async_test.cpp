// The async API against the real PostgreSQL primary: pipelines, implicit batching, deadlines
// and cancellation, transactions, the shared pool.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/system_error.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
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

DatabaseSettings settings_for(const std::string& uri, std::size_t max_size = 8) {
  return {.connection = {.uri = uri}, .pool = {.min_idle = 0, .max_size = max_size}};
}

class AsyncPostgres : public ::testing::Test {
 protected:
  test::PgSchema schema;
  asio::io_context io;
  Database db = Database::open(settings_for(schema.uri()));
};

TEST_F(AsyncPostgres, RunsAStatementWithBoundValues) {
  AsyncDatabase adb(io.get_executor(), db);
  Rows rows = run_on(io, adb.async_run("SELECT $1::int8 + 1 AS n, $2::text AS s", 41, "x"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.front().get<std::int64_t>("n"), 42);
  EXPECT_EQ(rows.front().get<std::string>("s"), "x");
}

TEST_F(AsyncPostgres, ServerErrorsKeepTheirTypes) {
  db.execute("CREATE TABLE u (id int PRIMARY KEY)");
  db.execute("INSERT INTO u VALUES (1)");
  AsyncDatabase adb(io.get_executor(), db);
  EXPECT_THROW(run_on(io, adb.async_run("INSERT INTO u VALUES ($1)", 1)), UniqueViolation);
  EXPECT_THROW(run_on(io, adb.async_run("SELEC 1")), SqlError);
  // The connection that saw the errors is fine for the next call.
  EXPECT_EQ(run_on(io, adb.async_run("SELECT count(*) FROM u")).scalar<std::int64_t>(), 1);
}

// The first bar: 10,000 coroutines on one thread, each with its own statement in flight.
TEST_F(AsyncPostgres, TenThousandConcurrentCoroutinesOnOneThreadComplete) {
  AsyncDatabase adb(io.get_executor(), db);
  constexpr int kCoroutines = 10000;
  std::vector<std::int64_t> answers(kCoroutines, -1);
  int failures = 0;
  for (int i = 0; i < kCoroutines; ++i) {
    asio::co_spawn(
        io,
        [&adb, &answers, i]() -> asio::awaitable<void> {
          Rows rows = co_await adb.async_run("SELECT $1::int8 * 2", i);
          answers[static_cast<std::size_t>(i)] = rows.scalar<std::int64_t>();
        },
        [&failures](std::exception_ptr error) { failures += error ? 1 : 0; });
  }
  io.run();
  EXPECT_EQ(failures, 0);
  for (int i = 0; i < kCoroutines; ++i) ASSERT_EQ(answers[static_cast<std::size_t>(i)], 2 * i) << i;
  const AsyncStats stats = adb.stats();
  EXPECT_EQ(stats.calls, static_cast<std::uint64_t>(kCoroutines));
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.pipelined, static_cast<std::uint64_t>(kCoroutines));  // all on shared lanes
  EXPECT_LE(db.pool().stats().total, adb.settings().max_lanes);
  EXPECT_GT(stats.max_lane_depth, 1u);  // statements really were in flight together
  EXPECT_EQ(stats.lanes, 0u);           // idle lanes went back to the pool
  EXPECT_EQ(db.pool().stats().active, 0u);
}

// The seed's inserts and reads as one pipeline give exactly what the same statements give one by
// one through the blocking driver.
TEST_F(AsyncPostgres, PipelineResultsMatchSequentialResults) {
  db.execute(
      "CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, status text, "
      "total numeric(10,2), created_at timestamptz DEFAULT '2024-01-01')");
  std::vector<Statement> statements;
  for (int i = 0; i < 50; ++i) {
    statements.push_back(
        {"INSERT INTO orders (user_id, status, total) VALUES ($1, $2, $3) RETURNING id, total",
         {Value(std::int64_t{i % 7}), Value(i % 2 ? "paid" : "new"), Value(i * 1.25)}});
  }
  statements.push_back(
      {"SELECT user_id, count(*), sum(total) FROM orders GROUP BY user_id ORDER BY user_id", {}});
  statements.push_back(
      {"SELECT id, status, total, created_at FROM orders WHERE user_id = $1 ORDER BY id",
       {Value(std::int64_t{3})}});
  statements.push_back({"SELECT NULL::text AS nothing, true AS yes, 2.5::float8 AS f", {}});

  AsyncDatabase adb(io.get_executor(), db);
  Pipeline pipeline = adb.pipeline();
  for (const Statement& statement : statements) pipeline.add(statement);
  EXPECT_EQ(pipeline.size(), statements.size());
  std::vector<Rows> piped = run_on(io, pipeline.async_run());
  EXPECT_TRUE(pipeline.empty());

  test::PgSchema other;  // the same statements, one at a time, on a fresh copy of the table
  auto sync = connect(other.uri());
  sync->execute_script(
      "CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, status text, "
      "total numeric(10,2), created_at timestamptz DEFAULT '2024-01-01')");
  ASSERT_EQ(piped.size(), statements.size());
  for (std::size_t i = 0; i < statements.size(); ++i) {
    Rows expected = sync->execute(statements[i]);
    ASSERT_EQ(piped[i].columns(), expected.columns()) << i;
    ASSERT_EQ(piped[i].size(), expected.size()) << i;
    EXPECT_EQ(piped[i].affected_rows(), expected.affected_rows()) << i;
    for (std::size_t r = 0; r < expected.size(); ++r) {
      for (std::size_t c = 0; c < expected.column_count(); ++c) {
        EXPECT_EQ(piped[i].value(r, c), expected.value(r, c)) << "statement " << i << " row " << r;
      }
    }
  }
}

// A pipeline is one implicit transaction: a failure reports its index and nothing is kept.
TEST_F(AsyncPostgres, APipelineFailureNamesTheStatementAndKeepsNothing) {
  db.execute("CREATE TABLE u (id int PRIMARY KEY)");
  AsyncDatabase adb(io.get_executor(), db);
  Pipeline pipeline = adb.pipeline();
  pipeline.add("INSERT INTO u VALUES ($1)", 1);
  pipeline.add("INSERT INTO u VALUES ($1)", 2);
  pipeline.add("INSERT INTO u VALUES ($1)", 1);  // duplicate
  pipeline.add("INSERT INTO u VALUES ($1)", 3);
  try {
    run_on(io, pipeline.async_run());
    FAIL() << "the duplicate key should have failed the pipeline";
  } catch (const PipelineError& error) {
    EXPECT_EQ(error.index(), 2u);
    EXPECT_EQ(error.sqlstate(), "23505");
    EXPECT_THROW(error.rethrow_cause(), UniqueViolation);
  }
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 0);
}

// Implicit batching pipelines different coroutines' statements on shared connections, each its
// own transaction: one failing takes nobody else down.
TEST_F(AsyncPostgres, ImplicitBatchingIsolatesEachCallersStatement) {
  db.execute("CREATE TABLE u (id int PRIMARY KEY)");
  AsyncDatabase adb(io.get_executor(), db, {.max_lanes = 1});
  constexpr int kCalls = 200;
  int ok = 0;
  int duplicates = 0;
  for (int i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          try {
            co_await adb.async_run("INSERT INTO u VALUES ($1)", i % 100);  // each id twice
            ++ok;
          } catch (const UniqueViolation&) {
            ++duplicates;
          }
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(duplicates, 100);
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 100);
  EXPECT_EQ(adb.stats().pipelined, static_cast<std::uint64_t>(kCalls));
  EXPECT_GT(adb.stats().max_lane_depth, 1u);
}

class Recorder : public StatementObserver {
 public:
  void on_statement(const StatementEvent& event) noexcept override {
    std::lock_guard lock(mutex);
    seen.push_back({std::string(event.sql), std::string(event.sqlstate), event.rows});
  }
  struct Seen {
    std::string sql;
    std::string sqlstate;
    std::size_t rows;
  };
  std::mutex mutex;
  std::vector<Seen> seen;
};

// Plain reads sent in the same turn share one Sync; one failing read aborts the reads after it,
// which are sent again on their own: every caller gets exactly its own outcome.
TEST_F(AsyncPostgres, GroupedReadsGetTheirOwnOutcomeWhenOneOfThemFails) {
  auto recorder = std::make_shared<Recorder>();
  Database observed = Database::open({.connection = {.uri = schema.uri(), .observer = recorder},
                                      .pool = {.min_idle = 0, .max_size = 2}});
  AsyncDatabase adb(io.get_executor(), observed, {.max_lanes = 1});
  constexpr int kCalls = 300;
  int right = 0;
  int divided_by_zero = 0;
  int wrong = 0;
  for (int i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          try {
            Rows rows = co_await adb.async_run("SELECT 1000 / $1::int4 AS q", i % 10);
            (rows.scalar<std::int32_t>() == 1000 / (i % 10) ? right : wrong) += 1;
          } catch (const SqlError& e) {
            (e.sqlstate() == "22012" && i % 10 == 0 ? divided_by_zero : wrong) += 1;
          }
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(divided_by_zero, kCalls / 10);
  EXPECT_EQ(right, kCalls - kCalls / 10);
  EXPECT_GT(adb.stats().max_lane_depth, 1u);
  std::lock_guard lock(recorder->mutex);
  const auto aborted = std::count_if(recorder->seen.begin(), recorder->seen.end(),
                                     [](const auto& seen) { return seen.sqlstate == "25P02"; });
  EXPECT_GT(aborted, 0);  // some reads really were aborted by a neighbour and sent again
}

// A parse error reaches every caller that sent the same new statement before the error was
// known, not a confusing "prepared statement does not exist"; the cache forgets the statement.
TEST_F(AsyncPostgres, AParseErrorReachesEveryConcurrentCaller) {
  AsyncDatabase adb(io.get_executor(), db, {.max_lanes = 1});
  std::vector<std::string> states;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          try {
            co_await adb.async_run("SELECT no_such_column FROM (SELECT 1) AS t WHERE 1 = $1", 1);
          } catch (const SqlError& e) {
            states.push_back(e.sqlstate());
          }
        },
        asio::detached);
  }
  io.run();
  ASSERT_EQ(states.size(), 5u);
  for (const std::string& state : states) EXPECT_EQ(state, "42703");
}

// After DDL changes a cached statement's result type (0A000), the async path re-prepares and
// runs it again, as the blocking driver does.
// DDL run by another service (a raw libpq connection nexdb knows nothing about).
void alter_elsewhere(const std::string& uri, const std::string& sql) {
  PGconn* conn = PQconnectdb(uri.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, sql.c_str());
  EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
}

// DDL through nexdb moves the schema epoch: the pipeline prepares afresh without an error. DDL by
// another process surfaces as 0A000 once, and the statement is prepared again and run.
TEST_F(AsyncPostgres, AStalePlanAfterDdlIsPreparedAgain) {
  auto recorder = std::make_shared<Recorder>();
  Database observed = Database::open({.connection = {.uri = schema.uri(), .observer = recorder},
                                      .pool = {.min_idle = 0, .max_size = 2}});
  observed.execute("CREATE TABLE t (a int)");
  observed.execute("INSERT INTO t VALUES (1)");
  AsyncDatabase adb(io.get_executor(), observed);
  auto alter_twice = [&]() -> asio::awaitable<void> {
    AsyncLease lease = co_await adb.async_acquire();
    co_await lease.async_run("SELECT * FROM t");
    co_await lease.async_run("ALTER TABLE t ADD COLUMN b text DEFAULT 'x'");
    Rows rows = co_await lease.async_run("SELECT * FROM t");
    EXPECT_EQ(rows.column_count(), 2u);
    alter_elsewhere(schema.uri(), "ALTER TABLE t ADD COLUMN c int DEFAULT 7");
    rows = co_await lease.async_run("SELECT * FROM t");
    EXPECT_EQ(rows.column_count(), 3u);
    EXPECT_EQ(rows.front().get<std::int64_t>(2), 7);
  };
  run_on(io, alter_twice());
  std::lock_guard lock(recorder->mutex);
  ASSERT_EQ(recorder->seen.size(), 7u);
  EXPECT_EQ(recorder->seen[4].sqlstate, "");  // our own DDL: prepared afresh, no error
  EXPECT_EQ(recorder->seen[4].rows, 1u);
  EXPECT_EQ(recorder->seen[5].sqlstate, "0A000");  // another process's DDL: the stale plan ...
  EXPECT_EQ(recorder->seen[6].sqlstate, "");       // ... prepared again and run
  EXPECT_EQ(recorder->seen[6].rows, 1u);
}

// Is a statement like `pattern` still running on the server (another backend than ours)?
// Whether a statement matching `pattern` has left the server within two seconds (a pg_sleep(10)
// that was not cancelled stays for ten). The backend reports itself idle a moment after the
// client has read the cancellation error, so one look straight away can still see it active.
// Each test names its statement: other test processes run beside it on the same server.
bool gone_from_server(const std::string& pattern) {
  auto admin = connect(test::pg_primary_uri());
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto active =
        admin
            ->execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 "
                "AND pid <> pg_backend_pid()",
                pattern)
            .scalar<std::int64_t>();
    if (active == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// The bar: a deadline cancels pg_sleep(10) on the server right away, and the one
// connection of the pool is clean for the next call.
TEST_F(AsyncPostgres, ADeadlineCancelsTheStatementOnTheServerAndTheConnectionIsReused) {
  Database one = Database::open(settings_for(schema.uri(), 1));
  AsyncDatabase adb(io.get_executor(), one);
  // Connect first: on a loaded machine opening the connection alone can outlast 50 ms, and the
  // deadline would then end the wait for it, not the statement this test is about.
  one.connection().release();
  const auto start = std::chrono::steady_clock::now();
  try {
    run_on(io, adb.with_timeout(50ms).async_run("SELECT pg_sleep(10) AS deadline_test"));
    FAIL() << "pg_sleep(10) should have hit its 50 ms deadline";
  } catch (const TimeoutError& e) {
    EXPECT_EQ(e.sqlstate(), "57014");
    EXPECT_NE(std::string(e.what()).find("deadline of 50 ms"), std::string::npos) << e.what();
  }
  const auto elapsed = since(start);
  std::printf("deadline 50 ms: the call returned after %lld ms\n",
              static_cast<long long>(elapsed.count()));
  EXPECT_LT(elapsed, 2000ms);  // far below pg_sleep's 10 s (the bound is loose for a loaded CI box)
  EXPECT_TRUE(gone_from_server("SELECT pg_sleep(10) AS deadline_test"));
  // The same (only) connection answers at once.
  EXPECT_EQ(run_on(io, adb.async_run("SELECT 7")).scalar<std::int32_t>(), 7);
  EXPECT_EQ(one.pool().stats().created, 1u);
  const AsyncStats stats = adb.stats();
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.cancel_requests, 1u);
  EXPECT_EQ(stats.connections_discarded, 0u);
}

// A deadline also covers waiting for a connection; the waiter leaves the pool's queue.
TEST_F(AsyncPostgres, ADeadlineCoversWaitingForAConnection) {
  Database one = Database::open(settings_for(schema.uri(), 1));
  AsyncDatabase adb(io.get_executor(), one);
  Lease held = one.connection();
  EXPECT_THROW(run_on(io, adb.with_timeout(30ms).async_run("SELECT 1")), TimeoutError);
  EXPECT_EQ(one.pool().stats().waiting, 0u);
  held.release();
  EXPECT_EQ(run_on(io, adb.async_run("SELECT 1")).scalar<std::int32_t>(), 1);
}

// Asio's own cancellation (here: racing a timer with ||) cancels the statement on the server.
TEST_F(AsyncPostgres, AsioCancellationCancelsTheStatementOnTheServer) {
  using namespace asio::experimental::awaitable_operators;
  Database one = Database::open(settings_for(schema.uri(), 1));
  AsyncDatabase adb(io.get_executor(), one);
  one.connection().release();  // connected before the 50 ms race starts, as above
  auto race = [&]() -> asio::awaitable<bool> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 50ms);
    auto winner = co_await (adb.async_run("SELECT pg_sleep(10) AS asio_cancel_test") ||
                            timer.async_wait(asio::use_awaitable));
    co_return winner.index() == 1;
  };
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(run_on(io, race()));
  EXPECT_LT(since(start), 2000ms);
  EXPECT_TRUE(gone_from_server("SELECT pg_sleep(10) AS asio_cancel_test"));
  EXPECT_EQ(run_on(io, adb.async_run("SELECT 8")).scalar<std::int32_t>(), 8);
  EXPECT_EQ(adb.stats().cancelled, 1u);
}

// The async API shares the pool (limits, FIFO, statistics) with the blocking one.
TEST_F(AsyncPostgres, TheAsyncPathSharesTheSyncPoolsLimitsAndStats) {
  Database two = Database::open(settings_for(schema.uri(), 2));
  AsyncDatabase adb(io.get_executor(), two, {.implicit_batching = false});
  Lease a = two.connection();
  Lease b = two.connection();
  bool got = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        AsyncLease lease = co_await adb.async_acquire();
        got = true;
        EXPECT_EQ((co_await lease.async_run("SELECT 1")).scalar<std::int32_t>(), 1);
      },
      asio::detached);
  io.run_for(50ms);
  EXPECT_FALSE(got);                          // both connections are out
  EXPECT_EQ(two.pool().stats().waiting, 1u);  // the coroutine waits in the pool's queue
  a.release();                                // handed straight to the async waiter
  io.restart();
  io.run();
  EXPECT_TRUE(got);
  EXPECT_EQ(two.pool().stats().total, 2u);
  EXPECT_GE(two.pool().stats().acquired, 3u);
}

TEST_F(AsyncPostgres, AcquireTimesOutWithPoolExhaustedCountedInThePoolStats) {
  Database one = Database::open({.connection = {.uri = schema.uri()},
                                 .pool = {.min_idle = 0, .max_size = 1, .acquire_timeout = 50ms}});
  AsyncDatabase adb(io.get_executor(), one);
  Lease held = one.connection();
  EXPECT_THROW(run_on(io, adb.async_acquire()), PoolExhausted);
  EXPECT_EQ(one.pool().stats().timeouts, 1u);
  EXPECT_EQ(one.pool().stats().waiting, 0u);
}

TEST_F(AsyncPostgres, TransactionsCommitRollBackAndRollBackWhenAbandoned) {
  db.execute("CREATE TABLE u (id int PRIMARY KEY)");
  AsyncDatabase adb(io.get_executor(), db);
  auto work = [&]() -> asio::awaitable<void> {
    co_await adb.async_transaction([](AsyncTransaction& tx) -> asio::awaitable<void> {
      co_await tx.async_run("INSERT INTO u VALUES ($1)", 1);
      co_await tx.async_run("INSERT INTO u VALUES ($1)", 2);
    });
    // An exception rolls back and propagates.
    bool threw = false;
    try {
      co_await adb.async_transaction([](AsyncTransaction& tx) -> asio::awaitable<void> {
        co_await tx.async_run("INSERT INTO u VALUES ($1)", 3);
        throw std::runtime_error("changed my mind");
      });
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    // A value comes back.
    std::int64_t n = co_await adb.async_read_transaction(
        [](AsyncReadOnlyTransaction& tx) -> asio::awaitable<std::int64_t> {
          co_return (co_await tx.async_run("SELECT count(*) FROM u")).scalar<std::int64_t>();
        });
    EXPECT_EQ(n, 2);
    // Abandoned: destroyed without commit, rolled back before its connection is reused.
    {
      AsyncTransaction tx = co_await adb.async_begin();
      co_await tx.async_run("INSERT INTO u VALUES ($1)", 4);
    }
  };
  run_on(io, work());
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 2);
  EXPECT_EQ(db.pool().stats().active, 0u);
}

TEST_F(AsyncPostgres, CommitAfterAFailedStatementRollsBackAndSaysSo) {
  db.execute("CREATE TABLE u (id int PRIMARY KEY)");
  AsyncDatabase adb(io.get_executor(), db);
  auto work = [&]() -> asio::awaitable<void> {
    AsyncTransaction tx = co_await adb.async_begin();
    co_await tx.async_run("INSERT INTO u VALUES ($1)", 1);
    EXPECT_THROW(co_await tx.async_run("INSERT INTO u VALUES ($1)", 1), UniqueViolation);
    EXPECT_THROW(co_await tx.async_commit(), UsageError);
    EXPECT_FALSE(tx.active());
    EXPECT_THROW(co_await tx.async_commit(), UsageError);  // already finished
  };
  run_on(io, work());
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 0);
}

TEST_F(AsyncPostgres, AReadOnlyTransactionRefusesWrites) {
  db.execute("CREATE TABLE u (id int PRIMARY KEY)");
  AsyncDatabase adb(io.get_executor(), db);
  auto work = [&]() -> asio::awaitable<void> {
    AsyncReadOnlyTransaction tx = co_await adb.async_begin_read();
    EXPECT_THROW(co_await tx.async_run("INSERT INTO u VALUES ($1)", 1), SqlError);
  };
  run_on(io, work());
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 0);
}

// A pipeline inside a transaction is part of it.
TEST_F(AsyncPostgres, APipelineInsideATransactionIsPartOfIt) {
  db.execute("CREATE TABLE u (id int PRIMARY KEY)");
  AsyncDatabase adb(io.get_executor(), db);
  auto work = [&]() -> asio::awaitable<void> {
    AsyncTransaction tx = co_await adb.async_begin();
    Pipeline pipeline = tx.pipeline();
    for (int i = 0; i < 10; ++i) pipeline.add("INSERT INTO u VALUES ($1)", i);
    auto results = co_await pipeline.async_run();
    EXPECT_EQ(results.size(), 10u);
    EXPECT_EQ((co_await tx.async_run("SELECT count(*) FROM u")).scalar<std::int64_t>(), 10);
    co_await tx.async_rollback();
  };
  run_on(io, work());
  EXPECT_EQ(db.execute("SELECT count(*) FROM u").scalar<std::int64_t>(), 0);
}

// Monitoring sees the async path's statements as it sees the blocking ones.
TEST_F(AsyncPostgres, TheObserverSeesAsyncStatements) {
  auto recorder = std::make_shared<Recorder>();
  Database observed = Database::open({.connection = {.uri = schema.uri(), .observer = recorder},
                                      .pool = {.min_idle = 0, .max_size = 2}});
  observed.execute("CREATE TABLE u (id int PRIMARY KEY)");
  AsyncDatabase adb(io.get_executor(), observed);
  auto work = [&]() -> asio::awaitable<void> {
    co_await adb.async_run("INSERT INTO u VALUES ($1), ($2)", 1, 2);
    co_await adb.async_run("SELECT id FROM u");
    try {
      co_await adb.async_run("INSERT INTO u VALUES ($1)", 1);
    } catch (const UniqueViolation&) {
    }
  };
  run_on(io, work());
  std::lock_guard lock(recorder->mutex);
  ASSERT_EQ(recorder->seen.size(), 4u);  // the CREATE TABLE (blocking) and three async ones
  EXPECT_EQ(recorder->seen[1].sql, "INSERT INTO u VALUES ($1), ($2)");
  EXPECT_EQ(recorder->seen[1].rows, 2u);
  EXPECT_EQ(recorder->seen[2].rows, 2u);
  EXPECT_EQ(recorder->seen[2].sqlstate, "");
  EXPECT_EQ(recorder->seen[3].sqlstate, "23505");
}

// An AsyncDatabase is thread-safe: coroutines on four threads share one.
TEST_F(AsyncPostgres, CoroutinesOnSeveralThreadsShareOneAsyncDatabase) {
  asio::thread_pool threads(4);
  AsyncDatabase adb(threads.get_executor(), db);
  std::atomic<int> sum{0};
  std::atomic<int> failures{0};
  for (int i = 0; i < 400; ++i) {
    asio::co_spawn(
        threads,
        [&, i]() -> asio::awaitable<void> {
          if (i % 10 == 0) {
            co_await adb.async_transaction([&](AsyncTransaction& tx) -> asio::awaitable<void> {
              sum += (co_await tx.async_run("SELECT $1::int4", 1)).scalar<std::int32_t>();
            });
          } else {
            sum += (co_await adb.async_run("SELECT $1::int4", 1)).scalar<std::int32_t>();
          }
        },
        [&](std::exception_ptr error) { failures += error ? 1 : 0; });
  }
  threads.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sum.load(), 400);
  EXPECT_EQ(db.pool().stats().active, 0u);
}

}  // namespace
}  // namespace nexdb
