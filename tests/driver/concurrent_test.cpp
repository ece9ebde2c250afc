// execute_concurrently(): statements on several PostgreSQL connections at once from one thread
// (the shard fan-out's transport), against the real server.
#include "driver/concurrent_execute.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nexdb/error.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using detail::ConcurrentRun;
using detail::execute_concurrently;

struct Seen {
  std::string sql;
  std::string sqlstate;
  std::size_t rows;
};

class Recorder : public StatementObserver {
 public:
  void on_statement(const StatementEvent& event) noexcept override {
    std::lock_guard lock(mutex);
    seen.push_back({std::string(event.sql), std::string(event.sqlstate), event.rows});
  }
  std::vector<Seen> all() {
    std::lock_guard lock(mutex);
    return seen;
  }
  std::mutex mutex;
  std::vector<Seen> seen;
};

class ConcurrentExecute : public ::testing::Test {
 protected:
  std::unique_ptr<Connection> open(std::shared_ptr<StatementObserver> observer = nullptr) {
    // A statement that waits for another one fails after 10 s instead of hanging the test.
    return connect({.uri = schema.uri(),
                    .statement_timeout = std::chrono::milliseconds(10000),
                    .observer = std::move(observer)});
  }
  static std::vector<ConcurrentRun> runs(
      std::initializer_list<std::pair<Connection*, const Statement*>> list) {
    std::vector<ConcurrentRun> out;
    for (auto [connection, statement] : list)
      out.push_back({.connection = connection, .statement = statement});
    return out;
  }
  PgSchema schema;
};

TEST_F(ConcurrentExecute, EachConnectionAnswersItsOwnStatementColdAndPrepared) {
  auto a = open();
  auto b = open();
  const Statement on_a{"SELECT $1::int * 2 AS v", {Value(21)}};
  const Statement on_b{"SELECT g FROM generate_series(1, $1::int) g", {Value(3)}};
  for (int round = 0; round < 2; ++round) {  // first use prepares, the second is sent prepared
    auto list = runs({{a.get(), &on_a}, {b.get(), &on_b}});
    execute_concurrently(list);
    ASSERT_FALSE(list[0].error);
    ASSERT_FALSE(list[1].error);
    EXPECT_EQ(list[0].rows->scalar<std::int64_t>(), 42);
    ASSERT_EQ(list[1].rows->size(), 3u);
    EXPECT_EQ((*list[1].rows)[2].get<std::int64_t>(0), 3);
  }
  // The statement cache was used: one prepared statement per connection, not one per run.
  EXPECT_EQ(a->execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE "
                       "'SELECT $1::int * 2%'")
                .scalar<std::int64_t>(),
            1);
}

// The waiter can only finish once the releaser has run: run one after the other (waiter first),
// they would never finish; at the same time they do.
TEST_F(ConcurrentExecute, StatementsRunAtTheSameTime) {
  auto waiter = open();
  auto releaser = open();
  const Statement wait{"SELECT pg_advisory_lock(4711), pg_advisory_unlock(4711)", {}};
  const Statement release{"SELECT pg_advisory_unlock(4711)", {}};
  waiter->execute(wait);  // prepared on each connection: both are sent without waiting
  releaser->execute(release);
  releaser->execute("SELECT pg_advisory_lock(4711)");
  auto list = runs({{waiter.get(), &wait}, {releaser.get(), &release}});
  execute_concurrently(list);
  ASSERT_FALSE(list[0].error);
  ASSERT_FALSE(list[1].error);
  EXPECT_TRUE(list[1].rows->scalar<bool>());
  EXPECT_EQ(list[0].rows->size(), 1u);
}

TEST_F(ConcurrentExecute, AFailureStaysWithItsStatementAndTheConnectionStaysUsable) {
  auto a = open();
  auto b = open();
  const Statement divide{"SELECT 10 / $1::int AS q", {Value(5)}};
  a->execute(divide);
  const Statement by_zero{divide.sql, {Value(0)}};
  const Statement fine{"SELECT 'ok' AS s", {}};
  auto list = runs({{a.get(), &by_zero}, {b.get(), &fine}});
  execute_concurrently(list);
  ASSERT_TRUE(list[0].error);
  EXPECT_FALSE(list[0].rows);
  try {
    std::rethrow_exception(list[0].error);
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "22012");
    EXPECT_EQ(e.host(), a->description());
  }
  EXPECT_EQ(list[1].rows->scalar<std::string>(), "ok");
  EXPECT_EQ(a->transaction_status(), TransactionStatus::idle);
  EXPECT_EQ(a->execute(divide).scalar<std::int64_t>(), 2);
}

