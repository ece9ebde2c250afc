// What the optimizer reads from SQL text: tables for the result cache, predicates for advice.
#include <gtest/gtest.h>

#include "optimizer/query_facts.hpp"

namespace nexdb::detail {
namespace {

using K = Predicate::Kind;

constexpr const char* kSeedQuery =
    R"(SELECT "orders"."id", "orders"."status", "orders"."total" FROM "orders" JOIN "users" ON "orders"."user_id" = )"
    R"("users"."id" WHERE "users"."id" = $1 ORDER BY "orders"."created_at" DESC LIMIT $2)";

TEST(QueryFacts, SeedQueryReadsBothTablesAndWritesNone) {
  const QueryFacts f = analyze_statement(kSeedQuery, Dialect::postgres);
  ASSERT_TRUE(f.parsed);
  EXPECT_EQ(f.kind, QueryFacts::Kind::select);
  EXPECT_EQ(f.tables_read, (std::vector<std::string>{"orders", "users"}));
  EXPECT_TRUE(f.tables_written.empty());
  EXPECT_TRUE(f.cacheable());
}

TEST(QueryFacts, SeedQueryPredicatesJoinAndOrder) {
  const QueryFacts f = analyze_statement(kSeedQuery, Dialect::postgres);
  ASSERT_EQ(f.blocks.size(), 1u);
  const QueryBlock& b = f.blocks[0];
  ASSERT_EQ(b.sources.size(), 2u);
  EXPECT_EQ(b.sources[0].table, "orders");
  ASSERT_EQ(b.predicates.size(), 2u);
  EXPECT_EQ(b.predicates[0].kind, K::join);
  EXPECT_EQ(b.predicates[0].column, (ColumnName{"orders", "user_id"}));
  EXPECT_EQ(b.predicates[0].other, (ColumnName{"users", "id"}));
  EXPECT_EQ(b.predicates[1].kind, K::equality);
  EXPECT_EQ(b.predicates[1].column, (ColumnName{"users", "id"}));
  ASSERT_EQ(b.order.size(), 1u);
  EXPECT_EQ(b.order[0].column.column, "created_at");
  EXPECT_TRUE(b.order[0].descending);
  EXPECT_TRUE(b.has_limit);
}

TEST(QueryFacts, ClassifiesComparisons) {
  const QueryFacts f = analyze_statement(
      "SELECT * FROM t WHERE a IN (1, 2) AND b BETWEEN $1 AND $2 AND c LIKE 'x%' AND d IS NULL AND "
      "$3 < e "
      "AND f <> 1 AND (g = 1 OR h = 2) AND lower(i) = 'x' AND j = now() - interval '1 day'",
      Dialect::postgres);
  ASSERT_EQ(f.blocks.size(), 1u);
  std::vector<std::pair<K, std::string>> got;
  for (const Predicate& p : f.blocks[0].predicates) got.emplace_back(p.kind, p.column.column);
  const std::vector<std::pair<K, std::string>> want{{K::equality, "a"}, {K::range, "b"},
                                                    {K::range, "c"},    {K::equality, "d"},
                                                    {K::range, "e"},    {K::equality, "j"}};
  EXPECT_EQ(got, want);  // f (<>), the OR, and the expression on i give no index predicate
}

TEST(QueryFacts, WritesNameTheirTables) {
  EXPECT_EQ(analyze_statement("UPDATE orders SET status = $1 WHERE id = $2", Dialect::postgres)
                .tables_written,
            std::vector<std::string>{"orders"});
  EXPECT_EQ(analyze_statement("DELETE FROM orders WHERE id = 1", Dialect::postgres).tables_written,
            std::vector<std::string>{"orders"});
  EXPECT_EQ(
      analyze_statement("INSERT INTO users (email) VALUES (?)", Dialect::sqlite).tables_written,
      std::vector<std::string>{"users"});
  EXPECT_EQ(analyze_statement("TRUNCATE a, b", Dialect::postgres).tables_written,
            (std::vector<std::string>{"a", "b"}));
  const QueryFacts cte =
      analyze_statement("WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone",
                        Dialect::postgres);
  EXPECT_EQ(cte.tables_written, std::vector<std::string>{"orders"});
  EXPECT_EQ(cte.tables_read, std::vector<std::string>{"orders"});  // the CTE name is no table
  EXPECT_FALSE(cte.cacheable());
}

TEST(QueryFacts, DdlAndUnparsableStatementsMayWriteAnything) {
  EXPECT_TRUE(
      analyze_statement("ALTER TABLE orders ADD COLUMN x int", Dialect::postgres).writes_unknown);
  const QueryFacts sqlite_only =
      analyze_statement("INSERT OR REPLACE INTO t VALUES (1)", Dialect::sqlite);
  EXPECT_FALSE(sqlite_only.parsed);
  EXPECT_TRUE(sqlite_only.writes_unknown);
  const QueryFacts odd_select = analyze_statement("SELECT * FROM t INDEXED BY i", Dialect::sqlite);
  EXPECT_FALSE(odd_select.parsed);
  EXPECT_FALSE(odd_select.writes_unknown);
  EXPECT_FALSE(odd_select.cacheable());  // tables unknown
}

TEST(QueryFacts, SubqueriesAndUnionsAreBlocksOfTheirOwn) {
  const QueryFacts f = analyze_statement(
      "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND "
      "o.status = $1) "
      "UNION ALL SELECT id FROM archived WHERE email = $2",
      Dialect::postgres);
  ASSERT_TRUE(f.parsed);
  EXPECT_EQ(f.blocks.size(), 3u);
  EXPECT_EQ(f.tables_read, (std::vector<std::string>{"users", "orders", "archived"}));
}

TEST(QueryFacts, SqlitePlaceholdersBecomeNumbered) {
  EXPECT_EQ(
      with_dollar_placeholders("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?3 AND d = ? -- ?"),
      "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $3 AND d = $4 -- ?");
  const QueryFacts f =
      analyze_statement(R"(SELECT "t"."a" FROM "t" WHERE "t"."b" = ? LIMIT ?)", Dialect::sqlite);
  ASSERT_TRUE(f.parsed);
  ASSERT_EQ(f.blocks.size(), 1u);
  EXPECT_EQ(f.blocks[0].predicates[0].column.column, "b");
}

}  // namespace
}  // namespace nexdb::detail
