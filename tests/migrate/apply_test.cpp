// Applying migrations: order, failure and retry, the history table, progress, C++ migrations.
#include <gmock/gmock.h>

#include <chrono>
#include <stdexcept>

#include "migrate_fixture.hpp"

namespace nexdb::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string log_insert(const std::string& version) {
  return "INSERT INTO log (n, v) SELECT count(*) + 1, '" + version + "' FROM log;";
}

std::vector<std::string> logged(Database& db) {
  std::vector<std::string> out;
  const Rows rows = db.execute("SELECT v FROM log ORDER BY n");
  for (Row row : rows) out.push_back(row.get<std::string>(0));
  return out;
}

TEST_P(MigrateTest, AppliesInSemanticVersionOrderNotStringOrder) {
  write("V1__create_log.sql", "CREATE TABLE log (n INTEGER NOT NULL, v TEXT NOT NULL);");
  for (std::string v : {"1.10.0", "1.9.0", "1.2", "2.0.0.1", "1.9.1"}) {
    write("V" + v + "__step_" + std::to_string(v.size()) + ".sql", log_insert(v));
  }
  auto migrations = manager();
  EXPECT_THAT(migrations.versions(),
              ElementsAre("1", "1.2", "1.9.0", "1.9.1", "1.10.0", "2.0.0.1"));
  const RunReport report = migrations.migrate();
  EXPECT_EQ(report.version_before, std::nullopt);
  EXPECT_EQ(report.version_after, "2.0.0.1");
  ASSERT_EQ(report.steps.size(), 6u);
  EXPECT_THAT(logged(*db), ElementsAre("1.2", "1.9.0", "1.9.1", "1.10.0", "2.0.0.1"));
  EXPECT_EQ(migrations.current_version(), "2.0.0.1");
  // Nothing left to do: a second run applies nothing and changes no row.
  EXPECT_TRUE(migrations.migrate().steps.empty());
  EXPECT_EQ(rows_of("log"), 5);
  EXPECT_EQ(history_rows(true), 6);
}

TEST_P(MigrateTest, RecordsEachMigrationInTheHistoryTable) {
  write("V1.0.0__create_a.sql", "CREATE TABLE a (id INTEGER);");
  const auto before = std::chrono::system_clock::now() - std::chrono::minutes(1);
  manager().migrate();
  Lease lease = db->connection();
  const auto entries = SchemaVersion(*lease).entries();
  ASSERT_EQ(entries.size(), 1u);
  const HistoryEntry& e = entries[0];
  EXPECT_EQ(e.version, "1.0.0");
  EXPECT_EQ(e.description, "create a");
  EXPECT_EQ(e.kind, MigrationKind::sql);
  EXPECT_EQ(e.script, "V1.0.0__create_a.sql");
  ASSERT_TRUE(e.checksum.has_value());
  EXPECT_EQ(e.checksum->size(), 16u);
  EXPECT_THAT(e.applied_by, HasSubstr("@"));
  EXPECT_GE(e.duration_ms, 0);
  EXPECT_TRUE(e.success);
  EXPECT_GT(e.applied_at, before);
  EXPECT_LT(e.applied_at, std::chrono::system_clock::now() + std::chrono::minutes(1));
}

TEST_P(MigrateTest, FailureRollsBackRecordsAndStopsThenRetriesOnceFixed) {
  write("V1__create_t.sql", "CREATE TABLE t (id INTEGER);");
  write("V2__half_done.sql",
        "CREATE TABLE partial (id INTEGER);\nINSERT INTO t VALUES (1);\nSELECT * FROM "
        "no_such_table;");
  write("V3__after.sql", "CREATE TABLE after_failure (id INTEGER);");
  auto migrations = manager();
  std::vector<std::string> failed_events;
  RunOptions options{.progress = [&](const MigrationEvent& e) {
    if (e.phase == MigrationEvent::Phase::failed) failed_events.emplace_back(e.version);
  }};
  try {
    migrations.migrate(options);
    FAIL() << "migrate() should have thrown";
  } catch (const MigrationError& e) {
    EXPECT_EQ(e.version(), "2");
    EXPECT_EQ(e.description(), "half done");
    EXPECT_EQ(e.sqlstate(), "42P01");
    EXPECT_THAT(e.what(), HasSubstr("migration 2 (half done) failed"));
    EXPECT_THAT(e.what(), HasSubstr("no_such_table"));
  }
  EXPECT_THAT(failed_events, ElementsAre("2"));
  // The failing migration's DDL and data are gone, the one after it never ran.
  EXPECT_FALSE(table_exists("partial"));
  EXPECT_EQ(rows_of("t"), 0);
  EXPECT_FALSE(table_exists("after_failure"));
  EXPECT_EQ(history_rows(false), 1);
  const SchemaStatus status = migrations.status();
  EXPECT_EQ(status.current_version, "1");
  EXPECT_EQ(info(status, "2").state, MigrationState::failed);
  EXPECT_EQ(info(status, "3").state, MigrationState::pending);

  write("V2__half_done.sql", "CREATE TABLE partial (id INTEGER);\nINSERT INTO t VALUES (1);");
  const RunReport retry = manager().migrate();
  ASSERT_EQ(retry.steps.size(), 2u);
  EXPECT_EQ(retry.steps[0].version, "2");
  EXPECT_TRUE(table_exists("partial"));
  EXPECT_TRUE(table_exists("after_failure"));
  EXPECT_EQ(rows_of("t"), 1);
  const SchemaStatus after = manager().status();
  EXPECT_EQ(after.current_version, "3");
  EXPECT_EQ(info(after, "2").state, MigrationState::applied);  // the fixed file's checksum
}

