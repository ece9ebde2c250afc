// Merging per-shard results: the merge spec comes from the statement, the parts are made here.
#include <gtest/gtest.h>

#include <limits>

#include "nexdb/error.hpp"
#include "nexdb/shard.hpp"
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

Rows rows(std::vector<std::string> columns, std::vector<std::vector<Value>> data,
          std::vector<ColumnType> types = {}) {
  std::vector<Value> values;
  for (auto& row : data) values.insert(values.end(), row.begin(), row.end());
  auto names = std::make_shared<const std::vector<std::string>>(std::move(columns));
  Rows::ColumnTypes typed;
  if (!types.empty()) typed = std::make_shared<const std::vector<ColumnType>>(std::move(types));
  return Rows(std::move(names), std::move(typed), std::move(values),
              static_cast<std::int64_t>(data.size()));
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
  // Columns: count, sum, min, max, avg, then sum(qty) and count(qty) for avg; PostgreSQL's types.
  const std::vector<std::string> cols{"count", "sum",       "min",      "max",
                                      "avg",   "__nexdb_0", "__nexdb_1"};
  using T = ColumnType;
  const std::vector<T> types{T::integer, T::numeric, T::numeric, T::numeric,
                             T::numeric, T::integer, T::integer};
  std::vector<Rows> parts;
  parts.push_back(rows(cols, {{3, "10.25", "1.50", "9.75", "2.0", 6, 3}}, types));
  parts.push_back(rows(cols, {{2, "0.80", "0.30", "12.00", "5.0", 10, 2}}, types));
  parts.push_back(rows(cols, {{0, null, null, null, null, null, 0}}, types));  // no rows there
  const Rows merged = merge(spec, std::move(parts), {});
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged.columns().size(), 5u);
  EXPECT_EQ(merged.value(0, 0), Value(5));
  EXPECT_EQ(merged.value(0, 1), Value("11.05"));  // decimal text summed exactly
  EXPECT_EQ(merged.value(0, 2), Value("0.30"));
  EXPECT_EQ(merged.value(0, 3), Value("12.00"));  // numerically, not "9.75" > "12.00"
  EXPECT_DOUBLE_EQ(merged.value(0, 4).as<double>(), 16.0 / 5.0);
  // The merged result keeps the shards' column types; avg becomes double precision.
  EXPECT_EQ(merged.column_type(0), T::integer);
  EXPECT_EQ(merged.column_type(1), T::numeric);
  EXPECT_EQ(merged.column_type(4), T::real);
}

// Review defect 5: text that looks like numbers is text. Before, '9' < '10' numerically but
// '10' < '5a' < '9' bytewise made min() and the k-way merge depend on the order of the parts.
TEST(ShardMerge, DigitStringsInATextColumnOrderAsText) {
  const std::vector<ColumnType> text{ColumnType::text};
  std::vector<Rows> parts;
  parts.push_back(rows({"min"}, {{"9"}}, text));
  parts.push_back(rows({"min"}, {{"10"}}, text));
  parts.push_back(rows({"min"}, {{"5a"}}, text));
  EXPECT_EQ(table(merge(spec_of("SELECT min(code) FROM orders"), std::move(parts), {})),
            (std::vector<std::vector<Value>>{{"10"}}));
  std::vector<Rows> sorted;
  sorted.push_back(rows({"code"}, {{"10"}, {"9"}}, text));
  sorted.push_back(rows({"code"}, {{"100"}, {"5a"}}, text));
  EXPECT_EQ(table(merge(spec_of("SELECT code FROM orders ORDER BY code"), std::move(sorted), {})),
            (std::vector<std::vector<Value>>{{"10"}, {"100"}, {"5a"}, {"9"}}));
  // The same digits in a numeric column are numbers.
  const std::vector<ColumnType> numeric{ColumnType::numeric};
  std::vector<Rows> numbers;
  numbers.push_back(rows({"min"}, {{"9"}}, numeric));
  numbers.push_back(rows({"min"}, {{"10"}}, numeric));
  EXPECT_EQ(table(merge(spec_of("SELECT min(amount) FROM orders"), std::move(numbers), {})),
            (std::vector<std::vector<Value>>{{"9"}}));
}

