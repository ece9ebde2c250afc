#include "shard_compare.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "nexdb/error.hpp"
#include "shard/values.hpp"

namespace nexdb::test {
namespace {

bool is_number(const Value& v, ColumnType type) {
  return v.type() == ValueType::integer || v.type() == ValueType::real ||
         (type == ColumnType::numeric && v.type() == ValueType::text);
}

// Numbers are equal by value: exactly, unless a float is involved (float sums depend on the order
// they are added in; cross-shard avg is double precision where PostgreSQL's is numeric).
bool same_value(const Value& a, ColumnType ta, const Value& b, ColumnType tb) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (!is_number(a, ta) || !is_number(b, tb)) return a == b;
  const bool floating = a.type() == ValueType::real || b.type() == ValueType::real;
  if (!floating) return shard_detail::compare_values({a, ta}, {b, tb}) == 0;
  const double x = shard_detail::to_double(a);
  const double y = shard_detail::to_double(b);
  return std::abs(x - y) <= 1e-9 * std::max({1.0, std::abs(x), std::abs(y)});
}

std::string show(const Rows& rows, std::size_t r) {
  std::vector<std::string> values;
  for (std::size_t c = 0; c < rows.column_count(); ++c)
    values.push_back(rows.value(r, c).to_display_string());
  return fmt::format("({})", fmt::join(values, ", "));
}

}  // namespace

std::vector<std::string> shard_test_tables(Dialect dialect) {
  const bool pg = dialect == Dialect::postgres;
  // orders.code: digit strings in a text column; orders.amount: numbers of mixed scale, an
  // unconstrained numeric on PostgreSQL, a column without type on SQLite (integers and reals).
  return {"CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL, country TEXT)",
          fmt::format("CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status "
                      "TEXT NOT NULL, total {} NOT NULL, qty INTEGER NOT NULL, created_at {} NOT "
                      "NULL, note TEXT, code TEXT NOT NULL, amount {})",
                      pg ? "NUMERIC(12,2)" : "REAL", pg ? "TIMESTAMPTZ" : "TIMESTAMP",
                      pg ? "NUMERIC" : ""),
          "CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT NOT NULL)"};
}

ShardConfig shard_test_config(const std::vector<std::string>& uris, ShardFunction function) {
  ShardConfig config{.shard_key = "user_id",
                     .function = function,
                     .table_keys = {{"users", "id"}},
                     .reference_tables = {"countries"}};
  for (std::size_t i = 0; i < uris.size(); ++i) config.shard_map[i] = uris[i];
  return config;
}

void clear_tables(ShardManager& shards, Database& reference) {
  for (const char* sql : {"DELETE FROM orders", "DELETE FROM users", "DELETE FROM countries"}) {
    for (std::size_t s = 0; s < shards.shard_count(); ++s) shards.execute_on(s, Statement{sql, {}});
    reference.execute(sql);
  }
}

