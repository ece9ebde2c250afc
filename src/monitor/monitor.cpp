// DBMonitor: the facade, its targets and its settings from nexdb.toml.
#include <fmt/format.h>

#include "config/checks.hpp"
#include "monitor/monitor_state.hpp"
#include "nexdb/error.hpp"

namespace nexdb {

using detail::HostTracker;
using detail::Target;

namespace {

void check_cluster(const std::string& cluster) {
  if (auto problem = config_detail::check_cluster_name(cluster)) {
    throw ConfigError(fmt::format("DBMonitor: cluster name {}", *problem));
  }
}

// The monitor's own connection to a host: bounded waits, visible in pg_stat_activity as ours,
// and never observed as the application's.
ConnectOptions own_connection(ConnectOptions options, std::string uri) {
  options.uri = std::move(uri);
  options.observer = nullptr;
  options.application_name = "nexdb-monitor";
  options.connect_timeout = std::min(options.connect_timeout, std::chrono::milliseconds(3000));
  if (options.statement_timeout.count() == 0 ||
      options.statement_timeout > std::chrono::seconds(5)) {
    options.statement_timeout = std::chrono::seconds(5);
  }
  return options;
}

std::unique_ptr<HostTracker> tracker(const std::string& cluster, ConnectOptions options,
                                     std::size_t index) {
  auto host = std::make_unique<HostTracker>();
  host->cluster = cluster;
  host->label = redact_password(options.uri);
  host->options = std::move(options);
  host->replica_index = index;
  return host;
}

}  // namespace

DBMonitor::DBMonitor(MonitorSettings settings)
    : state_(std::make_shared<detail::MonitorState>(std::move(settings))) {}

DBMonitor::DBMonitor(Database db, MonitorSettings settings) : DBMonitor(std::move(settings)) {
  watch(std::move(db));
}

DBMonitor::~DBMonitor() = default;

void DBMonitor::watch(Database db, std::string cluster) {
  check_cluster(cluster);
  auto target = std::make_unique<Target>();
  target->cluster = cluster;
  auto host = std::make_unique<HostTracker>();
  host->cluster = cluster;
  host->label = db.description();
  target->hosts.push_back(std::move(host));
  if (state_->watching("query_duration") || state_->watching("errors")) {
    target->attachment = db.attach_observer(
        std::make_shared<monitor_detail::QueryObserver>(state_->queries(), cluster));
  }
  target->db = std::move(db);
  state_->add(std::move(target));
}

void DBMonitor::watch(ReplicaManager& replicas, std::string cluster) {
  check_cluster(cluster);
  auto target = std::make_unique<Target>();
  target->cluster = cluster;
  target->replicas = &replicas;
  const ReplicaSettings& s = replicas.settings();
  target->hosts.push_back(tracker(cluster, own_connection(s.connection, s.primary), 0));
  for (std::size_t i = 0; i < s.replicas.size(); ++i) {
    target->hosts.push_back(tracker(cluster, own_connection(s.connection, s.replicas[i]), i + 1));
  }
  if (state_->watching("query_duration") || state_->watching("errors")) {
    target->attachment = replicas.attach_observer(
        std::make_shared<monitor_detail::QueryObserver>(state_->queries(), cluster));
  }
  state_->add(std::move(target));
}

void DBMonitor::watch(QueryOptimizer optimizer, std::string cluster) {
  check_cluster(cluster);
  state_->add_optimizer(std::move(optimizer), std::move(cluster));
}

void DBMonitor::watch(const ClusterConfig& cluster) {
  check_cluster(cluster.name);
  auto target = std::make_unique<Target>();
  target->cluster = cluster.name;
  target->hosts.push_back(
      tracker(cluster.name, own_connection(cluster.connection, cluster.primary), 0));
  for (std::size_t i = 0; i < cluster.replicas.size(); ++i) {
    target->hosts.push_back(
        tracker(cluster.name, own_connection(cluster.connection, cluster.replicas[i]), i + 1));
  }
  state_->add(std::move(target));
}

void DBMonitor::add_sink(std::shared_ptr<AlertSink> sink) {
  if (sink == nullptr) throw UsageError("DBMonitor::add_sink: null sink");
  state_->add_sink(std::move(sink));
}

void DBMonitor::sample() { state_->sample(); }
bool DBMonitor::wait_for_notifications(std::chrono::milliseconds timeout) {
  return state_->wait_for_notifications(timeout);
}
MonitorSnapshot DBMonitor::snapshot() const { return state_->snapshot(); }
std::vector<Alert> DBMonitor::alerts() const { return state_->alerts(); }
const std::vector<AlertRule>& DBMonitor::rules() const noexcept { return state_->rules(); }
const MonitorSettings& DBMonitor::settings() const noexcept { return state_->settings(); }
HealthReport DBMonitor::health() const { return state_->health(); }
metrics::Registry& DBMonitor::registry() noexcept { return state_->registry(); }

// The pages hold the state weakly: a collector that outlives the monitor answers 503.
void DBMonitor::serve_on(MetricsCollector& collector) const {
  const std::weak_ptr<detail::MonitorState> weak = state_;
  collector.set_health_check([weak] {
    const auto state = weak.lock();
    return state ? state->health()
                 : HealthReport{.healthy = false, .body = R"({"status":"monitor stopped"})"};
  });
  const auto page = [weak](auto render) {
    return [weak, render] {
      const auto state = weak.lock();
      if (!state) throw Error("the monitor has stopped");
      return render(state->snapshot());
    };
  };
  collector.add_page("/monitor", "text/plain; charset=utf-8",
                     page([](const MonitorSnapshot& s) { return to_text(s); }));
  collector.add_page("/monitor.json", "application/json",
                     page([](const MonitorSnapshot& s) { return to_json(s) + "\n"; }));
}

MonitorSettings DBMonitor::settings_from(const Config& config) {
  const MonitorConfig& m = config.monitor;
  MonitorSettings s{
      .watch_metrics = m.watch,
      .interval = m.interval,
      .alert_for = m.alert_for,
      .max_fingerprints = m.max_fingerprints,
      .slow_statements = m.slow_statements,
      .labels = metrics::Labels(config.metrics.labels.begin(), config.metrics.labels.end())};
  // Every threshold of a watched group as a full rule, with its [monitor.alerts.*] settings.
  for (const auto& spec : known_alert_thresholds()) {
    if (std::find(m.watch.begin(), m.watch.end(), spec.watch) == m.watch.end()) continue;
    AlertSettings alert;
    if (auto it = m.alerts.find(spec.name); it != m.alerts.end()) alert = it->second;
    s.alerts.push_back({.metric = std::string(spec.name),
                        .threshold = m.alert_thresholds.find(spec.name)->second,
                        .for_duration = alert.for_duration.value_or(m.alert_for),
                        .recover_at = alert.recover_at,
                        .recover_for = alert.recover_for,
                        .severity = alert.severity});
  }
  s.sinks.push_back(log_sink());
  if (!m.alertmanager_url.empty())
    s.sinks.push_back(alertmanager_sink({.url = m.alertmanager_url}));
  if (!m.webhook_url.empty()) s.sinks.push_back(webhook_sink({.url = m.webhook_url}));
  return s;
}

}  // namespace nexdb
