// SQLite specifics: files and memory, WAL, busy timeout, type affinity.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"
#include "nexdb/transaction.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono;

TEST(Sqlite, MemoryDatabasesArePrivatePerConnection) {
  auto a = connect("sqlite::memory:");
  auto b = connect("sqlite::memory:");
  a->execute_script("CREATE TABLE t (x INTEGER)");
  EXPECT_THROW(b->execute("SELECT * FROM t"), SqlError);
  EXPECT_EQ(a->description(), ":memory:");
  EXPECT_EQ(a->dialect(), Dialect::sqlite);
}

TEST(Sqlite, FilesUseWalAndCreateTheirDirectory) {
  TempDir dir;
  const std::string path = dir.path() + "/nested/app.db";
  auto conn = connect("sqlite:" + path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(conn->execute("PRAGMA journal_mode").scalar<std::string>(), "wal");
  EXPECT_EQ(conn->execute("PRAGMA foreign_keys").scalar<std::int64_t>(), 1);
  auto absolute = connect("sqlite://" + path);
  EXPECT_EQ(absolute->description(), path);
}

TEST(Sqlite, ALockedDatabaseTimesOutAfterBusyTimeout) {
  TempDir dir;
  const std::string uri = "sqlite:" + dir.path() + "/busy.db";
  auto writer = connect(uri);
  writer->execute_script("CREATE TABLE t (x INTEGER)");
  auto other = connect({.uri = uri, .busy_timeout = milliseconds(150)});
  Transaction hold(*writer);
  hold.execute("INSERT INTO t VALUES (1)");
  const auto start = steady_clock::now();
  try {
    other->execute("INSERT INTO t VALUES (2)");
    FAIL() << "expected TimeoutError";
  } catch (const TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("busy_timeout"), std::string::npos);
  }
  EXPECT_GE(steady_clock::now() - start, milliseconds(140));
  hold.commit();
  other->execute("INSERT INTO t VALUES (2)");
  EXPECT_EQ(other->execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 2);
}

TEST(Sqlite, WalReadersDoNotBlockOnAWriter) {
  TempDir dir;
  const std::string uri = "sqlite:" + dir.path() + "/wal.db";
  auto writer = connect(uri);
  writer->execute_script("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
  auto reader = connect(uri);
  Transaction hold(*writer);
  hold.execute("INSERT INTO t VALUES (2)");
  EXPECT_EQ(reader->execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 1);
}

TEST(Sqlite, ConnectionsOpeningANewFileTogetherBothGetWal) {
  TempDir dir;
  for (int round = 0; round < 40; ++round) {
    const std::string uri = "sqlite:" + dir.path() + "/race" + std::to_string(round) + ".db";
    std::unique_ptr<Connection> a, b;
    std::thread other([&] { b = connect(uri); });
    a = connect(uri);
    other.join();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->execute("PRAGMA journal_mode").scalar<std::string>(), "wal");
    EXPECT_EQ(b->execute("PRAGMA journal_mode").scalar<std::string>(), "wal");
  }
}

TEST(Sqlite, DeclaredBooleansAndTimestampsComeBackTyped) {
  auto conn = connect("sqlite::memory:");
  conn->execute_script(
      "CREATE TABLE t (flag BOOLEAN, at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, note TEXT);"
      "INSERT INTO t (flag, note) VALUES (1, '2024-01-01 00:00:00')");
  Rows rows = conn->execute("SELECT flag, at, note FROM t");
  Row row = rows.front();
  EXPECT_EQ(row["flag"].type(), ValueType::boolean);
  EXPECT_EQ(row["at"].type(), ValueType::timestamp);
  const auto age = system_clock::now() - row.get<Timestamp>("at");
  EXPECT_LT(age, minutes(5));
  EXPECT_EQ(row["note"].type(), ValueType::text);  // undeclared: stays text, still readable as time
  EXPECT_EQ(row.get<Timestamp>("note"), Timestamp(sys_days(2024y / January / 1)));
}

TEST(Sqlite, OneStatementPerExecute) {
  auto conn = connect("sqlite::memory:");
  EXPECT_THROW(conn->execute("SELECT 1; SELECT 2"), UsageError);
  EXPECT_THROW(conn->execute("SELECT ?", 1, 2), UsageError);
}

TEST(Sqlite, UnopenableFileIsAConnectionError) {
  EXPECT_THROW(connect("sqlite:/proc/definitely/not/here.db"), ConnectionError);
  EXPECT_THROW(connect("sqlite:"), ConfigError);
}

}  // namespace
}  // namespace nexdb::test
