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
                          .table_keys = {{"users", "id"}},
                          .reference_tables = {"countries"}};

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

// Why a statement cannot be answered from the shards; empty when it can.
std::string colocation(const std::string& sql) { return analyse(sql)->colocation_refusal; }

// Review defect 1: what no shard can answer from its own rows is refused, whatever the outer
// SELECT looks like; what reads no sharded table goes to one shard.
TEST(ShardColocation, ReadsOfNoShardedTableGoToOneShard) {
  EXPECT_FALSE(analyse("SELECT 1")->reads_sharded);
  EXPECT_FALSE(analyse("SELECT now(), $1::int", Dialect::postgres)->reads_sharded);
  EXPECT_FALSE(analyse("SELECT count(*) FROM countries")->reads_sharded);
  EXPECT_FALSE(analyse("SELECT * FROM generate_series(1, 3)")->reads_sharded);
  EXPECT_FALSE(
      analyse("WITH c AS (SELECT code FROM countries) SELECT count(*) FROM c")->reads_sharded);
  EXPECT_TRUE(analyse("SELECT count(*) FROM orders")->reads_sharded);
  EXPECT_TRUE(colocation("SELECT 1").empty());
}

TEST(ShardColocation, SubqueriesAndCtesThatSeeOneShardAreRefused) {
  EXPECT_NE(
      colocation("WITH c AS (SELECT count(*) AS n FROM orders) SELECT n FROM c").find("\"c\""),
      std::string::npos);
  EXPECT_NE(colocation("SELECT id FROM orders WHERE total > (SELECT avg(total) FROM orders)")
                .find("subquery"),
            std::string::npos);
  EXPECT_NE(colocation("SELECT (SELECT count(*) FROM orders)").find("subquery"), std::string::npos);
  EXPECT_FALSE(colocation("SELECT count(*) FROM (SELECT DISTINCT status FROM orders) s").empty());
  EXPECT_FALSE(
      colocation("SELECT count(*) FROM countries WHERE EXISTS (SELECT 1 FROM orders)").empty());
  EXPECT_FALSE(colocation("SELECT id FROM users WHERE id IN (SELECT user_id FROM orders ORDER BY "
                          "total DESC LIMIT 5)")
                   .empty());
  EXPECT_FALSE(colocation("SELECT id FROM orders WHERE status IN (SELECT status FROM orders WHERE "
                          "qty > 8)")
                   .empty());
  // Correlated on something other than the key, or only under OR: not tied.
  EXPECT_FALSE(colocation("SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE "
                          "o.status = u.name)")
                   .empty());
  EXPECT_FALSE(colocation("SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE "
                          "o.user_id = u.id OR o.qty > 1)")
                   .empty());
  EXPECT_FALSE(colocation("SELECT * FROM (SELECT id, rank() OVER (PARTITION BY status ORDER BY "
                          "total) AS r FROM orders) t")
                   .empty());
  EXPECT_FALSE(colocation("WITH RECURSIVE r AS (SELECT id FROM orders UNION SELECT id FROM r) "
                          "SELECT * FROM r")
                   .empty());
}

TEST(ShardColocation, JoinsMustMeetOnTheShardKey) {
  EXPECT_NE(
      colocation("SELECT o.id FROM orders o JOIN users u ON u.name = o.status").find("not joined"),
      std::string::npos);
  EXPECT_FALSE(colocation("SELECT o.id FROM orders o, users u").empty());
  EXPECT_FALSE(
      colocation("SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id OR u.id = 1").empty());
  EXPECT_TRUE(colocation("SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id").empty());
  EXPECT_TRUE(colocation("SELECT o.id FROM orders o LEFT JOIN payments p USING (user_id)").empty());
  EXPECT_TRUE(
      colocation("SELECT o.id FROM orders o, users u WHERE o.user_id = $1 AND u.id = $1").empty());
  EXPECT_TRUE(
      colocation("SELECT o.id FROM orders o JOIN countries c ON c.code = o.status").empty());
}

TEST(ShardColocation, WhatStaysOnOneShardIsAccepted) {
  for (const char* sql : {
           "SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) FROM users u",
           "SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM orders WHERE total > 1)",
           "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
           "o.user_id = u.id)",
           "SELECT max(n) FROM (SELECT user_id, count(*) AS n FROM orders GROUP BY user_id) t",
           "WITH big AS (SELECT * FROM orders WHERE total > 100) SELECT status, count(*) FROM big "
           "GROUP BY status",
           "SELECT * FROM (SELECT user_id, row_number() OVER (PARTITION BY user_id ORDER BY id) "
           "AS r FROM orders) t WHERE r = 1",
           "SELECT * FROM users u, LATERAL (SELECT sum(total) FROM orders o WHERE o.user_id = "
           "u.id) s",
           "SELECT * FROM (SELECT user_id FROM orders UNION ALL SELECT user_id FROM returns) t",
           "SELECT c.name, count(*) FROM users u JOIN countries c ON c.code = u.country GROUP BY "
           "c.name",
       }) {
    EXPECT_EQ(colocation(sql), "") << sql;
  }
  // A CTE's key column keeps groups on their shard.
  auto a = analyse(
      "WITH big AS (SELECT * FROM orders) SELECT user_id, count(*) FROM big GROUP BY user_id");
  ASSERT_TRUE(a->fan_out);
  EXPECT_FALSE(a->fan_out->merge.grouped);
  a = analyse("SELECT * FROM (SELECT user_id AS uid FROM orders) t WHERE t.uid = 5");
  ASSERT_TRUE(a->pin);
}