TEST_P(MigrateTest, ProgressReportsEveryMigrationStartedAndFinished) {
  write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
  write("V2__b.sql", "CREATE TABLE b (id INTEGER);");
  std::vector<std::string> events;
  manager().migrate({.progress = [&](const MigrationEvent& e) {
    events.push_back(std::string(e.phase == MigrationEvent::Phase::started ? "start " : "done ") +
                     std::string(e.version) + " " + std::to_string(e.index) + "/" +
                     std::to_string(e.total));
  }});
  EXPECT_THAT(events, ElementsAre("start 1 1/2", "done 1 1/2", "start 2 2/2", "done 2 2/2"));
}

TEST_P(MigrateTest, CppMigrationsRunInTheirTransactionAlongsideFiles) {
  write("V1__create_a.sql", "CREATE TABLE a (id INTEGER);");
  auto migrations = manager();
  migrations.version(
      "1.5", "fill a", [](Transaction& tx) { tx.execute("INSERT INTO a VALUES (15)"); },
      [](Transaction& tx) { tx.execute("DELETE FROM a WHERE id = 15"); }, "rev-1");
  migrations.version("2", "explodes", [](Transaction& tx) {
    tx.execute("INSERT INTO a VALUES (2)");
    throw std::runtime_error("boom from C++");
  });
  try {
    migrations.migrate();
    FAIL() << "migration 2 should have failed";
  } catch (const MigrationError& e) {
    EXPECT_EQ(e.version(), "2");
    EXPECT_THAT(e.what(), HasSubstr("boom from C++"));
  }
  EXPECT_EQ(count("SELECT count(*) FROM a WHERE id = 15"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM a WHERE id = 2"), 0);  // rolled back
  const SchemaStatus status = migrations.status();
  EXPECT_EQ(info(status, "1.5").kind, MigrationKind::cpp);
  EXPECT_EQ(info(status, "1.5").state, MigrationState::applied);
  EXPECT_EQ(info(status, "2").state, MigrationState::failed);

  migrations.down(1);  // 2 never applied: the highest applied is 1.5
  EXPECT_EQ(count("SELECT count(*) FROM a WHERE id = 15"), 0);
  EXPECT_EQ(migrations.current_version(), "1");
  EXPECT_THROW(migrations.version("1.5.0", "again", [](Transaction&) {}), ConfigError);
}

TEST_P(MigrateTest, ChangedCppFingerprintIsAChecksumMismatch) {
  MigrationManager first(*db);
  first.version(
      "1", "one", [](Transaction& tx) { tx.execute("CREATE TABLE one (id INTEGER)"); }, {}, "v1");
  first.migrate();
  MigrationManager second(*db);
  second.version(
      "1", "one", [](Transaction&) {}, {}, "v2");
  EXPECT_EQ(info(second.status(), "1").state, MigrationState::checksum_mismatch);
  EXPECT_THROW(second.verify(), MigrationError);
  MigrationManager same(*db);
  same.version(
      "1", "one", [](Transaction&) {}, {}, "v1");
  EXPECT_NO_THROW(same.verify());
}

TEST_P(MigrateTest, StatusOfAFreshDatabaseCreatesNothing) {
  write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
  const SchemaStatus status = manager().status();
  EXPECT_FALSE(status.history_exists);
  EXPECT_EQ(status.current_version, std::nullopt);
  EXPECT_EQ(status.count(MigrationState::pending), 1u);
  EXPECT_FALSE(table_exists("nexdb_schema_history"));
}

TEST_P(MigrateTest, HistoryTableNameIsASetting) {
  write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
  manager({.history_table = "my_history"}).migrate();
  EXPECT_TRUE(table_exists("my_history"));
  EXPECT_FALSE(table_exists("nexdb_schema_history"));
  EXPECT_EQ(manager({.history_table = "my_history"}).current_version(), "1");
}

TEST_P(MigrateTest, AManagerWithoutADatabaseSaysSo) {
  MigrationManager migrations;
  EXPECT_THROW(migrations.migrate(), UsageError);
}

}  // namespace
}  // namespace nexdb::test
