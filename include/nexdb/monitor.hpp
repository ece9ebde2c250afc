// DBMonitor: what the databases are doing, as Prometheus metrics, with alerts.
//
//   auto db = Database::open("nexdb.toml");
//   DBMonitor monitor{db, {.watch_metrics = {"query_duration", "connection_count",
//                                            "cache_hit_ratio", "deadlock_count"},
//                          .alert_thresholds = {{"query_duration", 1000},
//                                               {"connection_count", 100},
//                                               {"deadlock_count", 5}}}};
//   MetricsCollector metrics{{.labels = {{"environment", "production"}}}};  // serves /metrics
//
// Per cluster and host it watches the application's statements (a histogram per query
// fingerprint, errors by SQLSTATE class), its pools, and the servers themselves (connections
// by state, cache hit ratio, deadlocks, transactions, replication lag, lock waits, idle
// transactions, pg_stat_statements' slowest statements), every `interval` on a thread of its
// own. Alerts fire after `for`, resolve with hysteresis, and go to sinks: a callback, the log,
// a webhook, Prometheus Alertmanager. Every metric is listed in docs/monitoring.md.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/config.hpp"
#include "nexdb/database.hpp"
#include "nexdb/metrics.hpp"
#include "nexdb/optimizer.hpp"
#include "nexdb/replica.hpp"

namespace nexdb {

/// One alert rule: a watched value crossing its threshold.
struct AlertRule {
  /// A known_alert_thresholds() name ("query_duration_ms", "deadlock_count", ...); the seed's
  /// "query_duration" means query_duration_ms.
  std::string metric{};
  double threshold = 0;
  /// How long the threshold must stay crossed before the alert fires (Prometheus' `for`).
  std::chrono::milliseconds for_duration{0};
  /// Hysteresis: a firing alert resolves only once the value is back past this (default: the
  /// threshold) ...
  std::optional<double> recover_at{};
  /// ... and has stayed there this long (Prometheus' `keep_firing_for`).
  std::chrono::milliseconds recover_for{0};
  Severity severity = Severity::warning;
  /// The alert's name; empty: derived from the metric ("NexdbQueryDurationHigh").
  std::string name{};
};

enum class AlertState { pending, firing, resolved };
std::string_view to_string(AlertState state) noexcept;

/// One alert: a rule and the series it is about (cluster, host and, for queries, fingerprint).
struct Alert {
  std::string name{};    // alertname
  std::string metric{};  // the rule's metric
  Severity severity = Severity::warning;
  AlertState state = AlertState::pending;
  /// alertname, severity, cluster, host[, fingerprint] and the monitor's constant labels.
  metrics::Labels labels{};
  /// The value that fired it (resolved: the value that resolved it), in the threshold's unit.
  double value = 0;
  double threshold = 0;
  std::string summary{};      // one line: what, where, how far past the threshold
  std::string description{};  // more context, e.g. the normalised query
  /// When the threshold was first crossed, when it fired, when it resolved (resolved only).
  std::chrono::system_clock::time_point active_at{};
  std::chrono::system_clock::time_point fired_at{};
  std::chrono::system_clock::time_point resolved_at{};
};

/// Where alerts go. Sinks run on the monitor's notification thread, never while sampling.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual std::string_view name() const noexcept = 0;
  /// Alerts that started firing or resolved since the last call. Throw to report a failed
  /// delivery (logged, and counted in nexdb_alert_notifications_total{outcome="failed"}).
  virtual void deliver(const std::vector<Alert>& changes) = 0;
  /// After every sample: all alerts still firing (Alertmanager expects them re-sent).
  virtual void still_firing(const std::vector<Alert>& firing) { (void)firing; }
};

/// Calls `callback` once per alert that fired or resolved.
std::shared_ptr<AlertSink> callback_sink(std::function<void(const Alert&)> callback);
/// spdlog: firing at warning level (error for critical), resolved at info.
std::shared_ptr<AlertSink> log_sink();

