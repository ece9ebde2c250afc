// [monitor], [metrics], [migrations] and [backup].
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/checks.hpp"
#include "config/read.hpp"
#include "config/schema.hpp"
#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"

namespace nexdb::config_detail {
namespace {

void check_threshold(const TableReader& table, std::string_view name, double value) {
  if (!(value >= 0)) table.fail(name, fmt::format("must not be negative, got {}", value));
  if (name.ends_with("_ratio") && value > 1) {
    table.fail(name, fmt::format("is a ratio from 0 to 1, got {}", value));
  }
  if (name.ends_with("_count") && value != std::floor(value)) {
    table.fail(name, fmt::format("is a count, got {}", value));
  }
}

void read_thresholds(const TableReader& table, std::map<std::string, double, std::less<>>& out) {
  std::vector<std::string_view> known;
  for (const auto& spec : known_alert_thresholds()) known.push_back(spec.name);
  table.allow_only(known);
  for (std::string_view name : known) {
    if (auto value = table.number(name)) {
      check_threshold(table, name, *value);
      out.insert_or_assign(std::string(name), *value);
    }
  }
}

void read_labels(const TableReader& table, std::map<std::string, std::string, std::less<>>& out) {
  for (const auto& [key, node] : table.table()) {
    const std::string name(key.str());
    const auto value = table.string(name);
    if (auto problem = check_label_name(name)) table.fail(name, *problem);
    if (value->empty()) {
      table.fail(name, "must not be empty (Prometheus treats an empty label as no label)");
    }
    out.insert_or_assign(name, *value);
  }
}

std::vector<std::string> read_watch(const TableReader& monitor,
                                    const std::vector<std::string>& names) {
  const auto& known = known_watch_metrics();
  for (const auto& name : names) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      monitor.fail("watch", fmt::format("unknown metric group '{}' (known: {})", name,
                                        fmt::join(known, ", ")));
    }
  }
  return names;
}

// [monitor.alerts.<threshold>]: for_ms, recover_at, recover_for_ms, severity.
AlertSettings read_alert(const TableReader& alert, const AlertThresholdSpec& spec,
                         double threshold) {
  alert.allow_only(names_of(alert_keys));
  AlertSettings out;
  if (auto v = alert.millis("for_ms")) out.for_duration = *v;
  if (auto v = alert.millis("recover_for_ms")) out.recover_for = *v;
  if (auto text = alert.string("severity")) {
    auto severity = severity_from_string(*text);
    if (!severity)
      alert.fail("severity",
                 fmt::format("unknown severity '{}' (known: info, warning, critical)", *text));
    out.severity = *severity;
  }
  if (auto v = alert.number("recover_at")) {
    check_threshold(alert, "recover_at", *v);
    const bool wrong_side = spec.lower_is_worse ? *v < threshold : *v > threshold;
    if (wrong_side) {
      alert.fail("recover_at",
                 fmt::format("{} is past the threshold {}: an alert could never resolve; "
                             "recover_at must be {} the threshold",
                             *v, threshold, spec.lower_is_worse ? "at or above" : "at or below"));
    }
    out.recover_at = *v;
  }
  return out;
}

void read_alerts(const TableReader& alerts, MonitorConfig& out) {
  std::vector<std::string_view> known;
  for (const auto& spec : known_alert_thresholds()) known.push_back(spec.name);
  alerts.allow_only(known);
  for (const auto& spec : known_alert_thresholds()) {
    if (const auto* table = alerts.subtable(spec.name)) {
      const TableReader reader(alerts.context(), *table, alerts.key_path(spec.name));
      out.alerts.insert_or_assign(
          std::string(spec.name),
          read_alert(reader, spec, out.alert_thresholds.find(spec.name)->second));
    }
  }
}

bool listens_everywhere(std::string_view listen) {
  return listen.starts_with("0.0.0.0:") || listen.starts_with("[::]:");
}

}  // namespace

