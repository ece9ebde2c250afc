// Turning one host's sample into metrics, alert observations and its snapshot.
#include <algorithm>

#include "monitor/monitor_state.hpp"

namespace nexdb::detail {

using namespace monitor_detail;

namespace {

constexpr std::int64_t min_blocks_for_ratio = 100;  // fewer accesses say nothing about the cache

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

void MonitorState::apply_postgres(HostTracker& host, PgSample s, Pass& pass) {
  const auto now = SteadyClock::now();
  const std::string_view cluster = host.cluster;
  const std::string_view label = host.label;
  host_metrics_.is_primary.with({cluster, label}).set(s.in_recovery ? 0 : 1);
  std::int64_t connections = 0;
  for (const auto& [state, count] : s.connections) connections += count;
  HostSnapshot snap{.cluster = host.cluster,
                    .host = host.label,
                    .role = s.in_recovery ? "replica" : "primary",
                    .up = true,
                    .server_connections = s.connections,
                    .max_connections = s.max_connections,
                    .deadlocks = static_cast<std::uint64_t>(s.deadlocks),
                    .lock_wait_seconds = s.lock_wait_seconds,
                    .idle_in_transaction_seconds = s.idle_in_transaction_seconds};
  if (watching("connection_count")) {
    // States seen before but gone now are 0, not stale.
    if (host.previous) {
      for (const auto& [state, count] : host.previous->connections) {
        if (!s.connections.contains(state))
          host_metrics_.server_connections.with({cluster, label, state}).set(0);
      }
    }
    for (const auto& [state, count] : s.connections) {
      host_metrics_.server_connections.with({cluster, label, state})
          .set(static_cast<double>(count));
    }
    host_metrics_.max_connections.with({cluster, label})
        .set(static_cast<double>(s.max_connections));
    observe(pass, "connection_count", host, static_cast<double>(connections));
  }
  if (watching("transactions")) {
    host_metrics_.transactions.with({cluster, label, "commit"})
        .set_total(static_cast<double>(s.xact_commit));
    host_metrics_.transactions.with({cluster, label, "rollback"})
        .set_total(static_cast<double>(s.xact_rollback));
  }
  if (watching("cache_hit_ratio")) {
    host_metrics_.blocks_hit.with({cluster, label}).set_total(static_cast<double>(s.blks_hit));
    host_metrics_.blocks_read.with({cluster, label}).set_total(static_cast<double>(s.blks_read));
  }
  if (watching("deadlock_count"))
    host_metrics_.deadlocks.with({cluster, label}).set_total(static_cast<double>(s.deadlocks));
  if (watching("sessions")) {
    host_metrics_.lock_wait.with({cluster, label}).set(s.lock_wait_seconds);
    host_metrics_.idle_in_transaction.with({cluster, label}).set(s.idle_in_transaction_seconds);
    observe(pass, "lock_wait_ms", host, s.lock_wait_seconds * 1000);
    observe(pass, "idle_in_transaction_ms", host, s.idle_in_transaction_seconds * 1000);
  }
  const double client_deadlocks = queries_->client_deadlocks(cluster, label);
  if (host.previous) {
    const double elapsed = std::max(1e-3, seconds_between(host.previous_at, now));
    const auto& p = *host.previous;
    const double xacts =
        static_cast<double>((s.xact_commit - p.xact_commit) + (s.xact_rollback - p.xact_rollback));
    snap.transactions_per_second = std::max(0.0, xacts / elapsed);
    if (watching("transactions")) {
      host_metrics_.transactions_per_second.with({cluster, label})
          .set(snap.transactions_per_second);
    }
    const std::int64_t hits = s.blks_hit - p.blks_hit;
    const std::int64_t reads = s.blks_read - p.blks_read;
    if (hits + reads > 0) {
      snap.cache_hit_ratio = static_cast<double>(hits) / static_cast<double>(hits + reads);
      if (watching("cache_hit_ratio"))
        host_metrics_.cache_hit_ratio.with({cluster, label}).set(snap.cache_hit_ratio);
    }
    if (hits + reads >= min_blocks_for_ratio && watching("cache_hit_ratio")) {
      observe(pass, "cache_hit_ratio", host, snap.cache_hit_ratio);
    }
    // The server's count lags (statistics are flushed about once a second); ours is immediate.
    const double server = static_cast<double>(s.deadlocks - p.deadlocks);
    const double client = client_deadlocks - host.previous_client_deadlocks;
    if (watching("deadlock_count")) observe(pass, "deadlock_count", host, std::max(server, client));
  }
  if (watching("query_duration")) {
    for (const RunningQuery& q : s.running) {
      const Shape shape = queries_->shape_of(Dialect::postgres, q.query, false);
      queries_->series(cluster, label, shape).note(static_cast<std::int64_t>(q.seconds * 1e9));
    }
  }
  apply_statements(host, s);
  {
    std::lock_guard lock(data_mutex_);
    snap.pool = host.snapshot.pool;
    host.snapshot = std::move(snap);
    if (s.statements) host.server_statements = *s.statements;
  }
  host.previous_client_deadlocks = client_deadlocks;
  host.previous_at = now;
  host.last = s;
  host.previous = std::move(s);
}

// pg_stat_statements' slowest statements: this sample's set replaces the last one's.
void MonitorState::apply_statements(HostTracker& host, PgSample& s) {
  if (!s.statements) {
    // Not available here (or not asked): ask again in a while, not every sample.
    if (watching("slow_statements") && host.skip_statements == 0) host.skip_statements = 30;
    return;
  }
  std::set<std::pair<std::string, std::string>> now;
  for (ServerStatement& st : *s.statements) {
    // PostgreSQL 15 keeps utility statements verbatim (CREATE ROLE ... PASSWORD '...'): only the
    // normalised text goes anywhere, labels and snapshots alike.
    st.query = query_label(st.query);
    const std::string& query = st.query;
    now.emplace(st.queryid, query);
    host_metrics_.statement_mean.with({host.cluster, host.label, st.queryid, query})
        .set(st.mean_ms / 1000);
    host_metrics_.statement_calls.with({host.cluster, host.label, st.queryid, query})
        .set(static_cast<double>(st.calls));
  }
  for (const auto& [id, query] : host.statement_series) {
    if (now.contains({id, query})) continue;
    host_metrics_.statement_mean.remove({host.cluster, host.label, id, query});
    host_metrics_.statement_calls.remove({host.cluster, host.label, id, query});
  }
  host.statement_series = std::move(now);
}

void MonitorState::apply_sqlite(Target& target, HostTracker& host, const SqliteSample& s,
                                Pass& pass) {
  host_metrics_.sqlite_size.with({host.cluster, host.label})
      .set(static_cast<double>(s.page_count * s.page_size));
  host_metrics_.sqlite_free.with({host.cluster, host.label})
      .set(static_cast<double>(s.freelist_count * s.page_size));
  double ratio = -1;
  // The application's page cache, seen through its pool (a connection of the monitor's own,
  // as `nexdb serve` has, never reads anything but our PRAGMAs).
  if (s.cache_hits && target.db && watching("cache_hit_ratio")) {
    const auto hits = static_cast<double>(*s.cache_hits);
    const auto misses = static_cast<double>(s.cache_misses);
    host_metrics_.sqlite_cache_hits.with({host.cluster, host.label}).inc(hits);
    host_metrics_.sqlite_cache_misses.with({host.cluster, host.label}).inc(misses);
    if (hits + misses > 0) {
      ratio = hits / (hits + misses);
      host_metrics_.cache_hit_ratio.with({host.cluster, host.label}).set(ratio);
    }
    // No alert: a miss is a read from the OS page cache, and every new connection starts cold.
  }
  std::lock_guard lock(data_mutex_);
  if (ratio >= 0) host.snapshot.cache_hit_ratio = ratio;
  host.snapshot.cluster = host.cluster;
  host.snapshot.host = host.label;
  host.snapshot.role = "sqlite";
  // SQLite has no server: its connections are the pool's.
  if (target.db && watching("connection_count")) {
    const PoolStats stats = target.db->pool().stats();
    pass.observations.push_back({.metric = "connection_count",
                                 .labels = {{"cluster", host.cluster}, {"host", host.label}},
                                 .value = static_cast<double>(stats.total)});
  }
}

// Lag of each replica behind the primary sampled in the same pass (or, without one, behind what
// the replica itself has received). Seconds are 0 for a replica that has replayed everything.
void MonitorState::apply_replication(Target& target, Pass& pass) {
  std::optional<std::uint64_t> head;
  for (auto& host : target.hosts) {
    if (host->last && !host->last->in_recovery) head = host->last->wal_lsn;
  }
  for (auto& host : target.hosts) {
    if (!host->last || !host->last->in_recovery) continue;
    const PgSample& s = *host->last;
    const std::uint64_t reference = head.value_or(s.receive_lsn);
    const std::uint64_t bytes = reference > s.wal_lsn ? reference - s.wal_lsn : 0;
    const double seconds = bytes == 0 ? 0 : s.replay_age_seconds;
    host_metrics_.lag_bytes.with({host->cluster, host->label}).set(static_cast<double>(bytes));
    host_metrics_.lag_seconds.with({host->cluster, host->label}).set(seconds);
    observe(pass, "replication_lag_bytes", *host, static_cast<double>(bytes));
    observe(pass, "replication_lag_ms", *host, seconds * 1000);
    std::lock_guard lock(data_mutex_);
    host->snapshot.lag_bytes = bytes;
    host->snapshot.lag_seconds = seconds;
  }
}

// At every scrape: pools are cheap to read, so their metrics are always current.
void MonitorState::export_pools() {
  for (const auto& target : targets()) {
    std::vector<HostStats> replica_hosts;
    if (target->replicas != nullptr) replica_hosts = target->replicas->hosts();
    for (auto& host : target->hosts) {
      std::string label;
      {
        std::lock_guard lock(data_mutex_);  // the sampling thread may be relabelling
        if (!host->connected_once) continue;
        label = host->label;
      }
      std::optional<PoolStats> stats;
      std::size_t max_size = 0;
      if (target->db) {
        stats = target->db->pool().stats();
        max_size = target->db->pool().settings().max_size;
      } else if (host->replica_index < replica_hosts.size()) {
        stats = replica_hosts[host->replica_index].pool;
        max_size = target->replicas->settings().pool.max_size;
      }
      if (!stats) continue;
      pool_metrics_.set(host->cluster, label, *stats, max_size);
      std::lock_guard lock(data_mutex_);
      host->snapshot.pool = stats;
    }
  }
}

}  // namespace nexdb::detail
