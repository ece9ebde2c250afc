// execute() with SQL text or a prepared query borrows the thread's reusable Statement: nothing
// of one call (values, text) may leak into the next, and a nested call must not disturb it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"
#include "nexdb/query.hpp"

namespace nexdb {
namespace {

TEST(ReusableStatement, LendsTheThreadsStatementAndClearsItsValues) {
  Statement* first = nullptr;
  {
    detail::ReusableStatement lent;
    first = &lent.get();
    lent.get().sql = "SELECT ?";
    lent.get().params.emplace_back("secret");
  }
  detail::ReusableStatement again;
  EXPECT_EQ(&again.get(), first);  // the same buffers
  EXPECT_TRUE(again.get().params.empty());
}

TEST(ReusableStatement, NestedUseGetsAStatementOfItsOwn) {
  detail::ReusableStatement outer;
  outer.get().sql = "outer";
  outer.get().params.emplace_back(1);
  {
    detail::ReusableStatement inner;
    EXPECT_NE(&inner.get(), &outer.get());
    inner.get().sql = "inner";
    inner.get().params.emplace_back(2);
  }
  EXPECT_EQ(outer.get().sql, "outer");
  ASSERT_EQ(outer.get().params.size(), 1u);
  EXPECT_EQ(outer.get().params[0], Value(1));
}

TEST(ReusableStatement, NoValuesCarryOverBetweenStatements) {
  auto connection = connect({.uri = "sqlite::memory:"});
  EXPECT_EQ(connection->execute("SELECT ? + ?", 2, 3).scalar<std::int64_t>(), 5);
  // With a value left over, SQLite would reject binding it to a statement without parameters.
  EXPECT_EQ(connection->execute("SELECT 7").scalar<std::int64_t>(), 7);
  EXPECT_EQ(connection->execute("SELECT ?", "x").scalar<std::string>(), "x");
  EXPECT_THROW(connection->execute("SELEC ?", 1), SqlError);
  EXPECT_EQ(connection->execute("SELECT ? * 2", 21).scalar<std::int64_t>(), 42);
}

// An observer that runs its own statement (on another connection) while the outer one is
// still being executed on the same thread.
class Nested : public StatementObserver {
 public:
  void on_statement(const StatementEvent&) noexcept override {
    if (busy) return;
    busy = true;
    try {
      last = other->execute("SELECT ? || '!'", "inner").scalar<std::string>();
    } catch (...) {
      last = "failed";
    }
    busy = false;
  }
  std::unique_ptr<Connection> other = connect({.uri = "sqlite::memory:"});
  std::string last;
  bool busy = false;
};

TEST(ReusableStatement, AnObserverRunningAStatementLeavesTheOuterOneIntact) {
  auto observer = std::make_shared<Nested>();
  auto connection = connect({.uri = "sqlite::memory:", .observer = observer});
  EXPECT_EQ(connection->execute("SELECT ? || ?", "out", "er").scalar<std::string>(), "outer");
  EXPECT_EQ(observer->last, "inner!");
  EXPECT_EQ(connection->execute("SELECT ?", 9).scalar<std::int64_t>(), 9);
}

}  // namespace
}  // namespace nexdb