// Review defect 4: groups and DISTINCT use SQL equality: 1 and 1.0 (SQLite), numeric 1.0 and
// 1.00 (PostgreSQL) are one value.
TEST(ShardMerge, EqualNumbersOnDifferentShardsAreOneGroup) {
  std::vector<Rows> lite;
  lite.push_back(rows({"v"}, {{1}, {2.5}}));
  lite.push_back(rows({"v"}, {{1.0}, {"1"}}));  // "1": text, another value in SQLite
  EXPECT_EQ(merge(spec_of("SELECT DISTINCT v FROM t", Dialect::sqlite), std::move(lite), {}).size(),
            3u);
  const std::vector<ColumnType> types{ColumnType::numeric, ColumnType::integer};
  std::vector<Rows> pg;
  pg.push_back(rows({"amount", "count"}, {{"1.0", 2}, {"2.50", 1}}, types));
  pg.push_back(rows({"amount", "count"}, {{"1.00", 3}, {"2.5", 4}, {"-0.0", 1}}, types));
  pg.push_back(rows({"amount", "count"}, {{"0", 1}}, types));
  const Rows grouped =
      merge(spec_of("SELECT amount, count(*) FROM orders GROUP BY amount ORDER BY amount"),
            std::move(pg), {});
  EXPECT_EQ(table(grouped),
            (std::vector<std::vector<Value>>{{"-0.0", 2}, {"1.0", 5}, {"2.50", 5}}));
}

// Types without an order or equality nexdb can reproduce are refused where they would be compared,
// and merged where they are only carried along.
TEST(ShardMerge, OpaqueTypesAreRefusedWhereCompared) {
  const std::vector<ColumnType> types{ColumnType::integer, ColumnType::other};
  auto parts = [&] {
    std::vector<Rows> p;
    p.push_back(rows({"id", "span"}, {{1, "1 day"}}, types));
    p.push_back(rows({"id", "span"}, {{2, "24:00:00"}}, types));
    return p;
  };
  EXPECT_THROW(merge(spec_of("SELECT id, span FROM t ORDER BY span"), parts(), {}),
               UnroutableStatement);
  EXPECT_THROW(merge(spec_of("SELECT DISTINCT id, span FROM t"), parts(), {}), UnroutableStatement);
  EXPECT_THROW(merge(spec_of("SELECT id, max(span) FROM t GROUP BY id"), parts(), {}),
               UnroutableStatement);
  try {
    merge(spec_of("SELECT id, span FROM t ORDER BY span"), parts(), {});
  } catch (const UnroutableStatement& e) {
    EXPECT_NE(std::string(e.what()).find("span::text"), std::string::npos) << e.what();
  }
  EXPECT_EQ(merge(spec_of("SELECT id, span FROM t ORDER BY id"), parts(), {}).size(), 2u);
}

// Review defect 10: LIMIT + OFFSET past the largest integer pushes no limit down (it overflowed).
TEST(ShardMerge, PushedLimitDoesNotOverflow) {
  const auto spec = spec_of("SELECT id FROM orders ORDER BY id LIMIT $1 OFFSET $2");
  const std::vector<Value> huge{Value(std::numeric_limits<std::int64_t>::max()), Value(5)};
  EXPECT_EQ(pushed_limit(spec, huge), -1);
  const std::vector<Value> small{Value(10), Value(5)};
  EXPECT_EQ(pushed_limit(spec, small), 15);
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

TEST(ShardValues, NumericTextComparesAndAddsAsNumbers) {
  constexpr auto numeric = ColumnType::numeric;
  EXPECT_LT(compare_values(Value("9.75"), Value("12.00"), numeric), 0);
  EXPECT_LT(compare_values(Value("-12"), Value("-9.5"), numeric), 0);
  EXPECT_EQ(compare_values(Value("1.50"), Value("1.5"), numeric), 0);
  EXPECT_GT(compare_values(Value("NaN"), Value("1000000"), numeric), 0);  // NaN sorts last
  EXPECT_LT(compare_values(Value(3), Value("3.01"), numeric), 0);
  EXPECT_LT(compare_values(Value(2.5), Value("2.51"), numeric), 0);
  EXPECT_TRUE(is_decimal_text("0.25"));
  EXPECT_FALSE(is_decimal_text("02134"));
  EXPECT_EQ(add_values(Value("1.25"), Value("-3.5"), numeric), Value("-2.25"));
  EXPECT_EQ(add_values(Value("-0.5"), Value("0.50"), numeric), Value("0.00"));
  EXPECT_EQ(add_values(Value("Infinity"), Value("1.5"), numeric), Value("Infinity"));
  EXPECT_EQ(add_values(Value(2), Value(null), ColumnType::integer), Value(2));
  EXPECT_DOUBLE_EQ(add_values(Value(1), Value(0.5), ColumnType::unknown).as<double>(), 1.5);
  // Both databases fail when an integer sum overflows; so does the merge.
  try {
    add_values(Value(std::numeric_limits<std::int64_t>::max()), Value(1), ColumnType::integer);
    ADD_FAILURE() << "expected an overflow";
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "22003");
  }
  EXPECT_THROW(add_values(Value("1 day"), Value("2 days"), ColumnType::other), Error);
}

