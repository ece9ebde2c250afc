// Merging per-shard results: the merge spec comes from the statement, the parts are made here.
#include <gtest/gtest.h>

#include "nexdb/error.hpp"
#include "shard/analysis.hpp"
#include "shard/merge.hpp"
#include "shard/values.hpp"

namespace nexdb::test {
namespace {

using namespace shard_detail;

const ShardConfig kShards{
    .shard_key = "user_id", .num_shards = 2, .shard_map = {{0, "a"}, {1, "b"}}};

MergeSpec spec_of(const std::string& sql, Dialect dialect = Dialect::postgres) {
  auto a = analyze(sql, kShards, dialect);
  EXPECT_TRUE(a->fan_out) << a->fan_out_refusal;
  return a->fan_out ? a->fan_out->merge : MergeSpec{};
}

Rows rows(std::vector<std::string> columns, std::vector<std::vector<Value>> data) {
  std::vector<Value> values;
  for (auto& row : data) values.insert(values.end(), row.begin(), row.end());
  return Rows(std::move(columns), std::move(values), static_cast<std::int64_t>(data.size()));
}

std::vector<std::vector<Value>> table(const Rows& r) {
  std::vector<std::vector<Value>> out;
  for (std::size_t i = 0; i < r.size(); ++i) {
    std::vector<Value> row;
    for (std::size_t c = 0; c < r.column_count(); ++c) row.push_back(r.value(i, c));
    out.push_back(std::move(row));
  }
  return out;
}

TEST(ShardMerge, OrderByLimitOffsetIsAKWayMerge) {
  const auto spec =
      spec_of("SELECT id, total FROM orders ORDER BY total DESC, id LIMIT 3 OFFSET 1");
  std::vector<Rows> parts;
  parts.push_back(rows({"id", "total"}, {{1, 90.0}, {4, 50.0}, {6, 10.0}, {7, 5.0}}));
  parts.push_back(rows({"id", "total"}, {{2, 80.0}, {3, 50.0}, {5, 20.0}, {8, 1.0}}));
  const Rows merged = merge(spec, std::move(parts), {});
  EXPECT_EQ(merged.columns(), (std::vector<std::string>{"id", "total"}));
  EXPECT_EQ(table(merged), (std::vector<std::vector<Value>>{{2, 80.0}, {3, 50.0}, {4, 50.0}}));
}

TEST(ShardMerge, NullsSortWhereTheDialectPutsThem) {
  const auto pg = spec_of("SELECT note FROM t ORDER BY note");
  const auto lite = spec_of("SELECT note FROM t ORDER BY note", Dialect::sqlite);
  const auto first = spec_of("SELECT note FROM t ORDER BY note DESC NULLS LAST");
  auto parts = [] {
    std::vector<Rows> p;
    p.push_back(rows({"note"}, {{"a"}, {null}}));
    p.push_back(rows({"note"}, {{"b"}}));
    return p;
  };
  EXPECT_EQ(table(merge(pg, parts(), {})), (std::vector<std::vector<Value>>{{"a"}, {"b"}, {null}}));
  auto lite_parts = parts();
  lite_parts[0] = rows({"note"}, {{null}, {"a"}});
  EXPECT_EQ(table(merge(lite, std::move(lite_parts), {})),
            (std::vector<std::vector<Value>>{{null}, {"a"}, {"b"}}));
  auto desc_parts = parts();
  desc_parts[0] = rows({"note"}, {{"a"}, {null}});
  EXPECT_EQ(table(merge(first, std::move(desc_parts), {})),
            (std::vector<std::vector<Value>>{{"b"}, {"a"}, {null}}));
}

TEST(ShardMerge, AggregatesCombineExactly) {
  const auto spec =
      spec_of("SELECT count(*), sum(total), min(total), max(total), avg(qty) FROM orders");
  // Columns: count, sum, min, max, avg, then sum(qty) and count(qty) for avg.
  const std::vector<std::string> cols{"count", "sum",       "min",      "max",
                                      "avg",   "__nexdb_0", "__nexdb_1"};
  std::vector<Rows> parts;
  parts.push_back(rows(cols, {{3, "10.25", "1.50", "9.75", 2.0, 6, 3}}));
  parts.push_back(rows(cols, {{2, "0.80", "0.30", "12.00", 5.0, 10, 2}}));
  parts.push_back(rows(cols, {{0, null, null, null, null, null, 0}}));  // a shard without rows
  const Rows merged = merge(spec, std::move(parts), {});
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged.columns().size(), 5u);
  EXPECT_EQ(merged.value(0, 0), Value(5));
  EXPECT_EQ(merged.value(0, 1), Value("11.05"));  // decimal text summed exactly
  EXPECT_EQ(merged.value(0, 2), Value("0.30"));
  EXPECT_EQ(merged.value(0, 3), Value("12.00"));  // numerically, not "9.75" > "12.00"
  EXPECT_DOUBLE_EQ(merged.value(0, 4).as<double>(), 16.0 / 5.0);
}

TEST(ShardMerge, GroupsHavingAndOrderAfterTheMerge) {
  const auto spec = spec_of(
      "SELECT status, count(*) AS n, sum(qty) FROM orders GROUP BY status "
      "HAVING count(*) >= $1 ORDER BY n DESC, status LIMIT 2");
  const std::vector<std::string> cols{"status", "n", "sum"};
  std::vector<Rows> parts;
  parts.push_back(rows(cols, {{"new", 2, 5}, {"paid", 1, 1}, {"gone", 1, 1}}));
  parts.push_back(rows(cols, {{"paid", 2, 4}, {"new", 1, 2}, {"rare", 1, 9}}));
  const std::vector<Value> params{Value(2)};
  const Rows merged = merge(spec, std::move(parts), params);
  EXPECT_EQ(table(merged), (std::vector<std::vector<Value>>{{"new", 3, 7}, {"paid", 3, 5}}));
}

TEST(ShardMerge, DistinctAcrossShards) {
  const auto spec = spec_of("SELECT DISTINCT status FROM orders ORDER BY status");
  std::vector<Rows> parts;
  parts.push_back(rows({"status"}, {{"a"}, {"b"}}));
  parts.push_back(rows({"status"}, {{"a"}, {"c"}}));
  EXPECT_EQ(table(merge(spec, std::move(parts), {})),
            (std::vector<std::vector<Value>>{{"a"}, {"b"}, {"c"}}));
}

TEST(ShardMerge, HelperColumnsAreDropped) {
  const auto spec = spec_of("SELECT id FROM orders ORDER BY created_at DESC LIMIT 2");
  std::vector<Rows> parts;
  parts.push_back(rows({"id", "__nexdb_0"}, {{1, 30}, {2, 10}}));
  parts.push_back(rows({"id", "__nexdb_0"}, {{3, 20}}));
  const Rows merged = merge(spec, std::move(parts), {});
  EXPECT_EQ(merged.columns(), (std::vector<std::string>{"id"}));
  EXPECT_EQ(table(merged), (std::vector<std::vector<Value>>{{1}, {3}}));
}

TEST(ShardMerge, DifferentShapesAreAnError) {
  const auto spec = spec_of("SELECT id FROM orders ORDER BY id");
  std::vector<Rows> parts;
  parts.push_back(rows({"id"}, {{1}}));
  parts.push_back(rows({"id", "x"}, {{2, 3}}));
  EXPECT_THROW(merge(spec, std::move(parts), {}), Error);
}

TEST(ShardValues, DecimalTextComparesAndAddsAsNumbers) {
  EXPECT_LT(compare_values(Value("9.75"), Value("12.00")), 0);
  EXPECT_LT(compare_values(Value("-12"), Value("-9.5")), 0);
  EXPECT_EQ(compare_values(Value("1.50"), Value("1.5")), 0);
  EXPECT_GT(compare_values(Value("NaN"), Value("1000000")), 0);  // PostgreSQL sorts NaN last
  EXPECT_LT(compare_values(Value(3), Value("3.01")), 0);
  EXPECT_LT(compare_values(Value(2.5), Value("2.51")), 0);
  EXPECT_GT(compare_values(Value("b"), Value("a")), 0);
  EXPECT_LT(compare_values(Value("02134"), Value("1001")),
            0);  // text: a leading zero is not numeric output
  EXPECT_FALSE(is_decimal_text("02134"));
  EXPECT_TRUE(is_decimal_text("0.25"));
  EXPECT_EQ(add_values(Value("1.25"), Value("-3.5")), Value("-2.25"));
  EXPECT_EQ(add_values(Value("-0.5"), Value("0.50")), Value("0.00"));
  EXPECT_EQ(add_values(Value(std::int64_t{9223372036854775807}), Value(1)),
            Value("9223372036854775808"));
  EXPECT_EQ(add_values(Value(2), Value(null)), Value(2));
  EXPECT_DOUBLE_EQ(add_values(Value(1), Value(0.5)).as<double>(), 1.5);
}

}  // namespace
}  // namespace nexdb::test
