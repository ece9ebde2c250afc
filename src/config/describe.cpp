// Config::describe(): the effective configuration as key/value/origin entries.
#include <fmt/format.h>

#include "config/schema.hpp"
#include "nexdb/config.hpp"
#include "nexdb/error.hpp"

namespace nexdb {
namespace {

using config_detail::Field;

class Describer {
 public:
  explicit Describer(const Config& config) : config_(config) {}

  // `inherited` are the keys the value falls back to, most specific first.
  void add(std::string key, ConfigEntry::Value value,
           const std::vector<std::string>& inherited = {}) {
    std::string origin = "default";
    if (auto it = config_.origins.find(key); it != config_.origins.end()) {
      origin = it->second;
    } else {
      for (const auto& fallback : inherited) {
        if (auto f = config_.origins.find(fallback); f != config_.origins.end()) {
          origin = fmt::format("{} ({})", f->second, fallback);
          break;
        }
      }
    }
    entries_.push_back(
        {.key = std::move(key), .value = std::move(value), .origin = std::move(origin)});
  }

  template <class T, std::size_t N>
  void add_fields(const std::string& prefix, const Field<T> (&fields)[N], const T& settings,
                  std::initializer_list<std::string> inherited_sections) {
    for (const Field<T>& field : fields) {
      std::vector<std::string> inherited;
      for (const auto& section : inherited_sections) {
        inherited.push_back(section + "." + std::string(field.key));
      }
      const std::string key = prefix + "." + std::string(field.key);
      std::visit([&](auto member) { add(key, value_of(settings.*member), inherited); },
                 field.member);
    }
  }

  void add_cluster(const ClusterConfig& cluster) {
    const std::string prefix = "clusters." + cluster.name;
    add(prefix + ".primary", redact_password(cluster.primary), {"database.uri"});
    std::vector<std::string> replicas;
    for (const auto& uri : cluster.replicas) replicas.push_back(redact_password(uri));
    add(prefix + ".replicas", std::move(replicas));
    add(prefix + ".read_preference", std::string(to_string(cluster.read_preference)));
    add(prefix + ".max_replication_lag_bytes",
        static_cast<std::int64_t>(cluster.max_replication_lag_bytes));
    add(prefix + ".max_replication_lag_ms",
        static_cast<std::int64_t>(cluster.max_replication_lag.count()));
    add(prefix + ".latency_window_ms", static_cast<std::int64_t>(cluster.latency_window.count()));
    add(prefix + ".health_check_interval_ms",
        static_cast<std::int64_t>(cluster.health_check_interval.count()));
    add(prefix + ".read_your_writes_wait_ms",
        static_cast<std::int64_t>(cluster.read_your_writes_wait.count()));
    add_fields(prefix + ".connection", config_detail::connection_fields, cluster.connection,
               {"connection", "database"});
    add_fields(prefix + ".pool", config_detail::pool_fields, cluster.pool, {"pool"});
  }

  void add_shards(const ShardConfig& shards) {
    add("shards.count", static_cast<std::int64_t>(shards.count()), {"shards.num_shards"});
    if (!shards.enabled()) return;
    add("shards.key", shards.shard_key, {"shards.shard_key"});
    add("shards.function", std::string(to_string(shards.function)), {"shards.shard_function"});
    add("shards.key_type", std::string(to_string(shards.key_type)));
    if (shards.function == ShardFunction::range) add("shards.range_starts", shards.range_starts);
    if (shards.function == ShardFunction::hash) {
      std::vector<std::string> ranges = shards.key_ranges;
      if (ranges.empty()) {
        for (const auto& range : equal_key_ranges(shards.count())) ranges.push_back(range.to_string());
      }
      add("shards.key_ranges", std::move(ranges));
    }
    if (shards.function == ShardFunction::lookup) {
      add("shards.lookup_cluster", shards.lookup_cluster);
      add("shards.lookup_table", shards.lookup_table);
      add("shards.lookup_cache_ttl_ms", static_cast<std::int64_t>(shards.lookup_cache_ttl.count()));
    }
    for (const auto& [table, column] : shards.table_keys) add("shards.tables." + table, column);
    if (!shards.reference_tables.empty()) add("shards.reference_tables", shards.reference_tables);
    for (const auto& [number, cluster] : shards.shard_map) {
      add(fmt::format("shards.map.{}", number), cluster, {fmt::format("shards.shard_map.{}", number)});
    }
  }

