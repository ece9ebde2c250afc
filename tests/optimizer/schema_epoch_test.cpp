// Which statements make cached prepared statements re-prepare (driver/schema_epoch.hpp).
#include <gtest/gtest.h>

#include "driver/schema_epoch.hpp"

namespace nexdb::detail {
namespace {

TEST(SchemaEpoch, DdlThatCanChangeResultTypesCounts) {
  for (const char* sql :
       {"ALTER TABLE t ADD COLUMN c int", "alter table t alter column c type bigint",
        "DROP TABLE t", "CREATE TABLE t (a int)", "CREATE OR REPLACE VIEW v AS SELECT 1",
        "BEGIN; ALTER TABLE t DROP COLUMN c; COMMIT", "  -- comment\n  DROP VIEW v"}) {
    EXPECT_TRUE(may_change_result_types(sql)) << sql;
    EXPECT_TRUE(classify_schema_change(sql).plans) << sql;
  }
}

TEST(SchemaEpoch, IndexesAndStatisticsChangePlansOnly) {
  for (const char* sql : {"CREATE INDEX i ON t (a)", "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)",
                          "DROP INDEX IF EXISTS i", "CREATE TEMP TABLE x (a int)", "ANALYZE orders",
                          "REINDEX TABLE t"}) {
    EXPECT_TRUE(classify_schema_change(sql).plans) << sql;
    EXPECT_FALSE(classify_schema_change(sql).result_types) << sql;
  }
}

TEST(SchemaEpoch, EverythingElseChangesNothing) {
  for (const char* sql :
       {"SELECT 1", "BEGIN ISOLATION LEVEL READ COMMITTED", "COMMIT", "INSERT INTO t VALUES (1)",
        "SET search_path = a", "SAVEPOINT s; RELEASE SAVEPOINT s", "EXPLAIN SELECT 1", ""}) {
    EXPECT_FALSE(classify_schema_change(sql).plans) << sql;
    EXPECT_FALSE(classify_schema_change(sql).result_types) << sql;
  }
}

TEST(SchemaEpoch, BumpsAreVisible) {
  const auto types = schema_epoch();
  const auto plans = plan_epoch();
  note(classify_schema_change("CREATE INDEX i ON t (a)"));
  EXPECT_EQ(schema_epoch(), types);
  EXPECT_EQ(plan_epoch(), plans + 1);
  note(classify_schema_change("ALTER TABLE t ADD COLUMN b int"));
  EXPECT_EQ(schema_epoch(), types + 1);
  EXPECT_EQ(plan_epoch(), plans + 2);
}

}  // namespace
}  // namespace nexdb::detail
