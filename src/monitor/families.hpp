// Every metric family DBMonitor exports (besides the statement ones in query_stats.hpp), as
// registered once in its registry. docs/monitoring.md lists them; keep the two in step.
#pragma once

#include "nexdb/metrics.hpp"
#include "nexdb/pool.hpp"

namespace nexdb::monitor_detail {

using metrics::Counter;
using metrics::Family;
using metrics::Gauge;
using metrics::Histogram;

struct HostFamilies {
  explicit HostFamilies(metrics::Registry& r);
  Family<Gauge>& up;
  Family<Gauge>& is_primary;
  Family<Gauge>& server_connections;
  Family<Gauge>& max_connections;
  Family<Counter>& transactions;
  Family<Gauge>& transactions_per_second;
  Family<Counter>& blocks_hit;
  Family<Counter>& blocks_read;
  Family<Gauge>& cache_hit_ratio;
  Family<Counter>& deadlocks;
  Family<Gauge>& lag_bytes;
  Family<Gauge>& lag_seconds;
  Family<Gauge>& lock_wait;
  Family<Gauge>& idle_in_transaction;
  Family<Gauge>& statement_mean;
  Family<Gauge>& statement_calls;
  Family<Gauge>& sqlite_size;
  Family<Gauge>& sqlite_free;
  Family<Counter>& sqlite_cache_hits;
  Family<Counter>& sqlite_cache_misses;
  Family<Counter>& sample_errors;
};

struct PoolFamilies {
  explicit PoolFamilies(metrics::Registry& r);
  /// Copies `stats` of the pool serving cluster/host into the metrics.
  void set(std::string_view cluster, std::string_view host, const PoolStats& stats,
           std::size_t max_size);
  Family<Gauge>& connections;
  Family<Gauge>& waiting;
  Family<Gauge>& max_size;
  Family<Counter>& acquired;
  Family<Counter>& timeouts;
  Family<Counter>& created;
  Family<Counter>& closed;
  Family<Counter>& validation_failures;
  Family<Counter>& leaks;
  Family<Histogram>& acquire_wait;
};

struct MonitorFamilies {
  explicit MonitorFamilies(metrics::Registry& r);
  Family<Gauge>& sample_duration;
  Family<Gauge>& alerts_firing;
  Family<Counter>& notifications;
};

}  // namespace nexdb::monitor_detail
