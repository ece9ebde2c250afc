// One set of migrations rolled out to several databases (each shard's primary).
#include <gmock/gmock.h>

#include "migrate_fixture.hpp"

namespace nexdb::test {
namespace {

using ::testing::HasSubstr;

TEST_P(MigrateTest, RolloutStopsAtTheFailingTargetAndReportsEveryTarget) {
  write("V1.0.0__create_users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);");
  write("V1.1.0__add_status.sql", "ALTER TABLE users ADD COLUMN status TEXT;");
  Database second = Database::open(another_database());
  Database third = Database::open(another_database());
  second.execute("CREATE TABLE users (something_else TEXT)");  // conflicts with 1.0.0
  const std::vector<MigrationTarget> targets{{.name = "shard-1", .database = *db},
                                             {.name = "shard-2", .database = second},
                                             {.name = "shard-3", .database = third}};
  MigrationManager migrations;
  migrations.load(folder());
  std::vector<std::string> started;
  const RolloutReport report = migrations.migrate(
      targets, {.progress = [&](const MigrationEvent& e) {
        if (e.phase == MigrationEvent::Phase::started) {
          started.push_back(std::string(e.target) + ":" + std::string(e.version));
        }
      }});

  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.targets.size(), 3u);
  EXPECT_EQ(report.targets[0].result, TargetResult::done);
  EXPECT_EQ(report.targets[0].report.version_after, "1.1.0");
  EXPECT_EQ(report.targets[0].report.steps.size(), 2u);
  EXPECT_EQ(report.targets[1].result, TargetResult::failed);
  EXPECT_EQ(report.targets[1].failed_version, "1.0.0");
  EXPECT_EQ(report.targets[1].sqlstate, "42P07");
  EXPECT_THAT(report.targets[1].error, HasSubstr("migration 1.0.0 (create users) failed"));
  EXPECT_EQ(report.targets[2].result, TargetResult::not_attempted);
  ASSERT_NE(report.failed(), nullptr);
  EXPECT_EQ(report.failed()->name, "shard-2");
  EXPECT_EQ(started, (std::vector<std::string>{"shard-1:1.0.0", "shard-1:1.1.0", "shard-2:1.0.0"}));

  // One view of which target is at which version.
  const auto statuses = migrations.status(targets);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0].status->current_version, "1.1.0");
  EXPECT_EQ(statuses[1].status->current_version, std::nullopt);
  EXPECT_EQ(statuses[1].status->count(MigrationState::failed), 1u);
  EXPECT_FALSE(statuses[2].status->history_exists);

  // Fix shard-2, roll out again: shard-1 has nothing to do, the others catch up.
  second.execute("DROP TABLE users");
  const RolloutReport again = migrations.migrate(targets);
  EXPECT_TRUE(again.ok());
  EXPECT_TRUE(again.targets[0].report.steps.empty());
  EXPECT_EQ(again.targets[1].report.version_after, "1.1.0");
  EXPECT_EQ(again.targets[2].report.version_after, "1.1.0");
}

TEST_P(MigrateTest, RolloutToAVersionAndBack) {
  write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
  write("U1__a.sql", "DROP TABLE a;");
  write("V2__b.sql", "CREATE TABLE b (id INTEGER);");
  write("U2__b.sql", "DROP TABLE b;");
  Database second = Database::open(another_database());
  const std::vector<MigrationTarget> targets{{.name = "a", .database = *db},
                                             {.name = "b", .database = second}};
  MigrationManager migrations;
  migrations.load(folder());
  EXPECT_TRUE(migrations.migrate(targets, {}, "1").ok());
  EXPECT_FALSE(table_exists("b"));
  EXPECT_TRUE(migrations.migrate(targets).ok());
  const RolloutReport down = migrations.to(targets, "1");
  EXPECT_TRUE(down.ok());
  EXPECT_EQ(down.targets[1].report.version_after, "1");
  EXPECT_EQ(*migrations.status(targets)[1].status->current_version, "1");
}

}  // namespace
}  // namespace nexdb::test
