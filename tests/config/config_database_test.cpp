// Database::open from a configuration, on SQLite files.
#include <gtest/gtest.h>

#include <filesystem>

#include "config_test_support.hpp"
#include "nexdb/database.hpp"

namespace nexdb::test {
namespace {

// min_idle = 0: the housekeeper opening a connection while the test's first statement creates
// the file races in the SQLite driver (WAL switch, "database is locked"; reported separately).
std::string two_sqlite_clusters(const TempDir& dir) {
  return "[pool]\nmax_size = 3\nmin_idle = 0\n\n"
         "[clusters.orders]\nprimary = \"sqlite:" +
         dir.path() +
         "/orders.db\"\n"
         "[clusters.orders.pool]\nmax_size = 2\n\n"
         "[clusters.audit]\nprimary = \"sqlite:" +
         dir.path() + "/audit.db\"\n";
}

TEST(ConfigDatabase, OpeningAFileUsesItsFirstClusterWithoutADefault) {
  TempDir dir;
  const std::string path = write_file(dir, "app.toml", two_sqlite_clusters(dir));
  auto db = Database::open(path);
  EXPECT_EQ(db.dialect(), Dialect::sqlite);
  EXPECT_EQ(db.description(), "sqlite:" + dir.path() + "/orders.db");
  EXPECT_EQ(db.pool().settings().max_size, 2u);
  EXPECT_EQ(db.pool().settings().name, "orders");
  db.execute("CREATE TABLE t (x INTEGER)");
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/orders.db"));
  EXPECT_EQ(load_database_settings(path).connection.uri, "sqlite:" + dir.path() + "/orders.db");
}

TEST(ConfigDatabase, OpeningAFileUsesTheClusterNamedDefault) {
  TempDir dir;
  const std::string path =
      write_file(dir, "app.toml",
                 two_sqlite_clusters(dir) + "[clusters.default]\nprimary = \"sqlite:" + dir.path() +
                     "/default.db\"\n");
  EXPECT_EQ(Database::open(path).description(), "sqlite:" + dir.path() + "/default.db");
}

TEST(ConfigDatabase, OpenANamedCluster) {
  TempDir dir;
  const Config config = Config::parse(two_sqlite_clusters(dir));
  auto audit = Database::open(config, "audit");
  EXPECT_EQ(audit.description(), "sqlite:" + dir.path() + "/audit.db");
  EXPECT_EQ(audit.pool().settings().max_size, 3u);  // [pool], inherited
  audit.execute("CREATE TABLE a (x INTEGER)");
  audit.execute("INSERT INTO a VALUES (?)", 7);
  EXPECT_EQ(audit.execute("SELECT x FROM a").scalar<std::int64_t>(), 7);
  EXPECT_CONTAINS(config_error([&] { return Database::open(config, "billing"); }),
                  "no cluster 'billing' in the configuration (clusters: orders, audit)");
}

TEST(ConfigDatabase, TheEnvironmentAppliesToOpeningAFile) {
  TempDir dir;
  const std::string path = write_file(dir, "app.toml", two_sqlite_clusters(dir));
  ScopedEnv v("NEXDB_CLUSTERS_ORDERS_POOL_MAX_SIZE", "5");
  EXPECT_EQ(Database::open(path).pool().settings().max_size, 5u);
}

TEST(ConfigDatabase, WithNoFileTheEmbeddedDatabaseLivesUnderNexdbData) {
  TempDir dir;
  ScopedCwd cwd(dir.path());
  ScopedEnv no_config("NEXDB_CONFIG", std::nullopt);
  ScopedEnv min_idle("NEXDB_POOL_MIN_IDLE", "0");
  auto db = Database::open(Config::load_default());
  db.execute("CREATE TABLE t (x INTEGER)");
  db.close();
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/nexdb-data/nexdb.db"));
}

}  // namespace
}  // namespace nexdb::test
