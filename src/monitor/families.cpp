#include "monitor/families.hpp"

#include <chrono>

namespace nexdb::monitor_detail {
namespace {

const std::vector<std::string> host_labels{"cluster", "host"};

std::vector<std::string> with(std::string extra) {
  std::vector<std::string> labels = host_labels;
  labels.push_back(std::move(extra));
  return labels;
}

// PoolStats::acquire_wait's bounds in seconds; its last bound (max) is Prometheus' +Inf.
std::vector<double> acquire_wait_buckets() {
  std::vector<double> out;
  for (std::size_t i = 0; i + 1 < acquire_wait_bounds.size(); ++i) {
    out.push_back(std::chrono::duration<double>(acquire_wait_bounds[i]).count());
  }
  return out;
}

}  // namespace

HostFamilies::HostFamilies(metrics::Registry& r)
    : up(r.gauge("nexdb_up", "1 when the host answered the monitor's last sample, else 0",
                 host_labels)),
      is_primary(r.gauge("nexdb_host_is_primary", "PostgreSQL: 1 on the primary, 0 on a replica",
                         host_labels)),
      server_connections(r.gauge("nexdb_server_connections",
                                 "Client connections to the server by state (pg_stat_activity)",
                                 with("state"))),
      max_connections(
          r.gauge("nexdb_server_max_connections", "The server's max_connections", host_labels)),
      transactions(r.counter("nexdb_server_transactions_total",
                             "Transactions of the database by outcome (pg_stat_database)",
                             with("outcome"))),
      transactions_per_second(
          r.gauge("nexdb_server_transactions_per_second",
                  "Commits plus rollbacks per second over the last monitor interval", host_labels)),
      blocks_hit(r.counter("nexdb_server_blocks_hit_total",
                           "Buffer cache hits of the database (pg_stat_database.blks_hit)",
                           host_labels)),
      blocks_read(r.counter("nexdb_server_blocks_read_total",
                            "Blocks read from disk or the OS cache (pg_stat_database.blks_read)",
                            host_labels)),
      cache_hit_ratio(
          r.gauge("nexdb_cache_hit_ratio",
                  "Buffer cache hit ratio over the last monitor interval: hits / (hits + reads)",
                  host_labels)),
      deadlocks(r.counter("nexdb_server_deadlocks_total",
                          "Deadlocks detected in the database (pg_stat_database.deadlocks)",
                          host_labels)),
      lag_bytes(
          r.gauge("nexdb_replication_lag_bytes",
                  "Replica: WAL bytes between the primary's position and this replica's replay",
                  host_labels)),
      lag_seconds(r.gauge("nexdb_replication_lag_seconds",
                          "Replica: age of the last replayed transaction, 0 when caught up",
                          host_labels)),
      lock_wait(r.gauge("nexdb_server_lock_wait_max_seconds",
                        "Longest current wait for a lock (pg_locks.waitstart)", host_labels)),
      idle_in_transaction(r.gauge("nexdb_server_idle_in_transaction_max_seconds",
                                  "Longest current idle-in-transaction session", host_labels)),
      statement_mean(r.gauge("nexdb_slow_statement_mean_seconds",
                             "pg_stat_statements: mean time of the slowest statements",
                             {"cluster", "host", "queryid", "query"})),
      statement_calls(r.gauge("nexdb_slow_statement_calls",
                              "pg_stat_statements: calls of the slowest statements",
                              {"cluster", "host", "queryid", "query"})),
      sqlite_size(r.gauge("nexdb_sqlite_size_bytes",
                          "SQLite: database file size (page_count * page_size)", host_labels)),
      sqlite_free(r.gauge("nexdb_sqlite_free_bytes",
                          "SQLite: unused pages (freelist_count * page_size)", host_labels)),
      sqlite_cache_hits(r.counter("nexdb_sqlite_cache_hits_total",
                                  "SQLite: page cache hits of the connections the monitor sampled",
                                  host_labels)),
      sqlite_cache_misses(r.counter(
          "nexdb_sqlite_cache_misses_total",
          "SQLite: page cache misses of the connections the monitor sampled", host_labels)),
      sample_errors(r.counter("nexdb_monitor_sample_errors_total",
                              "Samples of a host that failed (host down, query error)",
                              host_labels)) {}

PoolFamilies::PoolFamilies(metrics::Registry& r)
    : connections(r.gauge("nexdb_pool_connections", "Open pool connections by state (idle, active)",
                          with("state"))),
      waiting(r.gauge("nexdb_pool_waiting", "Callers waiting for a pool connection", host_labels)),
      max_size(r.gauge("nexdb_pool_max_size", "The pool's max_size", host_labels)),
      acquired(r.counter("nexdb_pool_acquired_total", "Connections handed out by the pool",
                         host_labels)),
      timeouts(r.counter("nexdb_pool_timeouts_total",
                         "acquire() calls that timed out (PoolExhausted)", host_labels)),
      created(r.counter("nexdb_pool_connections_created_total", "Connections the pool opened",
                        host_labels)),
      closed(r.counter("nexdb_pool_connections_closed_total",
                       "Connections the pool closed (broken, idle, lifetime, shutdown)",
                       host_labels)),
      validation_failures(r.counter("nexdb_pool_validation_failures_total",
                                    "Idle connections that failed their check before use",
                                    host_labels)),
      leaks(r.counter("nexdb_pool_leaks_detected_total",
                      "Leases held past leak_detection_threshold", host_labels)),
      acquire_wait(r.histogram("nexdb_pool_acquire_wait_seconds",
                               "Time callers waited for a connection", host_labels,
                               acquire_wait_buckets())) {}

void PoolFamilies::set(std::string_view cluster, std::string_view host, const PoolStats& s,
                       std::size_t max) {
  const auto d = [](auto v) { return static_cast<double>(v); };
  connections.with({cluster, host, "idle"}).set(d(s.idle));
  connections.with({cluster, host, "active"}).set(d(s.active));
  waiting.with({cluster, host}).set(d(s.waiting));
  max_size.with({cluster, host}).set(d(max));
  acquired.with({cluster, host}).set_total(d(s.acquired));
  timeouts.with({cluster, host}).set_total(d(s.timeouts));
  created.with({cluster, host}).set_total(d(s.created));
  closed.with({cluster, host}).set_total(d(s.destroyed));
  validation_failures.with({cluster, host}).set_total(d(s.validation_failures));
  leaks.with({cluster, host}).set_total(d(s.leaks_detected));
  acquire_wait.with({cluster, host})
      .set_counts(s.acquire_wait, std::chrono::duration<double>(s.acquire_wait_sum).count());
}

MonitorFamilies::MonitorFamilies(metrics::Registry& r)
    : sample_duration(r.gauge("nexdb_monitor_sample_duration_seconds",
                              "How long the monitor's last sample of every target took")),
      alerts_firing(
          r.gauge("nexdb_alerts_firing", "Alerts firing now, by rule", {"alertname", "severity"})),
      notifications(r.counter("nexdb_alert_notifications_total",
                              "Alert notifications by sink and outcome (ok, failed)",
                              {"sink", "outcome"})) {}

}  // namespace nexdb::monitor_detail