void load_random(ShardManager& shards, Database& reference, std::uint64_t seed, int users,
                 int orders) {
  std::mt19937_64 random(seed);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<std::uint64_t>(n)); };
  static constexpr const char* countries[] = {"de", "fr", "jp", "br", "us"};
  static constexpr const char* statuses[] = {"new", "paid", "shipped", "delivered", "returned"};
  const Dialect dialect = shards.dialect();
  auto placeholders = [&](int first, int count) {
    std::vector<std::string> p;
    for (int i = 0; i < count; ++i)
      p.push_back(fmt::format("{}{}", dialect == Dialect::postgres ? '$' : '?', first + i));
    return fmt::format("({})", fmt::join(p, ", "));
  };
  const ShardTransactionOptions best_effort{.sqlite_best_effort = true};
  // The reference table: written to every shard by one routed INSERT.
  const Statement reference_rows{
      fmt::format("INSERT INTO countries (code, name) VALUES {}, {}, {}, {}", placeholders(1, 2),
                  placeholders(3, 2), placeholders(5, 2), placeholders(7, 2)),
      {"de", "Germany", "fr", "France", "jp", "Japan", "br", "Brazil"}};
  shards.transaction([&](ShardTransaction& tx) { tx.execute(reference_rows); }, best_effort);
  reference.execute(reference_rows);
  // Users: ten rows per INSERT, so every statement is split over several shards.
  for (int first = 1; first <= users; first += 10) {
    Statement insert{"INSERT INTO users (id, name, country) VALUES ", {}};
    for (int id = first; id < std::min(users + 1, first + 10); ++id) {
      insert.sql +=
          (id == first ? "" : ", ") + placeholders(static_cast<int>(insert.params.size()) + 1, 3);
      insert.params.insert(insert.params.end(),
                           {Value(id), Value(fmt::format("user {}", id)),
                            pick(7) == 0 ? Value(null) : Value(countries[pick(5)])});
    }
    shards.transaction([&](ShardTransaction& tx) { tx.execute(insert); }, best_effort);
    reference.execute(insert);
  }
  const Timestamp base = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::sys_days(std::chrono::year(2026) / 1 / 1));
  // Text that looks like numbers (ordered bytewise, '10' < '5a' < '9'), and amounts equal in
  // value but not in spelling (1, 1.0, 1.00).
  static constexpr const char* codes[] = {"9", "10", "5a", "010", "100", "a", "A", "Z9", "0", "-1"};
  static constexpr const char* amounts[] = {"1",  "1.0",    "1.00", "2.5", "2.50",
                                            "10", "10.000", "-0.5", "0",   "0.0"};
  auto amount = [&](std::string_view text) {
    if (dialect == Dialect::postgres) return Value(text);
    if (text.find('.') == std::string_view::npos) return Value(std::stoll(std::string(text)));
    return Value(std::stod(std::string(text)));
  };
  for (int first = 1; first <= orders; first += 25) {
    Statement insert{
        "INSERT INTO orders (id, user_id, status, total, qty, created_at, note, code, amount) "
        "VALUES ",
        {}};
    for (int id = first; id < std::min(orders + 1, first + 25); ++id) {
      insert.sql +=
          (id == first ? "" : ", ") + placeholders(static_cast<int>(insert.params.size()) + 1, 9);
      const double total = static_cast<double>(pick(20000)) / 100.0;  // ties are likely
      insert.params.insert(
          insert.params.end(),
          {Value(id), Value(1 + pick(users)), Value(statuses[pick(5)]), Value(total),
           Value(1 + pick(9)), Value(base + std::chrono::minutes(pick(100000))),
           pick(4) == 0 ? Value(null) : Value(fmt::format("note {}", pick(50))),
           Value(codes[pick(10)]), pick(8) == 0 ? Value(null) : amount(amounts[pick(10)])});
    }
    shards.transaction([&](ShardTransaction& tx) { tx.execute(insert); }, best_effort);
    reference.execute(insert);
  }
}

