// MonitorState: targets, the sampling thread and one sampling pass.
#include "monitor/monitor_state.hpp"
#include "nexdb/error.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace nexdb::detail {

using namespace monitor_detail;

MonitorState::MonitorState(MonitorSettings settings)
    : settings_(std::move(settings)),
      rules_(effective_rules(settings_)),
      registry_(settings_.registry != nullptr ? *settings_.registry : metrics::Registry::global()),
      host_metrics_(registry_),
      pool_metrics_(registry_),
      monitor_metrics_(registry_),
      queries_(std::make_shared<QueryMetrics>(registry_, settings_.duration_buckets,
                                              settings_.max_fingerprints,
                                              watching("query_duration"), watching("errors"))),
      notifier_(monitor_metrics_.notifications),
      engine_(rules_, settings_.labels) {
  if (settings_.interval.count() <= 0) throw ConfigError("monitor interval must be positive");
  if (settings_.max_fingerprints == 0) throw ConfigError("max_fingerprints must be at least 1");
  if (settings_.sinks.empty()) settings_.sinks.push_back(log_sink());
  for (const auto& sink : settings_.sinks) notifier_.add_sink(sink);
  if (watching("pool")) pool_hook_ = registry_.add_collect_hook([this] { export_pools(); });
  // Running statements are reported from half the query_duration threshold on, so an alert's
  // `for` can start counting before the statement ends.
  for (const auto& rule : rules_) {
    if (rule.metric == "query_duration_ms")
      running_longer_than_ = std::min(running_longer_than_, rule.threshold / 2000);
  }
  running_longer_than_ = std::max(running_longer_than_, 0.001);
  if (settings_.background) sampler_ = std::thread([this] { run_sampler(); });
}

MonitorState::~MonitorState() {
  {
    std::lock_guard lock(sampler_mutex_);
    stopping_ = true;
  }
  sampler_wake_.notify_all();
  if (sampler_.joinable()) sampler_.join();
  if (pool_hook_ != 0) registry_.remove_collect_hook(pool_hook_);
  std::lock_guard lock(targets_mutex_);
  targets_.clear();     // detaches the statement observers
  optimizers_.clear();  // removes their collect hooks
}

void MonitorState::add_optimizer(QueryOptimizer optimizer, std::string cluster) {
  auto exported = std::make_unique<monitor_detail::OptimizerMetrics>(
      registry_, std::move(optimizer), std::move(cluster), settings_.max_fingerprints);
  std::lock_guard lock(targets_mutex_);
  for (const auto& existing : optimizers_) {
    if (existing->cluster() == exported->cluster()) {
      throw ConfigError(fmt::format(
          "DBMonitor: an optimizer of cluster {} is watched already; give each its own name",
          exported->cluster()));
    }
  }
  optimizers_.push_back(std::move(exported));
}

bool MonitorState::watching(std::string_view group) const {
  return std::find(settings_.watch_metrics.begin(), settings_.watch_metrics.end(), group) !=
         settings_.watch_metrics.end();
}

void MonitorState::add(std::unique_ptr<Target> target) {
  std::lock_guard lock(targets_mutex_);
  for (const auto& existing : targets_) {
    if (existing->cluster == target->cluster) {
      throw UsageError(fmt::format("DBMonitor: cluster '{}' is already watched", target->cluster));
    }
  }
  for (auto& host : target->hosts) host_metrics_.up.with({host->cluster, host->label}).set(0);
  targets_.push_back(std::move(target));
  sampler_wake_.notify_all();  // sample the new target now, not an interval from now
}

std::vector<std::shared_ptr<Target>> MonitorState::targets() const {
  std::lock_guard lock(targets_mutex_);
  return targets_;
}

void MonitorState::run_sampler() {
  std::unique_lock lock(sampler_mutex_);
  std::size_t seen_targets = 0;
  while (!stopping_) {
    lock.unlock();
    seen_targets = targets().size();
    try {
      sample();
    } catch (const std::exception& e) {
      spdlog::warn("nexdb monitor: sampling failed: {}", e.what());
    }
    lock.lock();
    sampler_wake_.wait_for(lock, settings_.interval,
                           [&] { return stopping_ || targets().size() != seen_targets; });
  }
}

void MonitorState::sample() {
  std::lock_guard pass_lock(pass_mutex_);
  const auto start = SteadyClock::now();
  Pass pass;
  for (const auto& target : targets()) sample_target(*target, pass);
  collect_queries(pass);
  evaluate(pass);
  monitor_metrics_.sample_duration.with({}).set(
      std::chrono::duration<double>(SteadyClock::now() - start).count());
}

void MonitorState::sample_target(Target& target, Pass& pass) {
  for (auto& host : target.hosts) sample_host(target, *host, pass);
  if (watching("replication_lag")) apply_replication(target, pass);
}

