// Undo (down / to) and dry runs.
#include <gmock/gmock.h>

#include "migrate_fixture.hpp"

namespace nexdb::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class UndoTest : public MigrateTest {
 protected:
  void write_three(bool undo_for_2 = true) {
    for (std::string v : {"1", "2", "3"}) {
      const std::string table = "t" + v;
      write("V" + v + "__create_" + table + ".sql", "CREATE TABLE " + table + " (id INTEGER);");
      if (v != "2" || undo_for_2)
        write("U" + v + "__create_" + table + ".sql", "DROP TABLE " + table + ";");
    }
  }
  std::vector<std::string> versions_of(const RunReport& report) {
    std::vector<std::string> out;
    for (const auto& step : report.steps) out.push_back(step.version);
    return out;
  }
};

TEST_P(UndoTest, DownUndoesTheHighestAppliedMigrationsNewestFirst) {
  write_three();
  auto migrations = manager();
  migrations.migrate();
  const RunReport one = migrations.down();
  EXPECT_THAT(versions_of(one), ElementsAre("3"));
  EXPECT_EQ(one.steps[0].direction, Direction::down);
  EXPECT_EQ(one.version_after, "2");
  EXPECT_FALSE(table_exists("t3"));
  EXPECT_TRUE(table_exists("t2"));
  EXPECT_EQ(info(migrations.status(), "3").state, MigrationState::undone);

  EXPECT_THAT(versions_of(migrations.down(2)), ElementsAre("2", "1"));
  EXPECT_EQ(migrations.current_version(), std::nullopt);
  EXPECT_FALSE(table_exists("t1"));
  EXPECT_THROW(migrations.down(), MigrationError);  // nothing left to undo

  // Undone migrations apply again.
  EXPECT_THAT(versions_of(migrations.migrate()), ElementsAre("1", "2", "3"));
  EXPECT_TRUE(table_exists("t3"));
  EXPECT_EQ(count("SELECT count(*) FROM nexdb_schema_history WHERE kind = 'undo'"), 3);
}

TEST_P(UndoTest, ToMovesDownAndUp) {
  write_three();
  auto migrations = manager();
  EXPECT_THAT(versions_of(migrations.to("2")), ElementsAre("1", "2"));
  EXPECT_THAT(versions_of(migrations.to("3")), ElementsAre("3"));
  EXPECT_THAT(versions_of(migrations.to("1")), ElementsAre("3", "2"));
  EXPECT_EQ(migrations.current_version(), "1");
  EXPECT_TRUE(table_exists("t1"));
  EXPECT_FALSE(table_exists("t2"));
  EXPECT_TRUE(migrations.to("1").steps.empty());
  EXPECT_THAT(versions_of(migrations.to("0")), ElementsAre("1"));
  EXPECT_EQ(migrations.current_version(), std::nullopt);
  EXPECT_THROW(migrations.to("7"), UsageError);
}

TEST_P(UndoTest, AMissingUndoIsAnErrorBeforeAnythingRuns) {
  write_three(/*undo_for_2=*/false);
  auto migrations = manager();
  migrations.migrate();
  try {
    migrations.to("0");
    FAIL() << "to(0) should have refused";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 (create t2) has no undo: add U2__create_t2.sql"));
    EXPECT_THAT(e.what(), HasSubstr("nothing was run"));
  }
  // Not even 3, whose undo exists and comes first, was undone.
  EXPECT_TRUE(table_exists("t3"));
  EXPECT_EQ(migrations.current_version(), "3");
  EXPECT_NO_THROW(migrations.down(1));
  EXPECT_THROW(migrations.down(1), MigrationError);
  EXPECT_TRUE(table_exists("t2"));
}

TEST_P(UndoTest, AFailingUndoRollsBackAndLeavesTheMigrationApplied) {
  write("V1__create_t1.sql", "CREATE TABLE t1 (id INTEGER);");
  write("U1__create_t1.sql", "DROP TABLE t1; DROP TABLE not_there;");
  auto migrations = manager();
  migrations.migrate();
  try {
    migrations.down();
    FAIL() << "down() should have failed";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("undo of migration 1 (create t1) failed"));
    EXPECT_EQ(e.version(), "1");
  }
  EXPECT_TRUE(table_exists("t1"));
  EXPECT_EQ(history_rows(false), 1);
  const SchemaStatus status = migrations.status();
  EXPECT_EQ(status.current_version, "1");
  EXPECT_EQ(info(status, "1").state, MigrationState::applied);
  EXPECT_TRUE(migrations.migrate().steps.empty());  // a failed undo is not a pending migration
}

TEST_P(UndoTest, DryRunPlansWithSqlAndChangesNothing) {
  write_three();
  auto migrations = manager();
  const RunReport plan = migrations.migrate({.dry_run = true});
  EXPECT_TRUE(plan.dry_run);
  EXPECT_EQ(plan.version_after, "3");
  ASSERT_THAT(versions_of(plan), ElementsAre("1", "2", "3"));
  EXPECT_EQ(plan.steps[1].sql, "CREATE TABLE t2 (id INTEGER);");
  const std::string script = plan.script();
  EXPECT_THAT(script,
              HasSubstr("-- 1 create t1 (V1__create_t1.sql)\nCREATE TABLE t1 (id INTEGER);\n"));
  EXPECT_LT(script.find("t1"), script.find("t3"));
  EXPECT_FALSE(table_exists("t1"));
  EXPECT_FALSE(table_exists("nexdb_schema_history"));  // not even the history table

  migrations.up("2");
  const RunReport undo_plan = migrations.to("0", {.dry_run = true});
  EXPECT_THAT(versions_of(undo_plan), ElementsAre("2", "1"));
  EXPECT_THAT(undo_plan.script(),
              HasSubstr("-- undo 2 create t2 (U2__create_t2.sql)\nDROP TABLE t2;"));
  EXPECT_EQ(undo_plan.version_after, std::nullopt);
  EXPECT_TRUE(table_exists("t2"));
  EXPECT_EQ(migrations.current_version(), "2");
  EXPECT_EQ(history_rows(true), 2);
}

INSTANTIATE_TEST_SUITE_P(Backend, UndoTest, ::testing::Values(NEXDB_TEST_DIALECT), backend_name);

}  // namespace
}  // namespace nexdb::test
