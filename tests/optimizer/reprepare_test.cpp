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

// DDL by another session between a statement's preparation and its first use in a transaction:
// PostgreSQL would abort the transaction ("cached plan must not change result type"); the driver
// ran that first use under a savepoint, so it re-prepares and the transaction goes on, its
// earlier writes intact. SQLite re-prepares by itself (SQLITE_SCHEMA).
TEST_P(Reprepare, InsideATransactionAfterDdlElsewhere) {
  Lease mine = db->connection();
  const Statement by_id{by_id_sql(), {4}};
  (void)mine->execute(by_id);
  alter_elsewhere("ALTER TABLE users ADD COLUMN score INTEGER DEFAULT 7");
  {
    Transaction tx(*mine);
    (void)tx.execute(update(User).set(User.status = "before").where(User.id == 4));
    const Rows rows = tx.execute(by_id);
    ASSERT_EQ(rows.column_count(), 5u);
    EXPECT_EQ(rows[0].get<std::int64_t>("score"), 7);
    EXPECT_EQ(rows[0].get<std::string>("status"), "before");
    (void)tx.execute(update(User).set(User.email = "after@example.com").where(User.id == 4));
    tx.commit();
  }
  const Rows after = db->execute(by_id);
  EXPECT_EQ(after[0].get<std::string>("status"), "before");
  EXPECT_EQ(after[0].get<std::string>("email"), "after@example.com");
}

// The savepoint is there for that one case only: any other error still fails the transaction as
// PostgreSQL decides, and the connection serves the next one normally.
TEST_P(Reprepare, OtherErrorsInATransactionStayErrors) {
  Lease mine = db->connection();
  const Statement ratio{postgres() ? "SELECT 100 / $1::int AS r" : "SELECT 100 / ? AS r", {5}};
  EXPECT_EQ(mine->execute(ratio).scalar<std::int64_t>(), 20);
  {
    Transaction tx(*mine);
    if (postgres()) {
      EXPECT_THROW((void)tx.execute(Statement{ratio.sql, {0}}), SqlError);
      EXPECT_EQ(mine->transaction_status(), TransactionStatus::failed);
    }
    tx.rollback();
  }
  Transaction again(*mine);
  EXPECT_EQ(again.execute(Statement{ratio.sql, {4}}).scalar<std::int64_t>(), 25);
  again.commit();
}

// A savepoint of the application's own around a statement the driver guards still works.
TEST_P(Reprepare, ApplicationSavepointsAroundAGuardedStatement) {
  Lease mine = db->connection();
  const Statement by_id{by_id_sql(), {5}};
  (void)mine->execute(by_id);
  Transaction tx(*mine);
  (void)tx.execute(update(User).set(User.status = "kept").where(User.id == 5));
  {
    Savepoint sp = tx.savepoint("mine");
    (void)tx.execute(update(User).set(User.status = "undone").where(User.id == 5));
    const Rows inside = tx.execute(by_id);
    EXPECT_EQ(inside[0].get<std::string>("status"), "undone");
    sp.rollback();
  }
  const Rows after = tx.execute(by_id);
  EXPECT_EQ(after[0].get<std::string>("status"), "kept");
  tx.commit();
}

INSTANTIATE_TEST_SUITE_P(Backend, Reprepare, ::testing::Values(NEXDB_TEST_DIALECT), backend_name);

}  // namespace
}  // namespace nexdb::test
