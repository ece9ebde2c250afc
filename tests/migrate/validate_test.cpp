// Checksums, verify, repair, missing files, out-of-order versions, baseline, dialect variants.
#include <gmock/gmock.h>

#include "migrate_fixture.hpp"

namespace nexdb::test {
namespace {

using ::testing::HasSubstr;

TEST_P(MigrateTest, EditedFileIsDetectedByVerifyAndRefusedByUp) {
  write("V1.0.0__create_a.sql", "CREATE TABLE a (id INTEGER);\n");
  manager().migrate();
  // Line endings and trailing blanks are not a change.
  write("V1.0.0__create_a.sql", "\r\nCREATE TABLE a (id INTEGER);   \r\n\r\n");
  EXPECT_NO_THROW(manager().verify());

  write("V1.0.0__create_a.sql", "CREATE TABLE a (id INTEGER, extra TEXT);\n");
  write("V1.1.0__create_b.sql", "CREATE TABLE b (id INTEGER);\n");
  try {
    manager().verify();
    FAIL() << "verify() should have thrown";
  } catch (const MigrationError& e) {
    EXPECT_THAT(
        e.what(),
        HasSubstr("1.0.0 (create a) was applied from V1.0.0__create_a.sql which has changed"));
    EXPECT_EQ(e.version(), "1.0.0");
  }
  try {
    manager().migrate();
    FAIL() << "migrate() should have refused";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nothing was run"));
  }
  EXPECT_FALSE(table_exists("b"));
  EXPECT_EQ(info(manager().status(), "1.0.0").state, MigrationState::checksum_mismatch);
}

TEST_P(MigrateTest, RepairRecordsNewChecksumsAndRemovesFailedRows) {
  write("V1__create_a.sql", "CREATE TABLE a (id INTEGER);");
  write("V2__broken.sql", "CREATE TABLE b (id INTEGER); SELECT * FROM nowhere;");
  EXPECT_THROW(manager().migrate(), MigrationError);
  write("V1__create_a.sql", "CREATE TABLE a (id BIGINT);");
  EXPECT_THROW(manager().verify(), MigrationError);

  const RepairReport report = manager().repair();
  EXPECT_EQ(report.checksums_updated, std::vector<std::string>{"1"});
  EXPECT_EQ(report.failed_rows_removed, 1);
  EXPECT_EQ(history_rows(false), 0);
  EXPECT_NO_THROW(manager().verify());
  const SchemaStatus status = manager().status();
  EXPECT_EQ(info(status, "1").state, MigrationState::applied);
  EXPECT_EQ(info(status, "2").state, MigrationState::pending);
  // Nothing left to repair.
  const RepairReport again = manager().repair();
  EXPECT_TRUE(again.checksums_updated.empty());
  EXPECT_EQ(again.failed_rows_removed, 0);
}

TEST_P(MigrateTest, DeletedFileIsMissingUnlessIgnored) {
  write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
  write("V2__b.sql", "CREATE TABLE b (id INTEGER);");
  manager().migrate();
  remove("V2__b.sql");
  write("V3__c.sql", "CREATE TABLE c (id INTEGER);");
  EXPECT_EQ(info(manager().status(), "2").state, MigrationState::missing);
  try {
    manager().migrate();
    FAIL() << "migrate() should have refused";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 (b) is applied but not defined here (V2__b.sql"));
  }
  EXPECT_FALSE(table_exists("c"));
  manager({.ignore_missing = true}).migrate();
  EXPECT_TRUE(table_exists("c"));
}

TEST_P(MigrateTest, OutOfOrderIsAnErrorUnlessAllowed) {
  write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
  write("V3__c.sql", "CREATE TABLE c (id INTEGER);");
  manager().migrate();
  write("V2__b.sql", "CREATE TABLE b (id INTEGER);");
  EXPECT_EQ(info(manager().status(), "2").state, MigrationState::out_of_order);
  try {
    manager().migrate();
    FAIL() << "migrate() should have refused";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 (b) is pending but lower than the current version 3"));
    EXPECT_EQ(e.version(), "2");
  }
  EXPECT_THROW(manager().verify(), MigrationError);
  EXPECT_FALSE(table_exists("b"));

  const RunReport report = manager({.allow_out_of_order = true}).migrate();
  ASSERT_EQ(report.steps.size(), 1u);
  EXPECT_TRUE(table_exists("b"));
  EXPECT_EQ(manager().current_version(), "3");
  EXPECT_NO_THROW(manager().verify());
}

TEST_P(MigrateTest, BaselineMarksAnExistingDatabase) {
  db->execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
  write("V1.0.0__create_users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);");
  write("V1.1.0__add_status.sql", "ALTER TABLE users ADD COLUMN status TEXT;");
  auto migrations = manager();
  migrations.baseline("1.0.0", "existing schema");
  EXPECT_EQ(migrations.current_version(), "1.0.0");
  const RunReport report = migrations.migrate();  // 1.0.0 would fail if it ran: users exists
  ASSERT_EQ(report.steps.size(), 1u);
  EXPECT_EQ(report.steps[0].version, "1.1.0");
  const SchemaStatus status = migrations.status();
  EXPECT_EQ(status.baseline_version, "1.0.0");
  EXPECT_EQ(status.current_version, "1.1.0");
  EXPECT_EQ(status.migrations[0].state, MigrationState::baseline);
  EXPECT_EQ(info(status, "1.1.0").state, MigrationState::applied);
  EXPECT_EQ(status.count(MigrationState::below_baseline), 1u);

  EXPECT_THROW(migrations.baseline("2.0.0"), MigrationError);  // already has applied migrations
  EXPECT_THROW(migrations.down(2), MigrationError);            // only 1.1.0 is above the baseline
  try {
    migrations.to("0");
    FAIL() << "to(0) should refuse to go below the baseline";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("below the baseline 1.0.0"));
  }
}

TEST_P(MigrateTest, DialectVariantWinsOverTheGenericFile) {
  write("V1__create_a.sql", "CREATE TABLE a (id INTEGER, generic INTEGER);");
  write(postgres() ? "V1__create_a.postgres.sql" : "V1__create_a.sqlite.sql",
        "CREATE TABLE a (id INTEGER, variant INTEGER);");
  write("V2__create_b.sqlite.sql", "CREATE TABLE b (id INTEGER, sqlite_only INTEGER);");
  write("V2__create_b.postgres.sql", "CREATE TABLE b (id INTEGER, postgres_only INTEGER);");
  const RunReport report = manager().migrate();
  ASSERT_EQ(report.steps.size(), 2u);
  EXPECT_EQ(report.steps[0].script,
            postgres() ? "V1__create_a.postgres.sql" : "V1__create_a.sqlite.sql");
  EXPECT_EQ(count("SELECT count(variant) FROM a"), 0);  // the column exists
  EXPECT_EQ(
      count(postgres() ? "SELECT count(postgres_only) FROM b" : "SELECT count(sqlite_only) FROM b"),
      0);
}

TEST_P(MigrateTest, AMigrationWithoutAScriptForThisDialectIsRefused) {
  write("V1__only_elsewhere.sql.placeholder", "");  // ignored: not a .sql file
  write(postgres() ? "V1__only_elsewhere.sqlite.sql" : "V1__only_elsewhere.postgres.sql",
        "CREATE TABLE a (id INTEGER);");
  try {
    manager().migrate();
    FAIL() << "migrate() should have refused";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("has no script for " + std::string(postgres() ? "postgres" : "sqlite")));
  }
}

TEST_P(MigrateTest, UpToATargetVersionStopsThere) {
  write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
  write("V2__b.sql", "CREATE TABLE b (id INTEGER);");
  write("V3__c.sql", "CREATE TABLE c (id INTEGER);");
  auto migrations = manager();
  EXPECT_EQ(migrations.up("2").version_after, "2");
  EXPECT_TRUE(table_exists("b"));
  EXPECT_FALSE(table_exists("c"));
  EXPECT_THROW(migrations.up("9"), UsageError);
  EXPECT_EQ(migrations.migrate().version_after, "3");
}

}  // namespace
}  // namespace nexdb::test