struct WebhookSettings {
  /// http:// or https:// URL that receives a JSON POST per batch (Alertmanager's webhook
  /// payload: {"version":"4","status":..,"alerts":[..]}).
  std::string url{};
  std::chrono::milliseconds timeout{5000};
  /// Extra headers, e.g. {"Authorization", "Bearer ..."}.
  std::vector<std::pair<std::string, std::string>> headers{};
  /// Tries per batch, with 0.5 s, 1 s, 2 s ... between them.
  int attempts = 3;
};
std::shared_ptr<AlertSink> webhook_sink(WebhookSettings settings);

struct AlertmanagerSettings {
  /// Alertmanager's base URL, e.g. "http://alertmanager:9093"; alerts go to /api/v2/alerts.
  std::string url{};
  std::chrono::milliseconds timeout{5000};
  /// Firing alerts are re-sent this often, each valid for four times as long (as Prometheus
  /// does), so Alertmanager resolves them by itself if this process dies.
  std::chrono::milliseconds resend_interval{60000};
  /// The alerts' generatorURL (e.g. this process's /metrics); may be empty.
  std::string generator_url{};
};
std::shared_ptr<AlertSink> alertmanager_sink(AlertmanagerSettings settings);

struct MonitorSettings {
  /// Groups to watch (known_watch_metrics()); default: all.
  std::vector<std::string> watch_metrics{known_watch_metrics().begin(),
                                         known_watch_metrics().end()};
  /// Threshold overrides by name (known_alert_thresholds(), or the seed's "query_duration");
  /// every watched group alerts at its default thresholds otherwise.
  std::map<std::string, double, std::less<>> alert_thresholds{};
  /// Full rules; a rule here replaces the threshold rule of the same metric.
  std::vector<AlertRule> alerts{};
  /// How often servers are sampled and alerts evaluated.
  std::chrono::milliseconds interval{10000};
  /// Default `for` of threshold rules.
  std::chrono::milliseconds alert_for{0};
  /// Distinct query fingerprints with their own series; further shapes count as "other".
  std::size_t max_fingerprints = 500;
  /// pg_stat_statements' slowest statements to export per host (0 = none).
  std::size_t slow_statements = 10;
  /// Buckets of nexdb_query_duration_seconds.
  std::vector<double> duration_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  /// Constant labels on every alert (e.g. environment, service).
  metrics::Labels labels{};
  /// Alert sinks; empty: log_sink().
  std::vector<std::shared_ptr<AlertSink>> sinks{};
  /// Where the metrics go; null: metrics::Registry::global().
  metrics::Registry* registry = nullptr;
  /// Sample every `interval` on a thread of its own; false: only when sample() is called.
  bool background = true;
};

/// One host as the last sample saw it (for `nexdb monitor` and dashboards).
struct HostSnapshot {
  std::string cluster{};
  std::string host{};
  std::string role{};  // "primary", "replica", "sqlite", "unknown"
  bool up = false;
  std::string error{};
  std::optional<PoolStats> pool{};
  /// PostgreSQL: client backends by state ("active", "idle", "idle in transaction", ...).
  std::map<std::string, std::int64_t> server_connections{};
  std::int64_t max_connections = 0;
  double cache_hit_ratio = -1;  // over the last interval; -1 when unknown
  double transactions_per_second = 0;
  std::uint64_t deadlocks = 0;  // since the server's statistics reset
  std::uint64_t lag_bytes = 0;
  double lag_seconds = 0;
  double lock_wait_seconds = 0;            // longest current lock wait
  double idle_in_transaction_seconds = 0;  // longest current idle transaction
};

/// One statement shape: from this process's statements or from pg_stat_statements.
struct StatementSnapshot {
  std::string cluster{};
  std::string host{};
  std::string id{};     // fingerprint, or pg_stat_statements' queryid
  std::string query{};  // normalised
  std::uint64_t calls = 0;
  double mean_ms = 0;
  double total_ms = 0;
  bool from_server = false;  // pg_stat_statements
};