  // Known thresholds in their documented order, then any others a program set, by name.
  void add_thresholds(const std::map<std::string, double, std::less<>>& thresholds) {
    auto rest = thresholds;
    for (const auto& spec : known_alert_thresholds()) {
      if (auto it = rest.find(spec.name); it != rest.end()) {
        add("monitor.alert_thresholds." + it->first, it->second);
        rest.erase(it);
      }
    }
    for (const auto& [name, value] : rest) add("monitor.alert_thresholds." + name, value);
  }

  void add_monitor(const MonitorConfig& m) {
    add("monitor.interval_ms", static_cast<std::int64_t>(m.interval.count()));
    add_thresholds(m.alert_thresholds);
    add("monitor.for_ms", static_cast<std::int64_t>(m.alert_for.count()));
    for (const auto& [name, alert] : m.alerts) {
      const std::string prefix = "monitor.alerts." + name;
      add(prefix + ".for_ms",
          static_cast<std::int64_t>(alert.for_duration.value_or(m.alert_for).count()),
          {"monitor.for_ms"});
      add(prefix + ".recover_at", alert.recover_at.value_or(m.alert_thresholds.find(name)->second),
          {"monitor.alert_thresholds." + name});
      add(prefix + ".recover_for_ms", static_cast<std::int64_t>(alert.recover_for.count()));
      add(prefix + ".severity", std::string(to_string(alert.severity)));
    }
    add("monitor.watch", m.watch);
    add("monitor.max_fingerprints", static_cast<std::int64_t>(m.max_fingerprints));
    add("monitor.slow_statements", static_cast<std::int64_t>(m.slow_statements));
    add("monitor.alertmanager_url", redact_password(m.alertmanager_url));
    add("monitor.webhook_url", redact_password(m.webhook_url));
  }

  void add_rest() {
    add_monitor(config_.monitor);
    add("metrics.listen", config_.metrics.listen);
    add("metrics.export_interval_ms",
        static_cast<std::int64_t>(config_.metrics.export_interval.count()));
    for (const auto& [name, value] : config_.metrics.labels) add("metrics.labels." + name, value);
    add("metrics.pushgateway_url", redact_password(config_.metrics.pushgateway_url));
    add("metrics.job", config_.metrics.job);
    add("migrations.folder", config_.migrations.folder);
    add("migrations.allow_out_of_order", config_.migrations.allow_out_of_order);
    add("migrations.table", config_.migrations.table);
    add("backup.repository", config_.backup.repository);
    add("backup.keep_last", config_.backup.keep_last);
    add("backup.keep_days", config_.backup.keep_days);
    add("backup.jobs", config_.backup.jobs);
    add("backup.pg_bindir", config_.backup.pg_bindir);
    add("backup.verify_server", redact_password(config_.backup.verify_server));
    add("backup.command_timeout_minutes", config_.backup.command_timeout_minutes);
    add("backup.lock_wait_timeout_seconds", config_.backup.lock_wait_timeout_seconds);
  }

  std::vector<ConfigEntry> take() { return std::move(entries_); }

 private:
  static ConfigEntry::Value value_of(std::size_t v) { return static_cast<std::int64_t>(v); }
  static ConfigEntry::Value value_of(std::chrono::milliseconds v) {
    return static_cast<std::int64_t>(v.count());
  }
  static ConfigEntry::Value value_of(const std::string& v) { return v; }
  static ConfigEntry::Value value_of(bool v) { return v; }

  const Config& config_;
  std::vector<ConfigEntry> entries_;
};

}  // namespace

ConfigReport Config::describe() const {
  Describer describer(*this);
  for (const auto& cluster : clusters) describer.add_cluster(cluster);
  describer.add_shards(shards);
  describer.add_rest();
  return ConfigReport{.source = source,
                      .environment = environment,
                      .warnings = warnings,
                      .entries = describer.take()};
}

}  // namespace nexdb
