// ShardManager::status(): what `nexdb shard status` shows for each cluster.
#include <fmt/format.h>

#include "nexdb/identifier.hpp"
#include "nexdb/shard.hpp"
#include "shard/shard_state.hpp"
#include "shard/two_phase.hpp"

namespace nexdb {
namespace {

// Tables of the current schema (PostgreSQL) or the file (SQLite) with their columns.
std::vector<std::pair<std::string, std::string>> table_columns(Connection& connection) {
  const char* sql =
      connection.dialect() == Dialect::postgres
          ? "SELECT table_name::text, column_name::text FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
          : "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p "
            "WHERE m.type = 'table' ORDER BY m.name, p.cid";
  std::vector<std::pair<std::string, std::string>> out;
  for (Row row : connection.execute(sql))
    out.emplace_back(row.get<std::string>(0), row.get<std::string>(1));
  return out;
}

// The tables that hold the shard key: every table with a column named like its key column.
std::vector<std::string> sharded_tables(Connection& connection, const ShardConfig& config) {
  std::vector<std::string> tables;
  for (const auto& [table, column] : table_columns(connection)) {
    if (column == config.key_column(table) && (tables.empty() || tables.back() != table))
      tables.push_back(table);
  }
  return tables;
}

}  // namespace

std::vector<ShardClusterStatus> ShardManager::status(const std::vector<std::string>& tables) {
  std::vector<ShardClusterStatus> out;
  for (const auto& cluster : state_->clusters) {
    if (cluster->shards.empty()) continue;  // the lookup directory's own cluster
    ShardClusterStatus s{
        .cluster = cluster->name, .shards = cluster->shards, .host = cluster->host};
    try {
      Lease lease = cluster->read();
      const auto names = tables.empty() ? sharded_tables(*lease, state_->config) : tables;
      for (const auto& table : names) {
        const Rows count =
            lease->execute(fmt::format("SELECT count(*) FROM {}", quote_identifier(table)));
        s.tables.push_back({table, count.scalar<std::int64_t>()});
      }
      if (lease->dialect() == Dialect::postgres) {
        s.in_doubt =
            lease
                ->execute(Statement{"SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE $1 "
                                    "AND database = current_database()",
                                    {"nexdb:%:" + shard_detail::cluster_tag(cluster->name)}})
                .scalar<std::int64_t>();
      }
      s.reachable = true;
    } catch (const std::exception& e) {
      s.error = e.what();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace nexdb
