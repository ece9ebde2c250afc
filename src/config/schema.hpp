// Every key nexdb.toml knows, with its type: one list drives unknown-key errors, the
// NEXDB_* environment mapping and describe().
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/pool.hpp"

namespace nexdb::config_detail {

enum class Kind { string, integer, boolean, number, strings, integers, table };

struct KeySpec {
  std::string_view key{};
  Kind kind = Kind::string;
};

/// A key bound to a member of a settings struct, read and described generically.
template <class T>
struct Field {
  using Member =
      std::variant<std::size_t T::*, std::chrono::milliseconds T::*, std::string T::*, bool T::*>;
  std::string_view key{};
  Member member{};
  /// Smallest accepted value for numbers.
  std::int64_t min = 0;
};

inline constexpr Field<ConnectOptions> connection_fields[] = {
    {"connect_timeout_ms", &ConnectOptions::connect_timeout, 1},
    {"statement_timeout_ms", &ConnectOptions::statement_timeout},
    {"busy_timeout_ms", &ConnectOptions::busy_timeout},
    {"statement_cache_size", &ConnectOptions::statement_cache_size},
    {"application_name", &ConnectOptions::application_name},
    {"sqlite_wal", &ConnectOptions::sqlite_wal},
};

inline constexpr Field<PoolSettings> pool_fields[] = {
    {"min_idle", &PoolSettings::min_idle},
    {"max_size", &PoolSettings::max_size, 1},
    {"acquire_timeout_ms", &PoolSettings::acquire_timeout},
    {"idle_timeout_ms", &PoolSettings::idle_timeout},
    {"max_lifetime_ms", &PoolSettings::max_lifetime},
    {"validation_threshold_ms", &PoolSettings::validation_threshold},
    {"leak_detection_threshold_ms", &PoolSettings::leak_detection_threshold},
    {"housekeeping_period_ms", &PoolSettings::housekeeping_period, 1},
};

template <class T>
Kind kind_of(const Field<T>& field) {
  if (std::holds_alternative<std::string T::*>(field.member)) return Kind::string;
  if (std::holds_alternative<bool T::*>(field.member)) return Kind::boolean;
  return Kind::integer;
}

inline constexpr KeySpec top_level_keys[] = {
    {"database", Kind::table}, {"connection", Kind::table}, {"pool", Kind::table},
    {"clusters", Kind::table}, {"shards", Kind::table},     {"monitor", Kind::table},
    {"metrics", Kind::table},  {"migrations", Kind::table}, {"backup", Kind::table},
};
inline constexpr KeySpec cluster_keys[] = {
    {"primary", Kind::string},
    {"replicas", Kind::strings},
    {"read_preference", Kind::string},
    {"max_replication_lag_bytes", Kind::integer},
    {"max_replication_lag_ms", Kind::integer},
    {"latency_window_ms", Kind::integer},
    {"health_check_interval_ms", Kind::integer},
    {"read_your_writes_wait_ms", Kind::integer},
    {"pool", Kind::table},
    {"connection", Kind::table},
};
inline constexpr KeySpec shard_keys[] = {
    {"key", Kind::string},
    {"function", Kind::string},
    {"count", Kind::integer},
    {"key_type", Kind::string},
    {"range_starts", Kind::integers},
    {"key_ranges", Kind::strings},
    {"lookup_cluster", Kind::string},
    {"lookup_table", Kind::string},
    {"lookup_cache_ttl_ms", Kind::integer},
    {"tables", Kind::table},
    {"reference_tables", Kind::strings},
    {"map", Kind::table},
    // The seed's spellings of key, function, count and map.
    {"shard_key", Kind::string},
    {"shard_function", Kind::string},
    {"num_shards", Kind::integer},
    {"shard_map", Kind::table},
};
inline constexpr KeySpec monitor_keys[] = {
    {"interval_ms", Kind::integer},
    {"alert_thresholds", Kind::table},
    {"for_ms", Kind::integer},
    {"alerts", Kind::table},
    {"watch", Kind::strings},
    {"max_fingerprints", Kind::integer},
    {"slow_statements", Kind::integer},
    {"alertmanager_url", Kind::string},
    {"webhook_url", Kind::string},
};
/// [monitor.alerts.<threshold>]
inline constexpr KeySpec alert_keys[] = {
    {"for_ms", Kind::integer},
    {"recover_at", Kind::number},
    {"recover_for_ms", Kind::integer},
    {"severity", Kind::string},
};
inline constexpr KeySpec metrics_keys[] = {
    {"listen", Kind::string},
    {"export_interval_ms", Kind::integer},
    {"labels", Kind::table},
    {"pushgateway_url", Kind::string},
    {"job", Kind::string},
};
inline constexpr KeySpec migrations_keys[] = {
    {"folder", Kind::string},
    {"allow_out_of_order", Kind::boolean},
    {"table", Kind::string},
};

inline constexpr KeySpec backup_keys[] = {
    {"repository", Kind::string}, {"keep_last", Kind::integer},  {"keep_days", Kind::integer},
    {"jobs", Kind::integer},      {"pg_bindir", Kind::string},   {"verify_server", Kind::string},
    {"command_timeout_minutes", Kind::integer},  {"lock_wait_timeout_seconds", Kind::integer},
};

/// The [connection] keys; [database] is those plus `uri` (the foundation's form).
const std::vector<KeySpec>& connection_keys();
const std::vector<KeySpec>& pool_keys();
const std::vector<KeySpec>& database_keys();

/// Every key path that has a fixed name ("pool.max_size",
/// "monitor.alert_thresholds.query_duration_ms"); tables excluded.
const std::vector<std::pair<std::string, Kind>>& fixed_paths();
/// Key paths inside one cluster ("primary", "pool.max_size"); tables excluded.
const std::vector<std::pair<std::string, Kind>>& cluster_paths();

std::vector<std::string_view> names_of(std::span<const KeySpec> keys);

}  // namespace nexdb::config_detail
