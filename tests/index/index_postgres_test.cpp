// PostgreSQL-only index health: unused indexes (usage statistics, replicas included) and invalid
// indexes left by a failed CREATE INDEX CONCURRENTLY, on purpose-built schemas.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

bool listed(const std::vector<IndexInfo>& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(), [&](const IndexInfo& i) { return i.name == name; });
}

/// Uses `index` on `db` and waits until the server's statistics show the scan.
void scan_with(Database& db, const std::string& schema, const std::string& sql,
               const std::string& index) {
  Lease lease = db.connection();
  lease->execute_script("SET enable_seqscan = off; SET enable_bitmapscan = off");
  (void)lease->execute(sql);
  (void)lease->execute("SELECT pg_stat_force_next_flush()");
  (void)lease->execute("SELECT 1");  // statistics are flushed when a statement ends
  lease->execute_script("RESET enable_seqscan; RESET enable_bitmapscan");
  for (int i = 0; i < 100; ++i) {
    const auto scans = db.execute(
                             "SELECT COALESCE(sum(idx_scan), 0)::int8 FROM pg_stat_all_indexes "
                             "WHERE schemaname = $1 AND indexrelname = $2",
                             schema, index)
                           .scalar<std::int64_t>();
    if (scans > 0) return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL() << "the scan of " << index << " never showed in pg_stat_all_indexes";
}

class PostgresIndexes : public ::testing::Test {
 protected:
  void SetUp() override {
    db.emplace(Database::open(schema_.uri()));
    db->execute(
        "CREATE TABLE events (id BIGINT PRIMARY KEY, kind TEXT, at TIMESTAMPTZ, code TEXT UNIQUE, "
        "n INT)");
    db->execute(
        "INSERT INTO events SELECT g, 'k' || (g % 5), now(), 'c' || g, g % 3 FROM "
        "generate_series(1, 1000) g");
  }
  void TearDown() override { db.reset(); }
  const std::string& schema() const { return schema_.name(); }
  std::optional<Database> db;

 private:
  PgSchema schema_;
};

TEST_F(PostgresIndexes, UnusedListsOnlyNeverScannedRemovableIndexes) {
  db->execute("CREATE INDEX events_kind_idx ON events (kind)");
  db->execute("CREATE INDEX events_at_idx ON events (at)");
  scan_with(*db, schema(), "SELECT id FROM events WHERE kind = 'k1'", "events_kind_idx");
  const auto unused = IndexManager(*db).unused();
  EXPECT_TRUE(listed(unused, "events_at_idx"));
  EXPECT_FALSE(listed(unused, "events_kind_idx"));  // scanned
  EXPECT_FALSE(listed(unused, "events_pkey"));      // primary key
  EXPECT_FALSE(listed(unused, "events_code_key"));  // backs a UNIQUE constraint
  for (const IndexInfo& i : unused) EXPECT_EQ(i.scans, 0);
}

TEST_F(PostgresIndexes, InvalidIndexFromAFailedConcurrentBuildIsFoundAndRebuilt) {
  // n has duplicates: a unique concurrent build fails and leaves an invalid index behind.
  try {
    Lease lease = db->connection();
    lease->execute_script("CREATE UNIQUE INDEX CONCURRENTLY events_n_idx ON events (n)");
    FAIL() << "the build should fail on duplicates";
  } catch (const UniqueViolation&) {
  }
  IndexManager indexes(*db);
  const auto invalid = indexes.invalid();
  ASSERT_EQ(invalid.size(), 1u);
  EXPECT_EQ(invalid[0].name, "events_n_idx");
  EXPECT_FALSE(invalid[0].valid);
  EXPECT_FALSE(listed(indexes.unused(), "events_n_idx"));  // reported as invalid, not as unused

  const auto change = indexes.create_index(
      {.table = "events", .columns = {"n"}, .concurrently = true, .name = "events_n_idx"});
  EXPECT_EQ(change[0].action, IndexAction::rebuilt);
  EXPECT_NE(change[0].sql.find("DROP INDEX CONCURRENTLY"), std::string::npos) << change[0].sql;
  EXPECT_TRUE(indexes.invalid().empty());
  EXPECT_TRUE(listed(indexes.list("events"), "events_n_idx"));
}

TEST_F(PostgresIndexes, ScansOnReplicasCount) {
  db->execute("CREATE INDEX events_kind_idx ON events (kind)");
  Database replica = Database::open(pg_replica_uri(1) + "?options=-csearch_path%3D" + schema());
  // Wait for the replica to replay the index, then read through it there only.
  for (int i = 0; i < 200; ++i) {
    if (replica
            .execute("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = "
                     "'events_kind_idx'",
                     schema())
            .scalar<std::int64_t>() == 1) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  scan_with(replica, schema(), "SELECT id FROM events WHERE kind = 'k2'", "events_kind_idx");
  EXPECT_TRUE(
      listed(IndexManager(*db).unused(), "events_kind_idx"));  // the primary alone never saw a scan
  IndexManager with_replica({{.name = "main", .database = *db, .replicas = {replica}}});
  EXPECT_FALSE(listed(with_replica.unused(), "events_kind_idx"));
}

TEST_F(PostgresIndexes, ConcurrentCreateAndDrop) {
  IndexManager indexes(*db);
  const auto created =
      indexes.create_index({.table = "events", .columns = {"at DESC"}, .concurrently = true});
  EXPECT_NE(created[0].sql.find("CREATE INDEX CONCURRENTLY"), std::string::npos);
  const auto list = indexes.list("events");
  auto it = std::find_if(list.begin(), list.end(),
                         [](const IndexInfo& i) { return i.name == "events_at_idx"; });
  ASSERT_NE(it, list.end());
  EXPECT_EQ(it->columns, std::vector<std::string>{"at DESC"});
  EXPECT_TRUE(it->valid);
  EXPECT_EQ(indexes.drop_index(schema() + ".events_at_idx", {.concurrently = true})[0].action,
            IndexAction::dropped);
}

}  // namespace
}  // namespace nexdb::test