std::vector<ComparisonQuery> comparison_queries() {
  return {
      {"SELECT id, user_id, total FROM orders ORDER BY total DESC, id LIMIT 10", {}},
      {"SELECT id, user_id, total FROM orders ORDER BY total DESC, id LIMIT $1 OFFSET $2",
       {Value(8), Value(13)}},
      {"SELECT * FROM orders ORDER BY total, id LIMIT 100", {}},
      {"SELECT id FROM orders ORDER BY created_at DESC, id LIMIT 15", {}},
      {"SELECT id, note FROM orders ORDER BY note DESC NULLS FIRST, id LIMIT 20", {}},
      {"SELECT id, note FROM orders ORDER BY note, id LIMIT 1000 OFFSET 290", {}},
      {"SELECT count(*), sum(total), min(total), max(total), avg(total), sum(qty), avg(qty) FROM "
       "orders",
       {}},
      {"SELECT count(*) AS n, max(note), min(created_at) FROM orders WHERE status = $1",
       {Value("no such status")}},
      {"SELECT status, count(*), sum(qty), avg(qty), min(note) FROM orders GROUP BY status ORDER "
       "BY status",
       {}},
      {"SELECT status, count(*) AS n FROM orders GROUP BY status HAVING count(*) > $1 ORDER BY n "
       "DESC, status",
       {Value(55)}},
      {"SELECT status, sum(total) FROM orders WHERE qty > 2 GROUP BY status ORDER BY 2 DESC, 1",
       {}},
      {"SELECT status FROM orders GROUP BY status HAVING max(total) > 190 AND min(qty) = 1 ORDER "
       "BY status",
       {}},
      {"SELECT qty, count(*) FROM orders GROUP BY qty ORDER BY count(*) DESC, qty LIMIT 3", {}},
      {"SELECT DISTINCT status FROM orders ORDER BY status", {}},
      {"SELECT DISTINCT qty, status FROM orders WHERE qty < 3 ORDER BY qty, status LIMIT 7", {}},
      {"SELECT user_id, count(*), sum(qty) FROM orders GROUP BY user_id ORDER BY count(*) DESC, "
       "user_id LIMIT 5",
       {}},
      {"SELECT u.country, count(*) AS orders, sum(o.qty) FROM orders o JOIN users u ON u.id = "
       "o.user_id "
       "GROUP BY u.country ORDER BY u.country NULLS LAST",
       {}},
      {"SELECT u.name, o.id, o.total FROM users u JOIN orders o ON o.user_id = u.id ORDER BY "
       "o.total DESC, o.id "
       "LIMIT 12",
       {}},
      {"SELECT id, status FROM orders WHERE user_id = $1 ORDER BY id", {Value(7)}},
      {"SELECT id FROM orders WHERE user_id IN (1, 2, 3, 4, 5, 6) ORDER BY id", {}},
      {"SELECT count(*) FROM orders WHERE user_id = 3 OR user_id = '4'", {}},
      {"SELECT country, count(*) FROM users GROUP BY country HAVING country IS NOT NULL ORDER BY "
       "country",
       {}},
      // Review defect 5: digit strings in a text column are text.
      {"SELECT code, count(*) FROM orders GROUP BY code ORDER BY code", {}},
      {"SELECT min(code), max(code) FROM orders", {}},
      {"SELECT id, code FROM orders ORDER BY code DESC, id LIMIT 20", {}},
      // Review defect 3: GROUP BY code is the column, not the alias.
      {"SELECT lower(code) AS code, count(*) FROM orders GROUP BY code ORDER BY 1, 2", {}},
      // Review defect 4: 1, 1.0 and 1.00 are one value.
      {"SELECT DISTINCT amount FROM orders ORDER BY amount", {}},
      {"SELECT amount, count(*), sum(qty) FROM orders GROUP BY amount ORDER BY amount", {}},
      {"SELECT count(*), sum(amount), min(amount), max(amount) FROM orders", {}},
      // Grouped with OFFSET; NULLs where each dialect puts them by default, descending too.
      {"SELECT status, count(*) FROM orders GROUP BY status ORDER BY status LIMIT 2 OFFSET 1", {}},
      {"SELECT id, note FROM orders ORDER BY note DESC, id LIMIT 30", {}},
      {"SELECT id, note FROM orders ORDER BY note, id LIMIT 30", {}},
      {"SELECT amount, count(*) FROM orders GROUP BY amount ORDER BY amount DESC LIMIT 3", {}},
      // Review defect 1: what each shard answers from its own rows, or one shard alone.
      {"SELECT 1 AS one", {}},
      {"SELECT count(*) FROM countries", {}},
      {"SELECT c.name, count(*) FROM users u JOIN countries c ON c.code = u.country GROUP BY "
       "c.name "
       "ORDER BY c.name",
       {}},
      {"WITH big AS (SELECT * FROM orders WHERE total > 100) SELECT status, count(*) FROM big "
       "GROUP "
       "BY status ORDER BY status",
       {}},
      {"SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) AS n FROM users u "
       "ORDER "
       "BY n DESC, u.id LIMIT 10",
       {}},
      {"SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM orders WHERE total > 150)", {}},
      {"SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = "
       "u.id)",
       {}},
      {"SELECT max(n), min(n), count(*) FROM (SELECT user_id, count(*) AS n FROM orders GROUP BY "
       "user_id) t",
       {}},
      {"SELECT user_id, id, total FROM (SELECT user_id, id, total, row_number() OVER (PARTITION BY "
       "user_id ORDER BY total DESC, id) AS r FROM orders) t WHERE r = 1 ORDER BY total DESC, id "
       "LIMIT 10",
       {}},
      {"SELECT count(*), sum(o.qty) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.country "
       "= $1",
       {Value("jp")}},
  };
}