// Review defect 2: a write is pinned only by its target's key, or by tables joined to it on it.
TEST(ShardColocation, WritesArePinnedOnlyThroughTheirTarget) {
  auto a = analyse("UPDATE orders SET note = 'x' FROM users u WHERE u.id = $1 AND orders.qty >= 1");
  EXPECT_NE(a->needs_pin.find("not joined"), std::string::npos) << a->needs_pin;
  a = analyse("DELETE FROM orders USING users u WHERE u.id = 5");
  EXPECT_FALSE(a->needs_pin.empty());
  a = analyse("UPDATE orders o SET note = 'x' FROM users u WHERE u.id = o.user_id AND u.id = $1");
  EXPECT_TRUE(a->needs_pin.empty()) << a->needs_pin;
  ASSERT_TRUE(a->pin);
  a = analyse("DELETE FROM orders WHERE user_id = 5 AND status IN (SELECT status FROM orders)");
  EXPECT_FALSE(a->needs_pin.empty());
  a = analyse("UPDATE orders SET note = (SELECT name FROM countries LIMIT 1) WHERE user_id = 5");
  EXPECT_TRUE(a->needs_pin.empty()) << a->needs_pin;
}

TEST(ShardColocation, ReferenceTablesAreWrittenEverywhere) {
  auto a = analyse("INSERT INTO countries (code, name) VALUES ($1, $2)");
  EXPECT_TRUE(a->reference_write);
  EXPECT_TRUE(a->needs_pin.empty()) << a->needs_pin;
  a = analyse("UPDATE countries SET name = upper(name) WHERE code = 'de'");
  EXPECT_TRUE(a->reference_write);
  a = analyse("UPDATE countries SET user_id = 1");  // no shard key here: an ordinary column
  EXPECT_TRUE(a->reference_write);
  EXPECT_TRUE(analyse("DELETE FROM countries")->reference_write);
  a = analyse("UPDATE countries SET name = 'x' WHERE code IN (SELECT status FROM orders)");
  EXPECT_FALSE(a->reference_write);
  EXPECT_NE(a->needs_pin.find("reference table"), std::string::npos) << a->needs_pin;
  a = analyse("INSERT INTO countries (code) SELECT DISTINCT status FROM orders");
  EXPECT_FALSE(a->needs_pin.empty());
  a = analyse("INSERT INTO orders (user_id, note) VALUES (1, (SELECT max(note) FROM orders))");
  EXPECT_FALSE(a->needs_pin.empty());
}

// Review defect 3: GROUP BY reads a name as the input column first, as both databases do.
TEST(ShardFanOut, GroupByANameShadowedByAnAliasIsTheColumn) {
  auto a = analyse("SELECT lower(code) AS code, count(*) FROM orders GROUP BY code");
  ASSERT_TRUE(a->fan_out);
  ASSERT_EQ(a->fan_out->merge.group_by.size(), 1u);
  EXPECT_TRUE(a->fan_out->merge.group_by[0].hidden);
  EXPECT_EQ(
      per_shard("SELECT lower(code) AS code, count(*) FROM orders GROUP BY code").sql,
      "SELECT lower(code) AS code, count(*), code AS \"__nexdb_0\" FROM orders GROUP BY code");
  // An alias that shadows no column it uses is the select item; a column selected as is, too.
  a = analyse("SELECT date_trunc('day', created_at) AS day, count(*) FROM orders GROUP BY day");
  ASSERT_TRUE(a->fan_out);
  EXPECT_EQ(a->fan_out->merge.group_by.at(0), (ColumnIndex{.index = 0}));
  a = analyse("SELECT o.status AS s, count(*) FROM orders o GROUP BY status");
  ASSERT_TRUE(a->fan_out);
  EXPECT_EQ(a->fan_out->merge.group_by.at(0), (ColumnIndex{.index = 0}));
  // ORDER BY reads the output name first.
  a = analyse("SELECT lower(code) AS code FROM orders ORDER BY code LIMIT 3");
  ASSERT_TRUE(a->fan_out);
  EXPECT_EQ(a->fan_out->merge.order.at(0).column, (ColumnIndex{.index = 0}));
}

// Review defect 10: avg's helper columns are not ORDER BY columns a DISTINCT cannot see.
TEST(ShardFanOut, DistinctWithAvgIsMerged) {
  auto a = analyse("SELECT DISTINCT status, avg(qty) FROM orders GROUP BY status");
  EXPECT_TRUE(a->fan_out) << a->fan_out_refusal;
  EXPECT_NE(refusal("SELECT DISTINCT status FROM orders ORDER BY created_at").find("not selected"),
            std::string::npos);
}

}  // namespace
}  // namespace nexdb::test