void MonitorState::sample_host(Target& target, HostTracker& host, Pass& pass) {
  host.last.reset();
  try {
    InternalScope internal;  // the monitor's statements are not the application's
    if (target.db) {
      ConnectionPool& pool = target.db->pool();
      if (saturated(pool.stats(), pool.settings().max_size)) return busy(host);
      const auto wait = std::min(settings_.interval, std::chrono::milliseconds(2000));
      Lease lease = pool.acquire(wait);
      sample_on(target, host, *lease, pass);
    } else {
      if (host.own == nullptr || host.own->is_broken()) host.own = connect(host.options);
      sample_on(target, host, *host.own, pass);
    }
  } catch (const PoolExhausted&) {
    busy(host);  // the application took the last connection between our look and our acquire
  } catch (const std::exception& e) {
    host.own.reset();
    mark_down(host, e.what());
  }
}

// The application's pool has no connection to spare: the monitor neither queues for one (it
// would delay the application's callers and count as their waiter) nor calls the host down.
// This pass keeps the host's last sample; its pool metrics are read at every scrape anyway.
bool MonitorState::saturated(const PoolStats& stats, std::size_t max_size) {
  return stats.waiting > 0 || (stats.idle == 0 && stats.total >= max_size);
}

void MonitorState::busy(HostTracker& host) {
  spdlog::debug("nexdb monitor: {} {}: every pooled connection is busy; sample skipped",
                host.cluster, host.label);
}

void MonitorState::sample_on(Target& target, HostTracker& host, Connection& connection,
                             Pass& pass) {
  relabel(host, connection.description());
  if (connection.dialect() == Dialect::postgres) {
    PgSampleOptions options{.running_longer_than_seconds = running_longer_than_};
    if (watching("slow_statements") && host.skip_statements == 0)
      options.slow_statements = settings_.slow_statements;
    if (host.skip_statements > 0) --host.skip_statements;
    apply_postgres(host, sample_postgres(connection, options), pass);
  } else {
    apply_sqlite(target, host, sample_sqlite(connection), pass);
  }
  host_metrics_.up.with({host.cluster, host.label}).set(1);
  std::lock_guard lock(data_mutex_);
  host.snapshot.up = true;
  host.snapshot.error.clear();
}

void MonitorState::mark_down(HostTracker& host, const std::string& error) {
  host_metrics_.up.with({host.cluster, host.label}).set(0);
  host_metrics_.sample_errors.with({host.cluster, host.label}).inc();
  host.previous.reset();  // deltas across an outage would be meaningless
  std::lock_guard lock(data_mutex_);
  if (host.snapshot.up || host.snapshot.error.empty()) {
    spdlog::warn("nexdb monitor: {} {} is not answering: {}", host.cluster, host.label, error);
  }
  host.snapshot.up = false;
  host.snapshot.error = error;
}

// The label is the connection's own description; until the first connection it is the masked
// URI, whose `up` series is dropped once the real label is known.
void MonitorState::relabel(HostTracker& host, const std::string& label) {
  if (host.connected_once && host.label == label) return;
  if (host.label != label) host_metrics_.up.remove({host.cluster, host.label});
  std::lock_guard lock(data_mutex_);
  host.label = label;
  host.connected_once = true;
  host.snapshot.host = label;
}

void MonitorState::observe(Pass& pass, std::string_view metric, const HostTracker& host,
                           double value) {
  pass.observations.push_back({.metric = std::string(metric),
                               .labels = {{"cluster", host.cluster}, {"host", host.label}},
                               .value = value});
}

void MonitorState::collect_queries(Pass& pass) {
  if (!watching("query_duration")) return;
  for (auto [series, max_ms] : queries_->take_windows()) {
    series->max_gauge->set(max_ms / 1000);
    pass.observations.push_back({.metric = "query_duration_ms",
                                 .labels = {{"cluster", series->cluster},
                                            {"host", series->host},
                                            {"fingerprint", series->shape.fingerprint}},
                                 .value = max_ms,
                                 .description = series->shape.query});
  }
}

void MonitorState::evaluate(Pass& pass) {
  std::vector<Alert> changes;
  std::vector<Alert> firing;
  {
    std::lock_guard lock(data_mutex_);
    sampled_at_ = std::chrono::system_clock::now();
    changes = engine_.evaluate(pass.observations, sampled_at_);
    firing = engine_.firing();
    for (auto& [key, count] : firing_counts_) count = 0;
    for (const Alert& a : firing) firing_counts_[{a.name, std::string(to_string(a.severity))}] += 1;
    for (const auto& [key, count] : firing_counts_) {
      monitor_metrics_.alerts_firing.with({key.first, key.second}).set(count);
    }
  }
  if (!changes.empty() || !firing.empty()) notifier_.post(std::move(changes), std::move(firing));
}

}  // namespace nexdb::detail
