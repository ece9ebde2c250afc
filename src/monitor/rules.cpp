// The known thresholds and the effective rule list of a MonitorSettings.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "monitor/rules.hpp"
#include "nexdb/error.hpp"

namespace nexdb::monitor_detail {
namespace {

constexpr RuleSpec specs[] = {
    {"query_duration_ms", "NexdbQueryDurationHigh", "statement duration", " ms",
     "nexdb_query_duration_max_seconds", 0.001, "cluster, host, fingerprint"},
    {"connection_count", "NexdbConnectionCountHigh", "server connections", "",
     "sum by (cluster, host) (nexdb_server_connections)", 1, "cluster, host"},
    {"deadlock_count", "NexdbDeadlocks", "deadlocks in the last interval", "",
     "increase(nexdb_server_deadlocks_total[{w}])", 1, "cluster, host"},
    {"replication_lag_bytes", "NexdbReplicationLagBytesHigh", "replication lag", " bytes",
     "nexdb_replication_lag_bytes", 1, "cluster, host"},
    {"replication_lag_ms", "NexdbReplicationLagHigh", "replication lag", " ms",
     "nexdb_replication_lag_seconds", 0.001, "cluster, host"},
    {"cache_hit_ratio", "NexdbCacheHitRatioLow", "buffer cache hit ratio", "",
     "nexdb_cache_hit_ratio", 1, "cluster, host"},
    {"lock_wait_ms", "NexdbLockWaitHigh", "longest lock wait", " ms",
     "nexdb_server_lock_wait_max_seconds", 0.001, "cluster, host"},
    {"idle_in_transaction_ms", "NexdbIdleInTransactionHigh", "longest idle transaction", " ms",
     "nexdb_server_idle_in_transaction_max_seconds", 0.001, "cluster, host"},
};

std::string known_names() {
  std::vector<std::string_view> names;
  for (const auto& spec : specs) names.push_back(spec.metric);
  return fmt::format("{} (or query_duration for query_duration_ms)", fmt::join(names, ", "));
}

bool watched(const MonitorSettings& settings, std::string_view group) {
  return std::find(settings.watch_metrics.begin(), settings.watch_metrics.end(), group) !=
         settings.watch_metrics.end();
}

std::string_view group_of(std::string_view metric) {
  for (const auto& spec : known_alert_thresholds()) {
    if (spec.name == metric) return spec.watch;
  }
  return {};
}

void check_watch(const MonitorSettings& settings) {
  const auto& known = known_watch_metrics();
  for (const auto& name : settings.watch_metrics) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw ConfigError(fmt::format("watch_metrics: unknown metric group '{}' (known: {})", name,
                                    fmt::join(known, ", ")));
    }
  }
}

void check_rule(const MonitorSettings& settings, const AlertRule& rule) {
  const std::string where = rule.name.empty() ? rule.metric : rule.name;
  const std::string_view group = group_of(rule.metric);
  if (!watched(settings, group)) {
    throw ConfigError(
        fmt::format("alert on {}: watch_metrics does not include '{}', which "
                    "produces it",
                    where, group));
  }
  if (!std::isfinite(rule.threshold) || rule.threshold < 0) {
    throw ConfigError(fmt::format("alert on {}: the threshold must be a number >= 0, got {}", where,
                                  rule.threshold));
  }
  if (rule.for_duration.count() < 0 || rule.recover_for.count() < 0) {
    throw ConfigError(fmt::format("alert on {}: durations must not be negative", where));
  }
  if (rule.recover_at) {
    const bool lower = lower_is_worse(rule.metric);
    if (lower ? *rule.recover_at < rule.threshold : *rule.recover_at > rule.threshold) {
      throw ConfigError(fmt::format(
          "alert on {}: recover_at {} is past the threshold {}, so the alert could never resolve",
          where, *rule.recover_at, rule.threshold));
    }
  }
}

}  // namespace

std::string canonical_metric(std::string_view metric) {
  return metric == "query_duration" ? "query_duration_ms" : std::string(metric);
}

const RuleSpec& rule_spec(std::string_view metric) {
  const std::string name = canonical_metric(metric);
  for (const auto& spec : specs) {
    if (spec.metric == name) return spec;
  }
  throw ConfigError(fmt::format("unknown alert metric '{}' (known: {})", metric, known_names()));
}

bool lower_is_worse(std::string_view metric) {
  for (const auto& spec : known_alert_thresholds()) {
    if (spec.name == metric) return spec.lower_is_worse;
  }
  return false;
}

std::vector<AlertRule> effective_rules(const MonitorSettings& settings) {
  check_watch(settings);
  std::map<std::string, double, std::less<>> thresholds;
  for (const auto& [name, value] : settings.alert_thresholds) {
    const std::string canonical(rule_spec(name).metric);
    if (!watched(settings, group_of(canonical))) {
      throw ConfigError(
          fmt::format("alert threshold '{}': watch_metrics does not include '{}', "
                      "which produces it",
                      name, group_of(canonical)));
    }
    thresholds[canonical] = value;
  }
  std::vector<AlertRule> explicit_rules = settings.alerts;
  for (AlertRule& rule : explicit_rules) {
    rule.metric = std::string(rule_spec(rule.metric).metric);
    if (rule.name.empty()) rule.name = std::string(rule_spec(rule.metric).alertname);
  }
  std::vector<AlertRule> rules;
  for (const auto& spec : known_alert_thresholds()) {
    if (!watched(settings, spec.watch)) continue;
    const bool replaced = std::any_of(explicit_rules.begin(), explicit_rules.end(),
                                      [&](const AlertRule& r) { return r.metric == spec.name; });
    if (replaced) continue;
    const auto it = thresholds.find(spec.name);
    rules.push_back({.metric = std::string(spec.name),
                     .threshold = it != thresholds.end() ? it->second : spec.default_value,
                     .for_duration = settings.alert_for,
                     .name = std::string(rule_spec(spec.name).alertname)});
  }
  rules.insert(rules.end(), explicit_rules.begin(), explicit_rules.end());
  for (const AlertRule& rule : rules) check_rule(settings, rule);
  return rules;
}

std::string format_value(double value, std::string_view unit) {
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}{}", static_cast<std::int64_t>(value), unit);
  }
  return fmt::format("{:.4g}{}", value, unit);
}

}  // namespace nexdb::monitor_detail