TEST(ShardValues, TextIsTextWhateverItLooksLike) {
  for (ColumnType type : {ColumnType::text, ColumnType::unknown}) {
    EXPECT_LT(compare_values(Value("10"), Value("9"), type), 0);
    EXPECT_LT(compare_values(Value("10"), Value("5a"), type), 0);
    EXPECT_LT(compare_values(Value("5a"), Value("9"), type), 0);
    EXPECT_LT(compare_values(Value("02134"), Value("1001"), type), 0);
  }
  // SQLite's order of kinds: numbers before text before bytes.
  EXPECT_LT(compare_values(Value(99), Value("1"), ColumnType::unknown), 0);
  EXPECT_LT(compare_values(Value("zz"), Value(Bytes{std::byte{0}}), ColumnType::unknown), 0);
}

// compare_values is a total order on a mix of values of each column type: antisymmetric and
// transitive on every triple (a cycle breaks the k-way merge and std::stable_sort).
TEST(ShardValues, CompareIsATotalOrder) {
  const std::vector<Value> values{
      Value("9"),    Value("10"), Value("5a"),  Value("010"), Value("1.0"),
      Value("1.00"), Value("-1"), Value("NaN"), Value(""),    Value(1),
      Value(1.0),    Value(-0.5), Value(true),  Value(false), Value(std::int64_t{1} << 62)};
  for (ColumnType type : {ColumnType::text, ColumnType::numeric, ColumnType::unknown}) {
    for (const Value& a : values) {
      for (const Value& b : values) {
        const int ab = compare_values(a, b, type);
        EXPECT_EQ(ab, -compare_values(b, a, type))
            << a.to_display_string() << " vs " << b.to_display_string();
        for (const Value& c : values) {
          if (ab <= 0 && compare_values(b, c, type) <= 0) {
            EXPECT_LE(compare_values(a, c, type), 0)
                << to_string(type) << ": " << a.to_display_string()
                << " <= " << b.to_display_string() << " <= " << c.to_display_string();
          }
        }
      }
    }
  }
}

TEST(ShardValues, GroupKeysAreSqlEquality) {
  auto key = [](const Value& v, ColumnType type) {
    std::string k;
    append_key(k, {v, type});
    return k;
  };
  using T = ColumnType;
  EXPECT_EQ(key(Value(1), T::unknown), key(Value(1.0), T::unknown));
  EXPECT_EQ(key(Value("1.0"), T::numeric), key(Value("1.00"), T::numeric));
  EXPECT_EQ(key(Value("1.0"), T::numeric), key(Value(1), T::integer));
  EXPECT_EQ(key(Value("-0.00"), T::numeric), key(Value("0"), T::numeric));
  EXPECT_EQ(key(Value(-0.0), T::real), key(Value(0), T::integer));
  EXPECT_EQ(key(Value("12.500"), T::numeric), key(Value("12.5"), T::numeric));
  EXPECT_NE(key(Value("1.0"), T::text), key(Value("1.00"), T::text));
  EXPECT_NE(key(Value("1"), T::text), key(Value(1), T::integer));
  EXPECT_NE(key(Value(0.5), T::real), key(Value(1), T::integer));
  EXPECT_NE(key(Value("0.5"), T::numeric), key(Value("5"), T::numeric));
}

}  // namespace
}  // namespace nexdb::test
