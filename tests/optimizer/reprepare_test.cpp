// Prepared statements survive ALTER TABLE: the statement cache re-prepares instead of failing.
// "Another process" is a raw libpq connection the driver knows nothing about.
#include <libpq-fe.h>

#include "seed_world.hpp"

namespace nexdb::test {
namespace {

using Reprepare = SeedWorld;

/// Runs DDL the way another service or a psql session would: outside nexdb.
void alter_elsewhere(const std::string& uri, const std::string& sql) {
  PGconn* conn = PQconnectdb(uri.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, sql.c_str());
  EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
}

TEST_P(Reprepare, SelectStarSeesANewColumnAfterAlterTable) {
  QueryOptimizer optimizer{*db};
  const Statement by_id{
      postgres() ? "SELECT * FROM users WHERE id = $1" : "SELECT * FROM users WHERE id = ?", {3}};
  EXPECT_EQ(optimizer.run(by_id).column_count(), 4u);
  if (postgres()) {
    alter_elsewhere(uri(), "ALTER TABLE users ADD COLUMN nickname TEXT DEFAULT 'n'");
  } else {
    Database other = Database::open(uri());  // another connection to the same file
    other.execute("ALTER TABLE users ADD COLUMN nickname TEXT DEFAULT 'n'");
  }
  const Rows after = optimizer.run(by_id);
  EXPECT_EQ(after.column_count(), 5u);
  EXPECT_EQ(after[0].get<std::string>("nickname"), "n");
}

TEST_P(Reprepare, BuilderQuerySurvivesAColumnTypeChange) {
  QueryOptimizer optimizer{*db};
  const auto totals =
      select(Order.id, Order.total).from(Order).where(Order.user_id == 2).order_by(Order.id.asc());
  const auto before = optimizer.run(totals);
  if (postgres()) {
    alter_elsewhere(uri(), "ALTER TABLE orders ALTER COLUMN total TYPE NUMERIC(12, 2)");
  } else {
    db->execute("ALTER TABLE orders RENAME COLUMN status TO state");
    db->execute("ALTER TABLE orders RENAME COLUMN state TO status");
  }
  const auto after = optimizer.run(totals);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after[0].get<std::int64_t>("id"), before[0].get<std::int64_t>("id"));
}

TEST_P(Reprepare, InsideATransactionAfterDdlByThisProcess) {
  if (!postgres())
    GTEST_SKIP() << "SQLite re-prepares by itself (SQLITE_SCHEMA), in transactions too";
  Lease mine = db->connection();
  const Statement by_id{"SELECT * FROM users WHERE id = $1", {4}};
  EXPECT_EQ(mine->execute(by_id).column_count(), 4u);  // now cached on this connection
  Database other = Database::open(uri());
  other.execute(
      "ALTER TABLE users ADD COLUMN score INTEGER DEFAULT 7");  // another pooled connection
  Transaction tx(*mine);
  const Rows rows = tx.execute(by_id);  // re-prepared before use: no error, no aborted transaction
  EXPECT_EQ(rows.column_count(), 5u);
  EXPECT_EQ(rows[0].get<std::int64_t>("score"), 7);
  tx.commit();
}

TEST_P(Reprepare, InsideATransactionAfterDdlElsewhereIsRetryable) {
  if (!postgres())
    GTEST_SKIP() << "SQLite re-prepares by itself (SQLITE_SCHEMA), in transactions too";
  Lease mine = db->connection();
  const Statement by_id{"SELECT * FROM users WHERE id = $1", {4}};
  (void)mine->execute(by_id);
  alter_elsewhere(uri(), "ALTER TABLE users ADD COLUMN score INTEGER DEFAULT 7");
  {
    Transaction tx(*mine);
    try {
      (void)tx.execute(by_id);
      FAIL() << "PostgreSQL refuses a cached plan whose result type changed";
    } catch (const RetryableError& e) {
      EXPECT_EQ(e.sqlstate(), "0A000");
      EXPECT_TRUE(e.retryable());
      EXPECT_NE(e.message().find("Run the transaction again"), std::string::npos) << e.what();
    }
  }
  Transaction again(*mine);  // the retry works: the stale statement was dropped
  EXPECT_EQ(again.execute(by_id).column_count(), 5u);
  again.commit();
}

INSTANTIATE_TEST_SUITE_P(Backend, Reprepare, ::testing::Values(NEXDB_TEST_DIALECT), backend_name);

}  // namespace
}  // namespace nexdb::test
