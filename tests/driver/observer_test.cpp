// The StatementObserver hook sees every statement with its duration, row count and SQLSTATE.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"

namespace nexdb {
namespace {

struct Seen {
  std::string sql;
  std::string sqlstate;
  std::size_t rows;
  std::chrono::nanoseconds duration;
};

class Recorder : public StatementObserver {
 public:
  void on_statement(const StatementEvent& event) noexcept override {
    std::lock_guard lock(mutex);
    seen.push_back({std::string(event.sql), std::string(event.sqlstate), event.rows, event.duration});
  }
  std::mutex mutex;
  std::vector<Seen> seen;
};

class Silent : public StatementObserver {
 public:
  void on_statement(const StatementEvent&) noexcept override {}
};

TEST(StatementObserver, SeesStatementsRowsDurationsAndSqlstates) {
  auto recorder = std::make_shared<Recorder>();
  auto connection = connect({.uri = "sqlite::memory:", .observer = recorder});
  connection->execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  connection->execute("INSERT INTO t VALUES (?), (?)", 1, 2);
  EXPECT_EQ(connection->execute("SELECT id FROM t").size(), 2u);
  EXPECT_THROW(connection->execute("INSERT INTO t VALUES (?)", 1), UniqueViolation);
  ASSERT_EQ(recorder->seen.size(), 4u);
  EXPECT_EQ(recorder->seen[1].rows, 2u);  // affected
  EXPECT_EQ(recorder->seen[2].sql, "SELECT id FROM t");
  EXPECT_EQ(recorder->seen[2].rows, 2u);  // returned
  EXPECT_GT(recorder->seen[2].duration.count(), 0);
  EXPECT_EQ(recorder->seen[2].sqlstate, "");
  EXPECT_EQ(recorder->seen[3].sqlstate, "23505");
}

TEST(StatementObserver, NoObserverMeansTheDriverItself) {
  auto plain = connect("sqlite::memory:");
  auto observed = connect({.uri = "sqlite::memory:", .observer = std::make_shared<Silent>()});
  EXPECT_EQ(plain->description(), observed->description());
  EXPECT_EQ(observed->execute("SELECT 1 AS one").scalar<std::int64_t>(), 1);
}

}  // namespace
}  // namespace nexdb
