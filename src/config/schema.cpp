#include "config/schema.hpp"

#include "config/context.hpp"
#include "nexdb/config.hpp"

namespace nexdb::config_detail {
namespace {

template <class T, std::size_t N>
std::vector<KeySpec> keys_of(const Field<T> (&fields)[N]) {
  std::vector<KeySpec> out;
  for (const auto& field : fields) out.push_back({field.key, kind_of(field)});
  return out;
}

// Appends the non-table keys of `keys` under `prefix`, recursing into the tables whose keys are
// fixed (pool and connection inside a cluster).
void add_paths(std::vector<std::pair<std::string, Kind>>& out, std::string_view prefix,
               std::span<const KeySpec> keys) {
  for (const KeySpec& spec : keys) {
    if (spec.kind == Kind::table) {
      if (spec.key == "pool") add_paths(out, join_key(prefix, "pool"), pool_keys());
      if (spec.key == "connection") {
        add_paths(out, join_key(prefix, "connection"), connection_keys());
      }
      continue;
    }
    out.emplace_back(join_key(prefix, spec.key), spec.kind);
  }
}

}  // namespace

const std::vector<KeySpec>& connection_keys() {
  static const std::vector<KeySpec> keys = keys_of(connection_fields);
  return keys;
}

const std::vector<KeySpec>& pool_keys() {
  static const std::vector<KeySpec> keys = keys_of(pool_fields);
  return keys;
}

const std::vector<KeySpec>& database_keys() {
  static const std::vector<KeySpec> keys = [] {
    std::vector<KeySpec> out{{"uri", Kind::string}};
    out.insert(out.end(), connection_keys().begin(), connection_keys().end());
    return out;
  }();
  return keys;
}

const std::vector<std::pair<std::string, Kind>>& fixed_paths() {
  static const std::vector<std::pair<std::string, Kind>> paths = [] {
    std::vector<std::pair<std::string, Kind>> out;
    add_paths(out, "database", database_keys());
    add_paths(out, "connection", connection_keys());
    add_paths(out, "pool", pool_keys());
    add_paths(out, "shards", shard_keys);
    add_paths(out, "monitor", monitor_keys);
    for (const auto& threshold : known_alert_thresholds()) {
      out.emplace_back(join_key("monitor.alert_thresholds", threshold.name), Kind::number);
    }
    for (const auto& threshold : known_alert_thresholds()) {
      add_paths(out, join_key("monitor.alerts", threshold.name), alert_keys);
    }
    add_paths(out, "metrics", metrics_keys);
    add_paths(out, "migrations", migrations_keys);
    add_paths(out, "backup", backup_keys);
    return out;
  }();
  return paths;
}

const std::vector<std::pair<std::string, Kind>>& cluster_paths() {
  static const std::vector<std::pair<std::string, Kind>> paths = [] {
    std::vector<std::pair<std::string, Kind>> out;
    add_paths(out, "", cluster_keys);
    return out;
  }();
  return paths;
}

std::vector<std::string_view> names_of(std::span<const KeySpec> keys) {
  std::vector<std::string_view> out;
  out.reserve(keys.size());
  for (const KeySpec& spec : keys) out.push_back(spec.key);
  return out;
}

}  // namespace nexdb::config_detail
