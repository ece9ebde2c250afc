// The state behind DBMonitor: watched targets and their hosts, the sampling thread, the alert
// engine and the notifier.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "monitor/families.hpp"
#include "monitor/notifier.hpp"
#include "monitor/optimizer_metrics.hpp"
#include "monitor/query_stats.hpp"
#include "monitor/rules.hpp"
#include "monitor/server_sample.hpp"
#include "nexdb/monitor.hpp"

namespace nexdb::detail {

using SteadyClock = std::chrono::steady_clock;

/// One host of a target and what the monitor remembers about it between samples.
struct HostTracker {
  std::string cluster{};
  /// Own-connection hosts: how to connect (unused for a Database target, which lends one).
  ConnectOptions options{};
  std::unique_ptr<Connection> own{};
  /// The host label: Connection::description() once connected, the masked URI before.
  std::string label{};
  bool connected_once = false;
  /// ReplicaManager targets: this host's index in hosts().
  std::size_t replica_index = 0;
  std::optional<monitor_detail::PgSample> previous{};
  SteadyClock::time_point previous_at{};
  double previous_client_deadlocks = 0;
  std::size_t skip_statements = 0;  // samples to wait before asking pg_stat_statements again
  std::set<std::pair<std::string, std::string>> statement_series{};  // exported (queryid, query)
  std::optional<monitor_detail::PgSample> last{};  // this pass (for replication lag)
  // Guarded by MonitorState::data_mutex_ (read by snapshot() on other threads):
  HostSnapshot snapshot{};
  std::vector<monitor_detail::ServerStatement> server_statements{};
};

struct Target {
  std::string cluster{};
  std::optional<Database> db{};
  ReplicaManager* replicas = nullptr;
  StatementObserverHub::Attachment attachment{};
  std::vector<std::unique_ptr<HostTracker>> hosts{};
};

class MonitorState {
 public:
  explicit MonitorState(MonitorSettings settings);
  ~MonitorState();

  void add(std::unique_ptr<Target> target);
  /// Exports `optimizer`'s metrics under `cluster` until the monitor is destroyed.
  void add_optimizer(QueryOptimizer optimizer, std::string cluster);
  void add_sink(std::shared_ptr<AlertSink> sink) { notifier_.add_sink(std::move(sink)); }
  void sample();
  bool wait_for_notifications(std::chrono::milliseconds timeout) {
    return notifier_.wait_idle(timeout);
  }

  MonitorSnapshot snapshot() const;
  std::vector<Alert> alerts() const;
  HealthReport health() const;
  const std::vector<AlertRule>& rules() const noexcept { return rules_; }
  const MonitorSettings& settings() const noexcept { return settings_; }
  metrics::Registry& registry() noexcept { return registry_; }
  bool watching(std::string_view group) const;
  const std::shared_ptr<monitor_detail::QueryMetrics>& queries() const noexcept { return queries_; }

 private:
  struct Pass {
    std::vector<monitor_detail::Observation> observations;
  };
  void run_sampler();
  void sample_target(Target& target, Pass& pass);
  void sample_host(Target& target, HostTracker& host, Pass& pass);
  void sample_on(Target& target, HostTracker& host, Connection& connection, Pass& pass);
  void apply_postgres(HostTracker& host, monitor_detail::PgSample sample, Pass& pass);
  void apply_sqlite(Target& target, HostTracker& host, const monitor_detail::SqliteSample& sample,
                    Pass& pass);
  void apply_statements(HostTracker& host, monitor_detail::PgSample& sample);
  void apply_replication(Target& target, Pass& pass);
  void mark_down(HostTracker& host, const std::string& error);
  static bool saturated(const PoolStats& stats, std::size_t max_size);
  static void busy(HostTracker& host);
  void relabel(HostTracker& host, const std::string& label);
  void collect_queries(Pass& pass);
  void evaluate(Pass& pass);
  void export_pools();
  std::vector<std::shared_ptr<Target>> targets() const;
  void observe(Pass& pass, std::string_view metric, const HostTracker& host, double value);

  MonitorSettings settings_;
  std::vector<AlertRule> rules_;
  metrics::Registry& registry_;
  monitor_detail::HostFamilies host_metrics_;
  monitor_detail::PoolFamilies pool_metrics_;
  monitor_detail::MonitorFamilies monitor_metrics_;
  std::shared_ptr<monitor_detail::QueryMetrics> queries_;
  monitor_detail::Notifier notifier_;

  mutable std::mutex targets_mutex_;
  std::vector<std::shared_ptr<Target>> targets_;
  std::mutex pass_mutex_;  // one sample() at a time

  mutable std::mutex data_mutex_;  // engine_, snapshots, firing counts
  monitor_detail::AlertEngine engine_;
  std::map<std::pair<std::string, std::string>, double> firing_counts_;
  std::chrono::system_clock::time_point sampled_at_{};

  double running_longer_than_ = 1.0;  // seconds
  std::uint64_t pool_hook_ = 0;
  std::mutex sampler_mutex_;
  std::condition_variable sampler_wake_;
  bool stopping_ = false;
  std::thread sampler_;
  std::vector<std::unique_ptr<monitor_detail::OptimizerMetrics>> optimizers_;  // targets_mutex_
};

}  // namespace nexdb::detail
