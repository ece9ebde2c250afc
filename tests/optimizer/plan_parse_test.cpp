// Plans from both backends' EXPLAIN output, as trees and as text.
#include <gtest/gtest.h>

#include "optimizer/plans.hpp"

namespace nexdb::detail {
namespace {

constexpr const char* kPostgresPlan =
    R"json([{"Plan": {"Node Type": "Limit", "Startup Cost": 425.92, "Total Cost": 425.97,
  "Plan Rows": 20, "Plans": [{"Node Type": "Sort", "Startup Cost": 425.92, "Total Cost": 425.97, "Plan Rows": 20,
  "Sort Key": ["orders.created_at DESC"], "Plans": [{"Node Type": "Nested Loop", "Join Type": "Inner",
  "Startup Cost": 0.28, "Total Cost": 425.49, "Plan Rows": 20, "Plans": [
   {"Node Type": "Index Only Scan", "Relation Name": "users", "Schema": "public", "Index Name": "users_pkey",
    "Startup Cost": 0.28, "Total Cost": 8.29, "Plan Rows": 1, "Index Cond": "(users.id = '42'::bigint)"},
   {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public", "Startup Cost": 0, "Total Cost": 417,
    "Plan Rows": 20, "Filter": "(orders.user_id = '42'::bigint)"}]}]}]}}])json";

TEST(Plans, PostgresJsonBecomesATree) {
  const Plan plan = parse_postgres_plan(kPostgresPlan);
  EXPECT_EQ(plan.dialect, Dialect::postgres);
  EXPECT_DOUBLE_EQ(plan.total_cost(), 425.97);
  ASSERT_EQ(plan.root.children.size(), 1u);
  const PlanNode& loop = plan.root.children[0].children[0];
  EXPECT_EQ(loop.operation, "Nested Loop");
  ASSERT_EQ(loop.children.size(), 2u);
  EXPECT_EQ(loop.children[1].operation, "Seq Scan");
  EXPECT_EQ(loop.children[1].relation, "orders");
  EXPECT_EQ(loop.children[1].schema, "public");
  EXPECT_EQ(loop.children[1].detail, "Filter: (orders.user_id = '42'::bigint)");
  EXPECT_TRUE(plan.uses_index("users_pkey"));
  EXPECT_FALSE(plan.uses_index("orders_user_id_idx"));
  const std::string text = plan.to_text();
  EXPECT_NE(text.find("Limit  (cost=425.92..425.97 rows=20)"), std::string::npos) << text;
  EXPECT_NE(text.find("->  Seq Scan on orders"), std::string::npos) << text;
  EXPECT_NE(text.find("Sort Key: orders.created_at DESC"), std::string::npos) << text;
}

TEST(Plans, SqliteRowsBecomeATreeWithAliasesResolved) {
  const Rows rows(
      {"id", "parent", "notused", "detail"},
      {Value(2),  Value(0), Value(0), Value("SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"),
       Value(5),  Value(0), Value(0), Value("SCAN o"),
       Value(9),  Value(0), Value(0), Value("LIST SUBQUERY 1"),
       Value(11), Value(9), Value(0), Value("SEARCH orders USING COVERING INDEX ix_a (user_id=?)"),
       Value(20), Value(0), Value(0), Value("USE TEMP B-TREE FOR ORDER BY")},
      5);
  const Plan plan = parse_sqlite_plan(rows, {{"o", "orders"}, {"u", "users"}});
  ASSERT_EQ(plan.root.children.size(), 4u);
  EXPECT_EQ(plan.root.children[0].operation, "SEARCH");
  EXPECT_EQ(plan.root.children[0].relation, "users");
  EXPECT_EQ(plan.root.children[0].index, "INTEGER PRIMARY KEY");
  EXPECT_EQ(plan.root.children[1].operation, "SCAN");
  EXPECT_EQ(plan.root.children[1].relation, "orders");
  EXPECT_TRUE(plan.root.children[1].index.empty());
  ASSERT_EQ(plan.root.children[2].children.size(), 1u);
  EXPECT_EQ(plan.root.children[2].children[0].index, "ix_a");
  EXPECT_EQ(plan.root.children[3].operation, "USE TEMP B-TREE");
  EXPECT_TRUE(plan.uses_index("ix_a"));
  EXPECT_EQ(plan.to_text(),
            "QUERY PLAN\n"
            "|--SEARCH u USING INTEGER PRIMARY KEY (rowid=?)\n"
            "|--SCAN o\n"
            "|--LIST SUBQUERY 1\n"
            "|  `--SEARCH orders USING COVERING INDEX ix_a (user_id=?)\n"
            "`--USE TEMP B-TREE FOR ORDER BY\n");
}

TEST(Plans, ThousandsAreGrouped) {
  EXPECT_EQ(group_thousands(0), "0");
  EXPECT_EQ(group_thousands(999), "999");
  EXPECT_EQ(group_thousands(20000), "20,000");
  EXPECT_EQ(group_thousands(1234567.4), "1,234,567");
}

}  // namespace
}  // namespace nexdb::detail