MonitorConfig read_monitor(const TableReader& monitor) {
  monitor.allow_only(names_of(monitor_keys));
  MonitorConfig out;
  if (auto v = monitor.millis("interval_ms", 1)) out.interval = *v;
  if (const auto* thresholds = monitor.subtable("alert_thresholds")) {
    read_thresholds(
        TableReader(monitor.context(), *thresholds, monitor.key_path("alert_thresholds")),
        out.alert_thresholds);
  }
  if (auto v = monitor.millis("for_ms")) out.alert_for = *v;
  if (auto watch = monitor.strings("watch")) out.watch = read_watch(monitor, *watch);
  if (auto v = monitor.integer("max_fingerprints", 1))
    out.max_fingerprints = static_cast<std::size_t>(*v);
  if (auto v = monitor.integer("slow_statements"))
    out.slow_statements = static_cast<std::size_t>(*v);
  for (std::string_view key : {"alertmanager_url", "webhook_url"}) {
    if (auto url = monitor.string(key)) {
      if (!url->empty() && !url->starts_with("http://") && !url->starts_with("https://")) {
        monitor.fail(key,
                     fmt::format("'{}' is not an http:// or https:// URL", redact_password(*url)));
      }
      (key == "webhook_url" ? out.webhook_url : out.alertmanager_url) = *url;
    }
  }
  if (const auto* alerts = monitor.subtable("alerts")) {
    read_alerts(TableReader(monitor.context(), *alerts, monitor.key_path("alerts")), out);
  }
  return out;
}

MetricsConfig read_metrics(const TableReader& metrics, std::vector<std::string>& warnings) {
  metrics.allow_only(names_of(metrics_keys));
  MetricsConfig out;
  if (auto listen = metrics.string("listen")) {
    if (!listen->empty()) {
      if (auto problem = check_listen(*listen)) metrics.fail("listen", *problem);
    }
    out.listen = *listen;
  }
  if (listens_everywhere(out.listen)) {
    warnings.push_back(
        fmt::format("metrics.listen = \"{}\" serves metrics on every network "
                    "interface; prefer a loopback or private address",
                    out.listen));
  }
  if (auto v = metrics.millis("export_interval_ms", 1)) out.export_interval = *v;
  if (auto url = metrics.string("pushgateway_url")) {
    if (!url->empty() && !url->starts_with("http://") && !url->starts_with("https://")) {
      metrics.fail("pushgateway_url",
                   fmt::format("'{}' is not an http:// or https:// URL", redact_password(*url)));
    }
    out.pushgateway_url = *url;
  }
  if (auto job = metrics.string("job")) {
    if (job->empty())
      metrics.fail("job", "must not be empty (the Pushgateway files metrics under it)");
    out.job = *job;
  }
  if (const auto* labels = metrics.subtable("labels")) {
    read_labels(TableReader(metrics.context(), *labels, metrics.key_path("labels")), out.labels);
  }
  return out;
}

MigrationsConfig read_migrations(const TableReader& migrations) {
  migrations.allow_only(names_of(migrations_keys));
  MigrationsConfig out;
  if (auto folder = migrations.string("folder")) {
    if (folder->empty()) {
      migrations.fail("folder", "must not be empty (use \".\" for the working directory)");
    }
    out.folder = *folder;
  }
  if (auto v = migrations.boolean("allow_out_of_order")) out.allow_out_of_order = *v;
  if (auto table = migrations.string("table")) {
    try {
      validate_identifier(*table);
    } catch (const UsageError& e) {
      migrations.fail("table", e.message());
    }
    out.table = *table;
  }
  return out;
}

BackupConfig read_backup(const TableReader& backup) {
  backup.allow_only(names_of(backup_keys));
  BackupConfig out;
  for (auto [key, member] : {std::pair{std::string_view("repository"), &BackupConfig::repository},
                             std::pair{std::string_view("pg_bindir"), &BackupConfig::pg_bindir}}) {
    if (auto v = backup.string(key)) {
      if (v->empty()) backup.fail(key, "must not be empty");
      out.*member = *v;
    }
  }
  if (auto v = backup.integer("keep_last")) out.keep_last = *v;
  if (auto v = backup.integer("keep_days")) out.keep_days = *v;
  if (auto v = backup.integer("jobs", 1)) out.jobs = *v;
  if (auto v = backup.integer("command_timeout_minutes", 1)) out.command_timeout_minutes = *v;
  if (auto v = backup.integer("lock_wait_timeout_seconds", 1)) out.lock_wait_timeout_seconds = *v;
  if (auto v = backup.string("verify_server")) {
    if (!v->empty()) {
      if (auto problem = check_uri(*v)) backup.fail("verify_server", *problem);
    }
    out.verify_server = *v;
  }
  return out;
}

}  // namespace nexdb::config_detail
