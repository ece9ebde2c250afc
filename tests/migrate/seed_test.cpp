// The shipped example migrations (migrations/ at the top of the repository) on both backends.
#include <gmock/gmock.h>

#include "migrate_fixture.hpp"

namespace nexdb::test {
namespace {

using ::testing::ElementsAre;

TEST_P(MigrateTest, SeedMigrationsBuildUsersAndOrdersAndUndoCleanly) {
  MigrationManager migrations(*db);
  migrations.load(NEXDB_MIGRATIONS_DIR);
  EXPECT_THAT(migrations.versions(), ElementsAre("1.0.0", "1.0.1", "1.1.0"));
  EXPECT_EQ(migrations.migrate().version_after, "1.1.0");

  const std::string p1 = postgres() ? "$1" : "?";
  db->execute("INSERT INTO users (email) VALUES (" + p1 + ")", "ada@example.com");
  Rows user = db->execute("SELECT id, email, status, created_at FROM users");
  ASSERT_EQ(user.size(), 1u);
  EXPECT_EQ(user[0].get<std::optional<std::string>>("status"), "active");
  (void)user[0].get<Timestamp>("created_at");
  const auto user_id = user[0].get<std::int64_t>("id");
  db->execute("INSERT INTO orders (user_id, total) VALUES (" + p1 + ", 12.5)", user_id);
  Rows order = db->execute("SELECT id, user_id, status, total, created_at FROM orders");
  ASSERT_EQ(order.size(), 1u);
  EXPECT_EQ(order[0].get<std::string>("status"), "pending");
  EXPECT_DOUBLE_EQ(order[0].get<double>("total"), 12.5);
  (void)order[0].get<Timestamp>("created_at");
  EXPECT_THROW(
      db->execute("INSERT INTO orders (user_id, total) VALUES (" + p1 + ", 1)", user_id + 100),
      ForeignKeyViolation);
  EXPECT_THROW(db->execute("INSERT INTO users (email) VALUES (" + p1 + ")", "ada@example.com"),
               UniqueViolation);

  db->execute("DELETE FROM orders");
  migrations.down();  // 1.1.0: users.status goes
  EXPECT_THROW(db->execute("SELECT status FROM users"), SqlError);
  migrations.to("0");
  EXPECT_FALSE(table_exists("orders"));
  EXPECT_FALSE(table_exists("users"));
  EXPECT_EQ(migrations.migrate().steps.size(), 3u);
  EXPECT_NO_THROW(migrations.verify());
}

}  // namespace
}  // namespace nexdb::test
