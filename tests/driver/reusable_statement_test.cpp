// execute() with SQL text, a builder query or a prepared query borrows the thread's reusable
// Statement: nothing of one call (values, text) may leak into the next, and a nested call must
// not disturb it. A builder made outside a call starts from that Statement's buffers.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"
#include "nexdb/query.hpp"

namespace nexdb {
namespace {

struct Items : Table<Items> {
  static constexpr std::string_view table_name = "items";
  Column<std::int64_t> id{this, "id"};
  Column<std::string> name{this, "name"};
};
const Items Item;

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

std::unique_ptr<Connection> items_database() {
  auto connection = connect({.uri = "sqlite::memory:"});
  connection->execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
  connection->execute("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  return connection;
}

// The per-call builder's text buffer goes round: taken from the thread's Statement when the
// builder is made, rendered in place, run in that Statement and kept there for the next one.
TEST(ReusableStatement, ABuilderRunPerCallReusesTheThreadsBuffers) {
  auto connection = items_database();
  const auto name_of = [&](std::int64_t id) {
    return connection->execute(select(Item.name).from(Item).where(Item.id == id))
        .scalar<std::string>();
  };
  EXPECT_EQ(name_of(1), "a");
  const char* buffer = nullptr;
  {
    detail::ReusableStatement kept;
    buffer = kept.get().sql.data();
    EXPECT_GE(kept.get().sql.capacity(), 256u);
    EXPECT_TRUE(kept.get().params.empty());  // the bound id did not outlive the call
  }
  EXPECT_EQ(name_of(2), "b");
  detail::ReusableStatement again;
  EXPECT_EQ(again.get().sql.data(), buffer);
}

TEST(ReusableStatement, BuildersTextAndValuesInTurnDoNotMix) {
  auto connection = items_database();
  EXPECT_EQ(
      connection->execute(select(Item.name).from(Item).where(Item.id == 3)).scalar<std::string>(),
      "c");
  EXPECT_EQ(connection->execute("SELECT 7").scalar<std::int64_t>(), 7);
  // A builder made but never run keeps the buffers; the next call grows new ones.
  auto unused = select(Item.id).from(Item).where(Item.name == "zzz");
  EXPECT_EQ(connection->execute("SELECT ? || ?", "x", "y").scalar<std::string>(), "xy");
  EXPECT_EQ(connection->execute(std::move(unused)).size(), 0u);
  EXPECT_EQ(connection->execute(select(Item.id).from(Item).where(Item.name == "b"))
                .scalar<std::int64_t>(),
            2);
  EXPECT_EQ(connection->execute("SELECT count(*) FROM items").scalar<std::int64_t>(), 3);
}

// A builder made during a call (by an observer, say) must not take the lent Statement's text.
TEST(ReusableStatement, ABuilderMadeDuringACallLeavesTheLentStatementAlone) {
  detail::ReusableStatement outer;
  outer.get().sql.assign(300, 'x');
  outer.get().params.emplace_back(1);
  Statement inner = select(Item.name).from(Item).where(Item.id == 5).render(Dialect::sqlite);
  EXPECT_EQ(outer.get().sql, std::string(300, 'x'));
  ASSERT_EQ(outer.get().params.size(), 1u);
  EXPECT_EQ(outer.get().params[0], Value(1));
  EXPECT_TRUE(inner.sql.starts_with("SELECT")) << inner.sql;
  ASSERT_EQ(inner.params.size(), 1u);
  EXPECT_EQ(inner.params[0], Value(5));
}

// thread_locals are destroyed in the reverse order of their construction: one made before the
// thread's first statement outlives the thread's reusable Statement. A query built and run from
// its destructor must then use a Statement of its own, not the destroyed one.
std::string name_at_thread_exit;
struct RunsAQueryAtThreadExit {
  Connection* connection = nullptr;
  ~RunsAQueryAtThreadExit() {
    if (connection == nullptr) return;
    name_at_thread_exit =
        connection->execute(select(Item.name).from(Item).where(Item.id == 2)).scalar<std::string>();
  }
};

TEST(ReusableStatement, AQueryRunAfterTheThreadsStatementIsGoneUsesItsOwn) {
  auto connection = items_database();
  std::thread([&] {
    thread_local RunsAQueryAtThreadExit at_exit;  // constructed first, so destroyed last
    at_exit.connection = connection.get();
    EXPECT_EQ(
        connection->execute(select(Item.name).from(Item).where(Item.id == 1)).scalar<std::string>(),
        "a");
  }).join();
  EXPECT_EQ(name_at_thread_exit, "b");
}

}  // namespace
}  // namespace nexdb
