// The demo's sharding step: the seed's 4-shard map on four SQLite files, the demo's users and
// orders spread over them by user_id, get_user_orders routed to one shard, and a top-100 across
// all four merged into exactly what the unsharded database answers.
#include <fmt/format.h>

#include <filesystem>

#include "demo_models.hpp"
#include "demo_step.hpp"
#include "nexdb/global_id.hpp"
#include "nexdb/shard.hpp"

namespace nexdb::cli {
namespace {

constexpr std::size_t kBatch = 500;
constexpr const char* kShardDir = "nexdb-data/shards";

// The seed's map: four shards, clusters db-shard-1 .. db-shard-4 (here SQLite files).
ShardManager seed_shard_map() {
  std::vector<ClusterConfig> clusters;
  ShardConfig config{.shard_key = "user_id",
                     .function = ShardFunction::hash,
                     .num_shards = 4,
                     .table_keys = {{"users", "id"}}};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string name = fmt::format("db-shard-{}", i + 1);
    config.shard_map[i] = name;
    clusters.push_back(
        ClusterConfig{.name = name, .primary = fmt::format("sqlite:{}/{}.db", kShardDir, name)});
  }
  return ShardManager(config, clusters);
}

std::string schema_sql(Database& db, std::string_view table) {
  return db
      .execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
               std::string(table))
      .scalar<std::string>();
}

// Copies `table` from the demo database into the shards: rows grouped by their shard, so each
// INSERT (and its transaction) stays on one shard.
std::size_t copy_rows(Database& from, ShardManager& shards, std::string_view table,
                      std::string_view key) {
  const Rows rows = from.execute(fmt::format("SELECT * FROM {} ORDER BY id", table));
  const std::size_t key_column = rows.column_index(key);
  std::vector<std::vector<std::size_t>> by_shard(shards.shard_count());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    by_shard[shards.shard_for(rows.value(r, key_column).as<std::int64_t>())].push_back(r);
  }
  const std::string columns = fmt::format("{}", fmt::join(rows.columns(), ", "));
  for (const auto& indexes : by_shard) {
    for (std::size_t first = 0; first < indexes.size(); first += kBatch) {
      Statement insert{fmt::format("INSERT INTO {} ({}) VALUES ", table, columns), {}};
      for (std::size_t i = first; i < std::min(indexes.size(), first + kBatch); ++i) {
        std::vector<std::string> marks(rows.column_count(), "?");
        insert.sql += fmt::format("{}({})", i == first ? "" : ", ", fmt::join(marks, ", "));
        for (std::size_t c = 0; c < rows.column_count(); ++c)
          insert.params.push_back(rows.value(indexes[i], c));
      }
      shards.execute(insert);
    }
  }
  return rows.size();
}

bool same_rows(const Rows& a, const Rows& b) {
  if (a.size() != b.size() || a.columns() != b.columns()) return false;
  for (std::size_t r = 0; r < a.size(); ++r) {
    for (std::size_t c = 0; c < a.column_count(); ++c) {
      if (!(a.value(r, c) == b.value(r, c))) return false;
    }
  }
  return true;
}

}  // namespace

void demo_shards(DemoContext& demo) {
  demo.heading(
      "Sharding: the seed's 4-shard map on four SQLite files, users and orders spread by user_id");
  std::filesystem::remove_all(kShardDir);
  std::filesystem::create_directories(kShardDir);
  // The demo database is SQLite, or PostgreSQL with --postgres; the shards are SQLite files either
  // way.
  Database& db = demo.db;
  const bool sqlite_source = db.dialect() == Dialect::sqlite;
  ShardManager shards = seed_shard_map();
  for (std::string_view table : {"users", "orders"}) {
    const std::string ddl = sqlite_source ? schema_sql(db, table)
                            : table == "users"
                                ? "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL "
                                  "UNIQUE, status TEXT, created_at TIMESTAMP NOT NULL)"
                                : "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER "
                                  "NOT NULL, status TEXT NOT NULL, total REAL NOT NULL, "
                                  "created_at TIMESTAMP NOT NULL)";
    shards.execute_on_all(ddl, {.sqlite_best_effort = true});  // DDL on every shard
  }
  const std::size_t users = copy_rows(db, shards, "users", "id");
  const std::size_t orders = copy_rows(db, shards, "orders", "user_id");

  std::vector<std::vector<std::string>> table;
  Json spread = Json::array();
  for (const ShardClusterStatus& s : shards.status({"users", "orders"})) {
    const auto shard = s.shards.front();
    const KeyRange range = shards.key_range(shard);
    table.push_back({std::to_string(shard), s.cluster, range.to_string(),
                     std::to_string(s.tables[0].rows), std::to_string(s.tables[1].rows)});
    spread.push_back({{"shard", shard},
                      {"cluster", s.cluster},
                      {"key_range", range.to_string()},
                      {"users", s.tables[0].rows},
                      {"orders", s.tables[1].rows}});
  }
  demo.line(fmt::format(
      "    {} users and {} orders copied; shard = the key range holding XXH3(user_id):", users,
      orders));
  if (demo.text()) demo.term.table({"shard", "cluster", "hash range", "users", "orders"}, table);

  const auto seed_query = get_user_orders(42);
  const Route route = shards.route(seed_query);
  const Rows pinned = shards.execute(seed_query);
  const bool pinned_same = same_rows(pinned, db.execute(seed_query));
  demo.line(
      fmt::format("    get_user_orders(42): {} -> {} rows from {} only (same as unsharded: {})",
                  route.reason, pinned.size(), route.clusters.front(), pinned_same ? "yes" : "NO"));

  const auto top = select(Order.id, Order.user_id, Order.total)
                       .from(Order)
                       .order_by(Order.total.desc(), Order.id.asc())
                       .limit(100);
  const Route fan_out = shards.route(top);
  const auto start = std::chrono::steady_clock::now();
  const Rows merged = shards.execute(top);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  const bool top_same = same_rows(merged, db.execute(top));
  demo.line(fmt::format(
      "    top 100 orders by total: {} shards queried in parallel, each LIMIT 100, k-way merged "
      "in {} us (same as unsharded: {})",
      fan_out.shards.size(), us, top_same ? "yes" : "NO"));
  if (demo.text() && merged.size() >= 3) {
    std::vector<std::vector<std::string>> first;
    for (std::size_t r = 0; r < 3; ++r) {
      const auto user = merged.value(r, 1).as<std::int64_t>();
      first.push_back({std::to_string(merged.value(r, 0).as<std::int64_t>()), std::to_string(user),
                       fmt::format("{:.2f}", merged.value(r, 2).as<double>()),
                       std::to_string(shards.shard_for(user))});
    }
    demo.term.table({"order", "user", "total", "from shard"}, first);
  }

  GlobalIdGenerator ids({.node_id = 7});
  const std::int64_t id = ids.next();
  const GlobalIdParts parts = GlobalIdGenerator::decode(id);
  demo.line(
      fmt::format("    new rows get global ids, unique without coordination and time-ordered: {} "
                  "(node {}, sequence {}); `nexdb shard route 42` shows a key's shard",
                  id, parts.node_id, parts.sequence));
  demo.report["shards"] = {
      {"dir", kShardDir},
      {"spread", spread},
      {"get_user_orders",
       {{"route", route.reason}, {"rows", pinned.size()}, {"same", pinned_same}}},
      {"top100", {{"shards", fan_out.shards.size()}, {"rows", merged.size()}, {"same", top_same}}},
      {"global_id", id}};
}

}  // namespace nexdb::cli
