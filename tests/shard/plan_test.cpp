// What routing reads from a statement: pinned key values, INSERT rows by shard, the per-shard
// statement of a fan-out, and the refusals. SQL text in, SQL text out; no database.
#include <gtest/gtest.h>

#include "nexdb/error.hpp"
#include "shard/analysis.hpp"

namespace nexdb::test {
namespace {

using namespace shard_detail;

const ShardConfig kShards{.shard_key = "user_id",
                          .num_shards = 2,
                          .shard_map = {{0, "a"}, {1, "b"}},
                          .table_keys = {{"users", "id"}}};

std::shared_ptr<const Analysis> analyse(const std::string& sql,
                                        Dialect dialect = Dialect::postgres) {
  return analyze(dialect == Dialect::sqlite ? number_question_marks(sql) : sql, kShards, dialect);
}

// The per-shard statement of a fan-out, with `params` and the pushed-down LIMIT value 99.
Statement per_shard(const std::string& sql, std::vector<Value> params = {},
                    Dialect dialect = Dialect::postgres) {
  auto a = analyse(sql, dialect);
  EXPECT_TRUE(a->fan_out) << a->fan_out_refusal;
  if (!a->fan_out) return {};
  return a->fan_out->statement.render(dialect, [&](int slot) -> Value {
    return slot >= 0 ? params.at(static_cast<std::size_t>(slot)) : Value(99);
  });
}

std::string refusal(const std::string& sql) {
  auto a = analyse(sql);
  EXPECT_FALSE(a->fan_out) << sql;
  return a->fan_out_refusal;
}

std::vector<int> pinned_params(const Pin& pin) {
  std::vector<int> out;
  for (const auto& v : pin.values) out.push_back(v.param);
  return out;
}

TEST(ShardAnalysis, WherePinsTheKey) {
  auto a = analyse("SELECT * FROM orders WHERE user_id = $1 AND status = $2");
  ASSERT_TRUE(a->pin);
  ASSERT_EQ(a->pin->children.size(), 1u);
  EXPECT_EQ(pinned_params(a->pin->children[0]), (std::vector<int>{0}));

  a = analyse("SELECT * FROM orders WHERE user_id IN (3, 4, '5')");
  ASSERT_TRUE(a->pin);
  ASSERT_EQ(a->pin->values.size(), 3u);
  EXPECT_EQ(a->pin->values[2].constant, Value("5"));

  a = analyse("SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id WHERE u.id = 7");
  ASSERT_TRUE(a->pin);  // users are sharded by their own id
  EXPECT_EQ(a->pin->values.at(0).constant, Value(7));

  a = analyse("SELECT * FROM orders WHERE user_id = 1 OR user_id = 2::bigint");
  ASSERT_TRUE(a->pin);
  EXPECT_EQ(a->pin->op, Pin::Op::any_of);

  EXPECT_FALSE(analyse("SELECT * FROM orders WHERE user_id = 1 OR status = 'new'")->pin);
  EXPECT_FALSE(analyse("SELECT * FROM orders WHERE user_id > 5")->pin);
  EXPECT_FALSE(analyse("SELECT * FROM orders WHERE id = 5")->pin);
  EXPECT_FALSE(analyse("SELECT * FROM orders o WHERE users.id = 5")->pin);  // no such table here
}

TEST(ShardAnalysis, SqliteQuestionMarksAreNumbered) {
  EXPECT_EQ(number_question_marks("SELECT '?' FROM t WHERE a = ? AND b = ?2 AND c = ?"),
            "SELECT '?' FROM t WHERE a = $1 AND b = $2 AND c = $3");
  auto a = analyse("SELECT * FROM orders WHERE user_id = ? LIMIT ? OFFSET ?", Dialect::sqlite);
  ASSERT_TRUE(a->pin);
  EXPECT_EQ(per_shard("SELECT id FROM orders ORDER BY id LIMIT ? OFFSET ?", {Value(5), Value(2)},
                      Dialect::sqlite)
                .sql,
            "SELECT id FROM orders ORDER BY id LIMIT ?1");
}

TEST(ShardAnalysis, InsertRowsAreSplitByKey) {
  auto a = analyse(
      "INSERT INTO orders (id, user_id, total) VALUES ($1, $2, 1.5), (2, $3, $4) RETURNING id");
  ASSERT_TRUE(a->insert);
  ASSERT_EQ(a->insert->rows.size(), 2u);
  EXPECT_EQ(a->insert->keys[0].param, 1);
  EXPECT_EQ(a->insert->keys[1].param, 2);
  // The second row alone, its parameters renumbered from $1.
  SqlTemplate second;
  second.append(a->insert->head);
  second.text(" ");
  second.append(a->insert->rows[1]);
  second.text(" ");
  second.append(a->insert->tail);
  const Statement s = second.render(Dialect::postgres, [](int slot) { return Value(slot); });
  EXPECT_EQ(s.sql, "INSERT INTO orders (id, user_id, total) VALUES (2, $1, $2) RETURNING id");
  EXPECT_EQ(s.params, (std::vector<Value>{Value(2), Value(3)}));
}

TEST(ShardAnalysis, WritesThatCannotBeRoutedSayWhy) {
  EXPECT_NE(analyse("UPDATE orders SET status = 'x' WHERE status = 'y'")
                ->needs_pin.find("WHERE user_id = ..."),
            std::string::npos);
  EXPECT_NE(analyse("UPDATE orders SET user_id = 3 WHERE user_id = 2")
                ->needs_pin.find("may not change the shard key"),
            std::string::npos);
  EXPECT_NE(analyse("INSERT INTO orders (id, total) VALUES (1, 2)")
                ->needs_pin.find("name the shard key column"),
            std::string::npos);
  EXPECT_NE(analyse("INSERT INTO orders (id, user_id) VALUES (1, 2 + 3)")
                ->needs_pin.find("not an expression"),
            std::string::npos);
  EXPECT_NE(analyse("INSERT INTO orders (user_id) SELECT 1")->needs_pin.find("INSERT ... VALUES"),
            std::string::npos);
  EXPECT_NE(analyse("CREATE TABLE t (id int)")->needs_pin.find("execute_on_all"),
            std::string::npos);
  EXPECT_NE(analyse("SELECT 1; SELECT 2")->needs_pin.find("one at a time"), std::string::npos);
  EXPECT_NE(
      analyse("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d")->needs_pin.find("WITH"),
      std::string::npos);
  EXPECT_TRUE(analyse("DELETE FROM orders WHERE user_id = $1 AND id = $2")->needs_pin.empty());
}

TEST(ShardFanOut, LimitAndOffsetArePushedDown) {
  const Statement s = per_shard(
      "SELECT id, total FROM orders ORDER BY total DESC LIMIT $1 OFFSET $2", {Value(10), Value(5)});
  EXPECT_EQ(s.sql, "SELECT id, total FROM orders ORDER BY total DESC LIMIT $1");
  EXPECT_EQ(s.params, (std::vector<Value>{Value(99)}));
  EXPECT_EQ(
      per_shard("SELECT id FROM orders WHERE status = $1 ORDER BY id OFFSET 3", {Value("new")}).sql,
      "SELECT id FROM orders WHERE status = $1 ORDER BY id");
  EXPECT_EQ(per_shard("SELECT id FROM orders ORDER BY id FETCH FIRST 5 ROWS ONLY;").sql,
            "SELECT id FROM orders ORDER BY id LIMIT $1");
}

TEST(ShardFanOut, HelperColumnsForSortsNotSelectedAndForAvg) {
  EXPECT_EQ(
      per_shard("SELECT id FROM orders ORDER BY created_at DESC, id LIMIT 3").sql,
      "SELECT id, created_at AS \"__nexdb_0\" FROM orders ORDER BY created_at DESC, id LIMIT $1");
  EXPECT_EQ(per_shard("SELECT status, avg(total) AS a FROM orders GROUP BY status").sql,
            "SELECT status, avg(total) AS a, sum(total) AS \"__nexdb_0\", count(total) AS "
            "\"__nexdb_1\" FROM orders "
            "GROUP BY status");
  // Groups span shards: HAVING and LIMIT run after the merge; count(*) in HAVING is the selected
  // one.
  const Statement s = per_shard(
      "SELECT status, COUNT( * ) AS n FROM orders GROUP BY status HAVING count(*) > $1 "
      "ORDER BY n DESC LIMIT $2",
      {Value(3), Value(2)});
  EXPECT_EQ(s.sql, "SELECT status, COUNT( * ) AS n FROM orders GROUP BY status ORDER BY n DESC");
  EXPECT_TRUE(s.params.empty());
  // max(total) only in HAVING becomes a helper column.
  EXPECT_EQ(per_shard("SELECT status FROM orders GROUP BY status HAVING max(total) > 10").sql,
            "SELECT status, max(total) AS \"__nexdb_0\" FROM orders GROUP BY status");
}

TEST(ShardFanOut, GroupsThatIncludeTheKeyStayOnTheirShard) {
  auto a = analyse(
      "SELECT user_id, count(*) FROM orders GROUP BY user_id HAVING count(*) > 1 ORDER BY 2 DESC "
      "LIMIT 5");
  ASSERT_TRUE(a->fan_out);
  EXPECT_FALSE(a->fan_out->merge.grouped);
  EXPECT_TRUE(a->fan_out->push_limit);
  EXPECT_EQ(per_shard("SELECT user_id, count(*) FROM orders GROUP BY user_id HAVING count(*) > 1 "
                      "ORDER BY 2 DESC LIMIT 5")
                .sql,
            "SELECT user_id, count(*) FROM orders GROUP BY user_id HAVING count(*) > 1 ORDER BY 2 "
            "DESC LIMIT $1");
}

TEST(ShardFanOut, WhatCannotBeMergedIsRefused) {
  EXPECT_NE(refusal("SELECT id FROM a UNION SELECT id FROM b").find("UNION"), std::string::npos);
  EXPECT_NE(refusal("SELECT count(DISTINCT status) FROM orders").find("DISTINCT"),
            std::string::npos);
  EXPECT_NE(refusal("SELECT string_agg(status, ',') FROM orders").find("string_agg"),
            std::string::npos);
  EXPECT_NE(refusal("SELECT id, rank() OVER (ORDER BY total) FROM orders").find("window"),
            std::string::npos);
  EXPECT_NE(refusal("SELECT sum(total) * 2 FROM orders").find("inside an expression"),
            std::string::npos);
  EXPECT_NE(refusal("SELECT DISTINCT ON (status) id FROM orders").find("DISTINCT ON"),
            std::string::npos);
  EXPECT_NE(refusal("SELECT status FROM orders GROUP BY status HAVING sum(total) / count(*) > 2")
                .find("HAVING"),
            std::string::npos);
  EXPECT_NE(refusal("SELECT id FROM orders FOR UPDATE").find("FOR UPDATE"), std::string::npos);
  EXPECT_NE(refusal("SELECT id FROM orders LIMIT 2 + 3").find("LIMIT"), std::string::npos);
}

TEST(ShardFanOut, SelectStarWithSortOnAColumn) {
  EXPECT_EQ(per_shard("SELECT * FROM orders ORDER BY total DESC LIMIT 100").sql,
            "SELECT *, total AS \"__nexdb_0\" FROM orders ORDER BY total DESC LIMIT $1");
}

}  // namespace
}  // namespace nexdb::test
