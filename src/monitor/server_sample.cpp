#include "monitor/server_sample.hpp"

#include <string>

#include "driver/sqlite/sqlite_connection.hpp"
#include "nexdb/error.hpp"
#include "nexdb/replica.hpp"

namespace nexdb::monitor_detail {
namespace {

const std::string database_sql =
    std::string(monitor_marker) +
    " SELECT pg_is_in_recovery(), current_setting('max_connections')::int8, d.xact_commit, "
    "d.xact_rollback, d.blks_read, d.blks_hit, d.deadlocks, "
    "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() "
    "END)::text, "
    "COALESCE(pg_last_wal_receive_lsn()::text, ''), "
    "COALESCE(EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 "
    "FROM pg_stat_database d WHERE d.datname = current_database()";

// Client backends of the whole server (max_connections is per server), ours excluded.
const std::string activity_sql =
    std::string(monitor_marker) +
    " SELECT COALESCE(state, 'unknown'), count(*)::int8, "
    "COALESCE(max(EXTRACT(epoch FROM clock_timestamp() - state_change)) "
    "FILTER (WHERE state LIKE 'idle in transaction%'), 0)::float8 "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
    "GROUP BY 1";

const std::string lock_wait_sql =
    std::string(monitor_marker) +
    " SELECT COALESCE(max(EXTRACT(epoch FROM clock_timestamp() - waitstart)), 0)::float8 "
    "FROM pg_locks WHERE NOT granted AND waitstart IS NOT NULL";

const std::string running_sql =
    std::string(monitor_marker) +
    " SELECT query, EXTRACT(epoch FROM clock_timestamp() - query_start)::float8 "
    "FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' "
    "AND pid <> pg_backend_pid() AND query_start < clock_timestamp() - make_interval(secs => $1) "
    "ORDER BY query_start LIMIT 20";

const std::string statements_sql =
    std::string(monitor_marker) +
    " SELECT s.queryid::text, s.calls, s.total_exec_time, s.mean_exec_time, left(s.query, 300) "
    "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
    "WHERE d.datname = current_database() AND s.query NOT LIKE '/* nexdb monitor */%' "
    "ORDER BY s.mean_exec_time DESC LIMIT $1";

void read_database(Connection& c, PgSample& out) {
  Rows rows = c.execute(database_sql);
  if (rows.empty()) throw Error("pg_stat_database has no row for the current database");
  Row r = rows[0];
  out.in_recovery = r.get<bool>(0);
  out.max_connections = r.get<std::int64_t>(1);
  out.xact_commit = r.get<std::int64_t>(2);
  out.xact_rollback = r.get<std::int64_t>(3);
  out.blks_read = r.get<std::int64_t>(4);
  out.blks_hit = r.get<std::int64_t>(5);
  out.deadlocks = r.get<std::int64_t>(6);
  out.wal_lsn = parse_lsn(r.get<std::optional<std::string>>(7).value_or("")).value_or(0);
  out.receive_lsn = parse_lsn(r.get<std::string>(8)).value_or(0);
  out.replay_age_seconds = r.get<double>(9);
}

void read_activity(Connection& c, PgSample& out) {
  for (Row r : c.execute(activity_sql)) {
    out.connections[r.get<std::string>(0)] = r.get<std::int64_t>(1);
    out.idle_in_transaction_seconds = std::max(out.idle_in_transaction_seconds, r.get<double>(2));
  }
  out.lock_wait_seconds = c.execute(lock_wait_sql).scalar<double>();
}

void read_running(Connection& c, double longer_than, PgSample& out) {
  for (Row r : c.execute(running_sql, longer_than)) {
    auto query = r.get<std::optional<std::string>>(0);
    if (query && !query->empty()) out.running.push_back({*query, r.get<double>(1)});
  }
}

void read_statements(Connection& c, std::size_t limit, PgSample& out) {
  std::vector<ServerStatement> statements;
  try {
    for (Row r : c.execute(statements_sql, static_cast<std::int64_t>(limit))) {
      statements.push_back({.queryid = r.get<std::optional<std::string>>(0).value_or(""),
                            .query = r.get<std::optional<std::string>>(4).value_or(""),
                            .calls = static_cast<std::uint64_t>(r.get<std::int64_t>(1)),
                            .total_ms = r.get<double>(2),
                            .mean_ms = r.get<double>(3)});
    }
  } catch (const SqlError& e) {
    // 42P01: the extension is not created here; 55000: its library is not preloaded.
    if (e.sqlstate() == "42P01" || e.sqlstate() == "55000") return;
    throw;
  }
  out.statements = std::move(statements);
}

}  // namespace

PgSample sample_postgres(Connection& connection, const PgSampleOptions& options) {
  PgSample out;
  read_database(connection, out);
  read_activity(connection, out);
  read_running(connection, options.running_longer_than_seconds, out);
  if (options.slow_statements > 0) read_statements(connection, options.slow_statements, out);
  return out;
}

SqliteSample sample_sqlite(Connection& connection) {
  SqliteSample out;
  if (const auto cache = detail::sqlite_take_cache_counts(connection)) {
    out.cache_hits = cache->hits;
    out.cache_misses = cache->misses;
  }
  out.page_size = connection.execute("PRAGMA page_size").scalar<std::int64_t>();
  out.page_count = connection.execute("PRAGMA page_count").scalar<std::int64_t>();
  out.freelist_count = connection.execute("PRAGMA freelist_count").scalar<std::int64_t>();
  (void)detail::sqlite_take_cache_counts(connection);  // our PRAGMAs' reads are not the app's
  return out;
}

}  // namespace nexdb::monitor_detail
