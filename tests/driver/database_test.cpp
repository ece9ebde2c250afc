// Database: the one entry point (URI or nexdb.toml) over a pool.
#include <gtest/gtest.h>

#include <fstream>

#include "nexdb/database.hpp"
#include "nexdb/error.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Database, TransactionCommitsOnReturnAndRollsBackOnThrow) {
  TempDir dir;
  auto db = Database::open("sqlite:" + dir.path() + "/app.db");
  EXPECT_EQ(db.dialect(), Dialect::sqlite);
  db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  const auto inserted = db.transaction([](Transaction& tx) { return tx.execute("INSERT INTO t VALUES (1)").affected_rows(); });
  EXPECT_EQ(inserted, 1);
  EXPECT_THROW(db.transaction([](Transaction& tx) {
    tx.execute("INSERT INTO t VALUES (2)");
    throw std::runtime_error("business rule failed");
  }),
               std::runtime_error);
  EXPECT_EQ(db.execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 1);
  EXPECT_THROW(db.read_transaction([](ReadOnlyTransaction& tx) { tx.execute("INSERT INTO t VALUES (3)"); }), SqlError);
  EXPECT_EQ(db.read_transaction([](ReadOnlyTransaction& tx) {
    return tx.execute("SELECT count(*) FROM t").scalar<std::int64_t>();
  }),
            1);
}

TEST(Database, InMemoryDatabaseIsOneDatabaseAcrossStatements) {
  auto db = Database::open("sqlite::memory:");
  db.execute("CREATE TABLE t (x INTEGER)");
  db.execute("INSERT INTO t VALUES (?)", 5);
  EXPECT_EQ(db.execute("SELECT x FROM t").scalar<std::int64_t>(), 5);
  EXPECT_EQ(db.pool().settings().max_size, 1u);
}

TEST(Database, ReadsSettingsFromToml) {
  TempDir dir;
  const std::string path = write_file(dir, "nexdb.toml",
                                      "[database]\nuri = \"sqlite:" + dir.path() +
                                          "/from-toml.db\"\nbusy_timeout_ms = 250\n\n[pool]\nmax_size = 3\n"
                                          "acquire_timeout_ms = 1500\n");
  const DatabaseSettings settings = load_database_settings(path);
  EXPECT_EQ(settings.connection.busy_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(settings.pool.max_size, 3u);
  EXPECT_EQ(settings.pool.acquire_timeout, std::chrono::milliseconds(1500));
  auto db = Database::open(path);
  db.execute("CREATE TABLE t (x INTEGER)");
  EXPECT_EQ(db.pool().settings().max_size, 3u);
}

TEST(Database, BadConfigNamesFileLineAndKey) {
  TempDir dir;
  const std::string unknown = write_file(dir, "a.toml", "[database]\nuri = \"sqlite::memory:\"\n\n[pool]\nmax_szie = 3\n");
  try {
    (void)load_database_settings(unknown);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("a.toml:5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pool.max_szie"), std::string::npos) << e.what();
  }
  const std::string wrong_type = write_file(dir, "b.toml", "[pool]\nmax_size = \"ten\"\n");
  EXPECT_THROW((void)load_database_settings(wrong_type), ConfigError);
  const std::string bad_scheme = write_file(dir, "c.toml", "[database]\nuri = \"mysql://x\"\n");
  EXPECT_THROW((void)load_database_settings(bad_scheme), ConfigError);
  const std::string broken = write_file(dir, "d.toml", "[database\nuri = 1\n");
  EXPECT_THROW((void)load_database_settings(broken), ConfigError);
  EXPECT_THROW((void)load_database_settings(dir.path() + "/missing.toml"), ConfigError);
  EXPECT_THROW((void)Database::open("oracle://scott:tiger@db"), ConfigError);
}

TEST(Database, DeadHostFailsOnFirstUseNotOnOpen) {
  auto db = Database::open(DatabaseSettings{
      .connection = {.uri = "postgresql://nexdb@127.0.0.1:" + std::to_string(closed_port()) + "/nexdb"},
      .pool = {.min_idle = 0, .acquire_timeout = std::chrono::milliseconds(2000)}});
  EXPECT_EQ(db.dialect(), Dialect::postgres);
  EXPECT_THROW(db.execute("SELECT 1"), ConnectionError);
}

}  // namespace
}  // namespace nexdb::test
