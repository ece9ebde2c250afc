// RAII transactions and savepoints on both backends.
#include "backend_fixture.hpp"
#include "nexdb/error.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb::test {
namespace {

class TransactionTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    conn->execute_script("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  }
  std::int64_t count() { return conn->execute("SELECT count(*) FROM items").scalar<std::int64_t>(); }
};

TEST_P(TransactionTest, CommitPersists) {
  {
    Transaction tx(*conn);
    tx.execute("INSERT INTO items VALUES (1, 'a')");
    tx.commit();
    EXPECT_FALSE(tx.active());
  }
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(conn->transaction_status(), TransactionStatus::idle);
}

TEST_P(TransactionTest, RollsBackUnlessCommitted) {
  {
    Transaction tx(*conn);
    tx.execute("INSERT INTO items VALUES (1, 'a')");
    EXPECT_EQ(conn->transaction_status(), TransactionStatus::in_transaction);
  }
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(conn->transaction_status(), TransactionStatus::idle);
}

TEST_P(TransactionTest, AnExceptionLeavesTheDatabaseAsBefore) {
  conn->execute("INSERT INTO items VALUES (1, 'a')");
  EXPECT_THROW(
      {
        Transaction tx(*conn);
        tx.execute("INSERT INTO items VALUES (2, 'b')");
        tx.execute("INSERT INTO items VALUES (3, NULL)");  // NotNullViolation
        tx.commit();
      },
      NotNullViolation);
  EXPECT_EQ(count(), 1);
}

TEST_P(TransactionTest, CommitAfterRollbackIsAUsageError) {
  Transaction tx(*conn);
  tx.rollback();
  EXPECT_THROW(tx.commit(), UsageError);
  EXPECT_THROW(tx.execute("SELECT 1"), UsageError);
}

TEST_P(TransactionTest, NestedBeginIsRefused) {
  Transaction tx(*conn);
  EXPECT_THROW(Transaction inner(*conn), UsageError);
}

TEST_P(TransactionTest, SavepointsRollBackPartOfTheWork) {
  Transaction tx(*conn);
  tx.execute("INSERT INTO items VALUES (1, 'kept')");
  {
    Savepoint sp = tx.savepoint("before_bad");
    tx.execute("INSERT INTO items VALUES (2, 'undone')");
    EXPECT_THROW(tx.execute("INSERT INTO items VALUES (1, 'dup')"), UniqueViolation);
    // sp goes out of scope unreleased: rolls back to itself, clearing the error state.
  }
  {
    Savepoint sp = tx.savepoint("good");
    tx.execute("INSERT INTO items VALUES (3, 'also kept')");
    sp.release();
  }
  tx.commit();
  auto rows = conn->execute("SELECT id FROM items ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get<std::int64_t>(0), 1);
  EXPECT_EQ(rows[1].get<std::int64_t>(0), 3);
}

TEST_P(TransactionTest, FailedTransactionCannotCommitAndWritesNothing) {
  Transaction tx(*conn);
  tx.execute("INSERT INTO items VALUES (1, 'a')");
  EXPECT_THROW(tx.execute("INSERT INTO items VALUES (1, 'dup')"), UniqueViolation);
  if (postgres()) {
    // PostgreSQL aborts the whole transaction on an error; committing must not pretend.
    EXPECT_THROW(tx.commit(), UsageError);
    EXPECT_EQ(count(), 0);
  } else {
    // SQLite undoes only the failed statement; the transaction goes on.
    tx.commit();
    EXPECT_EQ(count(), 1);
  }
}

TEST_P(TransactionTest, ReadOnlyTransactionRefusesWrites) {
  conn->execute("INSERT INTO items VALUES (1, 'a')");
  {
    ReadOnlyTransaction tx(*conn);
    EXPECT_EQ(tx.execute("SELECT count(*) FROM items").scalar<std::int64_t>(), 1);
    EXPECT_THROW(tx.execute("INSERT INTO items VALUES (2, 'b')"), SqlError);
  }
  // The connection is writable again afterwards.
  conn->execute("INSERT INTO items VALUES (3, 'c')");
  EXPECT_EQ(count(), 2);
}

TEST_P(TransactionTest, SerializableIsolationIsAccepted) {
  Transaction tx(*conn, {.isolation = IsolationLevel::serializable});
  tx.execute("INSERT INTO items VALUES (1, 'a')");
  tx.commit();
  EXPECT_EQ(count(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, TransactionTest, ::testing::Values(Dialect::sqlite, Dialect::postgres),
                         backend_name);

}  // namespace
}  // namespace nexdb::test
