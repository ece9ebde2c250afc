// Shared by the SQLite and PostgreSQL shard tests: the schema, random data sets loaded into the
// shards and into one unsharded database, and queries whose results must be the same on both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nexdb/database.hpp"
#include "nexdb/shard.hpp"

namespace nexdb::test {

/// users (sharded by id), orders (by user_id) and countries (a reference table).
std::vector<std::string> shard_test_tables(Dialect dialect);

/// The shard map of the tests: users by their id, orders by user_id, over `uris`.
ShardConfig shard_test_config(const std::vector<std::string>& uris,
                              ShardFunction function = ShardFunction::hash);

/// Empties both tables everywhere.
void clear_tables(ShardManager& shards, Database& reference);

/// A random data set (`users` users, `orders` orders, NULLs, ties) loaded through the shard
/// manager (multi-row INSERTs split by shard, in cross-shard transactions) and into `reference`.
void load_random(ShardManager& shards, Database& reference, std::uint64_t seed, int users,
                 int orders);

struct ComparisonQuery {
  std::string sql;  // $n parameters (turned into ?n for SQLite)
  std::vector<Value> params;
};
/// Reads over every shard: ORDER BY with LIMIT/OFFSET, aggregates, GROUP BY, HAVING, DISTINCT,
/// NULL ordering, digit strings in text, numbers of mixed scale, joins of co-located tables and
/// of reference tables, subqueries and CTEs each shard answers alone, and pinned ones.
std::vector<ComparisonQuery> comparison_queries();
/// Reads no shard can answer from its own rows: refused with UnroutableStatement.
std::vector<ComparisonQuery> refused_queries();
Statement for_dialect(const ComparisonQuery& query, Dialect dialect);

/// Fails the test unless both results have the same columns, column types and rows (numbers
/// compared exactly by value; floats to 1e-9 relative: their sums depend on the order they are
/// added in).
void expect_same_rows(const Rows& sharded, const Rows& reference, const std::string& what);

/// Runs every comparison query on both and compares; checks that the refused ones are.
void compare_all(ShardManager& shards, Database& reference, const std::string& data_set);

}  // namespace nexdb::test