struct MonitorSnapshot {
  std::chrono::system_clock::time_point taken_at{};
  std::vector<HostSnapshot> hosts{};
  /// Slowest shapes by mean time, this process's first.
  std::vector<StatementSnapshot> statements{};
  /// Pending and firing alerts.
  std::vector<Alert> alerts{};
};

namespace detail {
class MonitorState;
}

class DBMonitor {
 public:
  /// Watches nothing yet; add targets with watch(). ConfigError for unknown metric or
  /// threshold names, thresholds of unwatched groups, or rules that could never resolve.
  explicit DBMonitor(MonitorSettings settings = {});
  /// Watches `db` as cluster "default".
  explicit DBMonitor(Database db, MonitorSettings settings = {});
  /// [monitor] and [metrics] labels of a configuration, with its Alertmanager/webhook sinks.
  static MonitorSettings settings_from(const Config& config);
  /// Stops sampling and delivers pending notifications (up to 5 s).
  ~DBMonitor();
  DBMonitor(const DBMonitor&) = delete;
  DBMonitor& operator=(const DBMonitor&) = delete;

  /// Watches a database: its statements, its pool, and its server through a pooled connection.
  void watch(Database db, std::string cluster = "default");
  /// Watches every host of a ReplicaManager, which must outlive this monitor (or be
  /// unwatched by destroying it first) and must not be moved meanwhile.
  void watch(ReplicaManager& replicas, std::string cluster);
  /// Watches a configured cluster's hosts through connections of the monitor's own (what
  /// `nexdb serve` does: no application statements, server statistics only).
  void watch(const ClusterConfig& cluster);
  /// Exports a QueryOptimizer's counters and its current plan findings per query shape
  /// (nexdb_optimizer_*; docs/monitoring.md), copied at every scrape or push. Watch its
  /// database too for the statements, pool and server. The monitor keeps a handle.
  void watch(QueryOptimizer optimizer, std::string cluster = "default");
  void add_sink(std::shared_ptr<AlertSink> sink);

  /// Samples every target, evaluates alerts and queues notifications, now.
  void sample();
  /// Waits until queued notifications have been delivered; false on timeout.
  bool wait_for_notifications(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  MonitorSnapshot snapshot() const;
  /// Pending and firing alerts.
  std::vector<Alert> alerts() const;
  /// The effective rules (threshold rules of watched groups, then explicit ones).
  const std::vector<AlertRule>& rules() const noexcept;
  const MonitorSettings& settings() const noexcept;
  /// Healthy when every watched host answered the last sample; JSON body for /healthz.
  HealthReport health() const;
  metrics::Registry& registry() noexcept;

  /// Serves this monitor on `collector` (which should export the same registry): /healthz
  /// answers health(), /monitor the snapshot as text and /monitor.json as JSON — what
  /// `nexdb monitor --url` shows, the application's pools and statements included. Once the
  /// monitor is destroyed, those pages answer 503.
  void serve_on(MetricsCollector& collector) const;

 private:
  std::shared_ptr<detail::MonitorState> state_;
};

/// The snapshot as aligned plain text: hosts, pools, slowest statements, alerts (what
/// `nexdb monitor` shows and `nexdb serve` puts on its dashboard).
std::string to_text(const MonitorSnapshot& snapshot);
/// The snapshot as JSON.
std::string to_json(const MonitorSnapshot& snapshot);
/// A snapshot read back from to_json()'s output; Error when the text is not one.
MonitorSnapshot snapshot_from_json(std::string_view json);
/// The snapshot a process serves at `url`/monitor.json (DBMonitor::serve_on(); `nexdb serve`),
/// e.g. url = "http://127.0.0.1:9477". ConnectionError when it cannot be read.
MonitorSnapshot fetch_snapshot(std::string_view url,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// The Prometheus alerting rules file (YAML) equivalent to `rules` over the metrics DBMonitor
/// exports, for teams that alert in Prometheus (`nexdb monitor rules`).
std::string prometheus_rules(const std::vector<AlertRule>& rules,
                             std::chrono::milliseconds interval, std::string_view group = "nexdb");

}  // namespace nexdb
