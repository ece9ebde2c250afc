// Which statements implicit batching may pipeline on a shared connection.
#include <gtest/gtest.h>

#include "async/engine.hpp"

namespace nexdb::detail {
namespace {

TEST(LaneSafe, PlainDataStatementsMayShareAConnection) {
  EXPECT_TRUE(lane_safe("SELECT 1"));
  EXPECT_TRUE(lane_safe("  select * from t"));
  EXPECT_TRUE(lane_safe("WITH x AS (SELECT 1) SELECT * FROM x"));
  EXPECT_TRUE(lane_safe("INSERT INTO t VALUES ($1)"));
  EXPECT_TRUE(lane_safe("update t set a = 1"));
  EXPECT_TRUE(lane_safe("DELETE FROM t"));
  EXPECT_TRUE(lane_safe("(SELECT 1) UNION (SELECT 2)"));
  EXPECT_TRUE(lane_safe("-- comment\nSELECT 1"));
  EXPECT_TRUE(lane_safe("/* a */ /* b */ VALUES (1)"));
}

TEST(LaneSafe, StatementsThatLeaveStateBehindGetAConnectionOfTheirOwn) {
  EXPECT_FALSE(lane_safe("BEGIN"));
  EXPECT_FALSE(lane_safe("SET search_path = x"));
  EXPECT_FALSE(lane_safe("LISTEN channel"));
  EXPECT_FALSE(lane_safe("CREATE TEMP TABLE t (a int)"));
  EXPECT_FALSE(lane_safe("DECLARE c CURSOR FOR SELECT 1"));
  EXPECT_FALSE(lane_safe("COPY t FROM STDIN"));
  EXPECT_FALSE(lane_safe("PREPARE p AS SELECT 1"));
  EXPECT_FALSE(lane_safe("selection"));  // a longer word is not SELECT
  EXPECT_FALSE(lane_safe("select1"));
  EXPECT_FALSE(lane_safe(""));
  EXPECT_FALSE(lane_safe("/* unterminated SELECT"));
  EXPECT_FALSE(lane_safe("-- only a comment"));
}

}  // namespace
}  // namespace nexdb::detail