std::vector<ComparisonQuery> refused_queries() {
  return {
      {"WITH c AS (SELECT count(*) AS n FROM orders) SELECT n FROM c", {}},
      {"SELECT id FROM orders WHERE total > (SELECT avg(total) FROM orders)", {}},
      {"SELECT count(*) FROM (SELECT DISTINCT status FROM orders) s", {}},
      {"SELECT (SELECT count(*) FROM orders) AS n", {}},
      {"SELECT count(*) FROM countries c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.status = "
       "'new')",
       {}},
      {"SELECT o.id FROM orders o JOIN users u ON u.name = o.status", {}},
      {"SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM orders ORDER BY total DESC "
       "LIMIT 5)",
       {}},
      {"SELECT count(*) FROM orders WHERE status IN (SELECT status FROM orders WHERE qty > 8)", {}},
      {"SELECT count(*) FROM orders WHERE user_id = $1 AND status IN (SELECT status FROM orders "
       "WHERE qty > 8)",
       {Value(3)}},
  };
}

Statement for_dialect(const ComparisonQuery& query, Dialect dialect) {
  std::string sql = query.sql;
  if (dialect == Dialect::sqlite) std::replace(sql.begin(), sql.end(), '$', '?');
  return Statement{std::move(sql), query.params};
}

void expect_same_rows(const Rows& sharded, const Rows& reference, const std::string& what) {
  EXPECT_EQ(sharded.columns(), reference.columns()) << what;
  for (std::size_t c = 0; c < std::min(sharded.column_count(), reference.column_count()); ++c) {
    // The merge keeps the databases' column types; cross-shard avg is double precision (where
    // PostgreSQL's is numeric and SQLite declares no type for it).
    const ColumnType s = sharded.column_type(c);
    const ColumnType r = reference.column_type(c);
    EXPECT_TRUE(s == r ||
                (s == ColumnType::real && (r == ColumnType::numeric || r == ColumnType::unknown)))
        << what << ": column " << c << " is " << to_string(s) << ", unsharded " << to_string(r);
  }
  ASSERT_EQ(sharded.size(), reference.size()) << what;
  for (std::size_t r = 0; r < reference.size(); ++r) {
    bool same = sharded.column_count() == reference.column_count();
    for (std::size_t c = 0; same && c < reference.column_count(); ++c) {
      same = same_value(sharded.value(r, c), sharded.column_type(c), reference.value(r, c),
                        reference.column_type(c));
    }
    EXPECT_TRUE(same) << what << "\n  row " << r << ": sharded " << show(sharded, r)
                      << "\n  unsharded " << show(reference, r);
    if (!same) return;
  }
}

void compare_all(ShardManager& shards, Database& reference, const std::string& data_set) {
  for (const ComparisonQuery& query : comparison_queries()) {
    const Statement statement = for_dialect(query, shards.dialect());
    const std::string what = data_set + ": " + statement.sql;
    Rows sharded;
    try {
      sharded = shards.execute(statement);
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " failed on the shards: " << e.what();
      continue;
    }
    expect_same_rows(sharded, reference.execute(statement), what);
  }
  for (const ComparisonQuery& query : refused_queries()) {
    const Statement statement = for_dialect(query, shards.dialect());
    EXPECT_THROW(shards.execute(statement), UnroutableStatement)
        << data_set << ": " << statement.sql;
  }
}

}  // namespace nexdb::test