TEST_F(ConcurrentExecute, ALostConnectionIsConnectionLostAndTheOthersAnswer) {
  auto doomed = open();
  auto other = open();
  const Statement query{"SELECT 1 AS one", {}};
  doomed->execute(query);
  other->execute(query);
  const auto pid = doomed->execute("SELECT pg_backend_pid()").scalar<std::int64_t>();
  auto admin = connect(pg_primary_uri());
  admin->execute("SELECT pg_terminate_backend($1::int)", pid);
  auto list = runs({{doomed.get(), &query}, {other.get(), &query}});
  execute_concurrently(list);
  ASSERT_TRUE(list[0].error);
  EXPECT_THROW(std::rethrow_exception(list[0].error), ConnectionLost);
  EXPECT_TRUE(doomed->is_broken());
  EXPECT_EQ(list[1].rows->scalar<std::int64_t>(), 1);
}

// DDL this process does not see (inside DO) changes the prepared statement's result type: the
// statement is prepared afresh and answers with the new columns, as execute() does.
TEST_F(ConcurrentExecute, APlanMadeStaleByOtherDdlIsPreparedAfresh) {
  auto conn = open();
  auto other = open();
  conn->execute("CREATE TABLE items (id int)");
  conn->execute("INSERT INTO items VALUES (1)");
  const Statement all{"SELECT * FROM items", {}};
  conn->execute(all);
  other->execute_script("DO $$ BEGIN ALTER TABLE items ADD COLUMN label text DEFAULT 'x'; END $$");
  auto list = runs({{conn.get(), &all}});
  execute_concurrently(list);
  ASSERT_FALSE(list[0].error);
  EXPECT_EQ(list[0].rows->columns().size(), 2u);
  EXPECT_EQ((*list[0].rows)[0].get<std::string>("label"), "x");
}

TEST_F(ConcurrentExecute, ObserversSeeEveryStatementWithRowsAndSqlstate) {
  auto recorder = std::make_shared<Recorder>();
  auto conn = open(recorder);
  auto plain = open();
  const Statement rows{"SELECT g FROM generate_series(1, 4) g", {}};
  const Statement bad{"SELECT 1 / $1::int", {Value(1)}};
  conn->execute(bad);
  const Statement bad_now{bad.sql, {Value(0)}};
  recorder->seen.clear();
  auto first = runs({{conn.get(), &rows}, {plain.get(), &rows}});
  execute_concurrently(first);  // cold: through the decorator
  auto second = runs({{conn.get(), &rows}});
  execute_concurrently(second);  // sent without waiting: reported by execute_concurrently
  auto third = runs({{conn.get(), &bad_now}});
  execute_concurrently(third);
  const auto seen = recorder->all();
  ASSERT_EQ(seen.size(), 3u);  // the unobserved connection reports nothing
  EXPECT_EQ(seen[0].sql, rows.sql);
  EXPECT_EQ(seen[0].rows, 4u);
  EXPECT_EQ(seen[1].sql, rows.sql);
  EXPECT_EQ(seen[1].rows, 4u);
  EXPECT_EQ(seen[1].sqlstate, "");
  EXPECT_EQ(seen[2].sqlstate, "22012");
}

// Inside a transaction a statement runs through execute() on that connection: it sees the
// transaction's own writes, and the transaction stays open.
TEST_F(ConcurrentExecute, ATransactionsStatementRunsInsideIt) {
  auto conn = open();
  auto other = open();
  conn->execute("CREATE TABLE notes (id int)");
  const Statement count{"SELECT count(*) FROM notes", {}};
  conn->execute(count);
  other->execute(count);
  conn->execute("BEGIN");
  conn->execute("INSERT INTO notes VALUES (1)");
  auto list = runs({{conn.get(), &count}, {other.get(), &count}});
  execute_concurrently(list);
  EXPECT_EQ(list[0].rows->scalar<std::int64_t>(), 1);
  EXPECT_EQ(list[1].rows->scalar<std::int64_t>(), 0);  // not committed
  EXPECT_EQ(conn->transaction_status(), TransactionStatus::in_transaction);
  conn->execute("ROLLBACK");
}

TEST_F(ConcurrentExecute, SqliteConnectionsRunInTheSameCall) {
  TempDir dir;
  auto lite = connect("sqlite:" + dir.path() + "/c.db");
  auto pg = open();
  const Statement lite_query{"SELECT 7 AS n", {}};
  const Statement pg_query{"SELECT 8 AS n", {}};
  pg->execute(pg_query);
  EXPECT_FALSE(detail::sends_without_waiting(*lite));
  EXPECT_TRUE(detail::sends_without_waiting(*pg));
  auto list = runs({{lite.get(), &lite_query}, {pg.get(), &pg_query}});
  execute_concurrently(list);
  EXPECT_EQ(list[0].rows->scalar<std::int64_t>(), 7);
  EXPECT_EQ(list[1].rows->scalar<std::int64_t>(), 8);
}

}  // namespace
}  // namespace nexdb::test
