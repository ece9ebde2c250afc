// What the monitor reads from a server in one sample: PostgreSQL's statistics views, or a
// SQLite file's page counts. Plain data; the monitor turns it into metrics and observations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/connection.hpp"

namespace nexdb::monitor_detail {

struct RunningQuery {
  std::string query{};
  double seconds = 0;
};

/// A pg_stat_statements row.
struct ServerStatement {
  std::string queryid{};
  std::string query{};
  std::uint64_t calls = 0;
  double total_ms = 0;
  double mean_ms = 0;
};

struct PgSample {
  bool in_recovery = false;
  std::int64_t max_connections = 0;
  std::int64_t xact_commit = 0;
  std::int64_t xact_rollback = 0;
  std::int64_t blks_read = 0;
  std::int64_t blks_hit = 0;
  std::int64_t deadlocks = 0;
  std::map<std::string, std::int64_t> connections{};  // client backends by state
  double idle_in_transaction_seconds = 0;             // longest
  double lock_wait_seconds = 0;                       // longest
  std::uint64_t wal_lsn = 0;      // primary: current insert position; replica: replayed
  std::uint64_t receive_lsn = 0;  // replica: received
  double replay_age_seconds = 0;  // replica: now() - last replayed commit
  std::vector<RunningQuery> running{};
  /// nullopt: not asked for, or pg_stat_statements is not available.
  std::optional<std::vector<ServerStatement>> statements{};
};

struct PgSampleOptions {
  /// Report statements running longer than this.
  double running_longer_than_seconds = 1;
  /// Top statements by mean time from pg_stat_statements (0 = do not ask).
  std::size_t slow_statements = 0;
};

/// Runs the statistics queries on `connection`. A missing pg_stat_statements is not an error
/// (statements stays nullopt); anything else throws.
PgSample sample_postgres(Connection& connection, const PgSampleOptions& options);

struct SqliteSample {
  std::int64_t page_size = 0;
  std::int64_t page_count = 0;
  std::int64_t freelist_count = 0;
  /// The sampled connection's page cache since its previous sample (not the monitor's reads).
  std::optional<std::uint64_t> cache_hits{};
  std::uint64_t cache_misses = 0;
};
SqliteSample sample_sqlite(Connection& connection);

/// The comment our statistics queries start with (pg_stat_statements rows with it are ours).
inline constexpr std::string_view monitor_marker = "/* nexdb monitor */";

}  // namespace nexdb::monitor_detail
