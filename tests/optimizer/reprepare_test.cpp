// Prepared statements survive ALTER TABLE: the statement cache re-prepares instead of failing.
// "Another process" is a raw libpq or sqlite3 connection the driver knows nothing about.
#include <libpq-fe.h>
#include <sqlite3.h>

#include "seed_world.hpp"

namespace nexdb::test {
namespace {

/// Runs DDL the way another service or a psql session would: on a raw libpq / sqlite3
/// connection, outside nexdb.
class Reprepare : public SeedWorld {
 protected:
  void alter_elsewhere(const std::string& sql) {
    if (postgres()) {
      PGconn* conn = PQconnectdb(uri().c_str());
      ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
      PGresult* result = PQexec(conn, sql.c_str());
      EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << PQresultErrorMessage(result);
      PQclear(result);
      PQfinish(conn);
      return;
    }
    sqlite3* handle = nullptr;
    ASSERT_EQ(sqlite3_open(uri().substr(std::string_view("sqlite:").size()).c_str(), &handle),
              SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(handle);
  }
  std::string by_id_sql() const {
    return postgres() ? "SELECT * FROM users WHERE id = $1" : "SELECT * FROM users WHERE id = ?";
  }
};

TEST_P(Reprepare, SelectStarSeesANewColumnAfterAlterTable) {
  QueryOptimizer optimizer{*db};
  const Statement by_id{by_id_sql(), {3}};
  EXPECT_EQ(optimizer.run(by_id).column_count(), 4u);
  alter_elsewhere("ALTER TABLE users ADD COLUMN nickname TEXT DEFAULT 'n'");
  const Rows after = optimizer.run(by_id);
  EXPECT_EQ(after.column_count(), 5u);
  EXPECT_EQ(after[0].get<std::string>("nickname"), "n");
}

TEST_P(Reprepare, BuilderQuerySurvivesAColumnTypeChange) {
  QueryOptimizer optimizer{*db};
  const auto totals =
      select(Order.id, Order.total).from(Order).where(Order.user_id == 2).order_by(Order.id.asc());
  const auto before = optimizer.run(totals);
  // SQLite has no ALTER COLUMN TYPE; a rename there and back changes the schema all the same.
  alter_elsewhere(postgres() ? "ALTER TABLE orders ALTER COLUMN total TYPE NUMERIC(12, 2)"
                             : "ALTER TABLE orders RENAME COLUMN total TO amount");
  if (!postgres()) alter_elsewhere("ALTER TABLE orders RENAME COLUMN amount TO total");
  const auto after = optimizer.run(totals);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after[0].get<std::int64_t>("id"), before[0].get<std::int64_t>("id"));
}

TEST_P(Reprepare, InsideATransactionAfterDdlByThisProcess) {
  Lease mine = db->connection();
  const Statement by_id{by_id_sql(), {4}};
  EXPECT_EQ(mine->execute(by_id).column_count(), 4u);  // now cached on this connection
  Database other = Database::open(uri());              // another pool of this process
  other.execute("ALTER TABLE users ADD COLUMN score INTEGER DEFAULT 7");
  Transaction tx(*mine);
  const Rows rows = tx.execute(by_id);  // re-prepared before use: no error, no aborted transaction
  EXPECT_EQ(rows.column_count(), 5u);
  EXPECT_EQ(rows[0].get<std::int64_t>("score"), 7);
  tx.commit();
}

// PostgreSQL aborts the transaction: the error says to run it again, and the retry works.
// SQLite re-prepares by itself (SQLITE_SCHEMA), in transactions too.
TEST_P(Reprepare, InsideATransactionAfterDdlElsewhere) {
  Lease mine = db->connection();
  const Statement by_id{by_id_sql(), {4}};
  (void)mine->execute(by_id);
  alter_elsewhere("ALTER TABLE users ADD COLUMN score INTEGER DEFAULT 7");
  if (!postgres()) {
    Transaction tx(*mine);
    const Rows rows = tx.execute(by_id);
    EXPECT_EQ(rows[0].get<std::int64_t>("score"), 7);
    tx.commit();
    return;
  }
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
