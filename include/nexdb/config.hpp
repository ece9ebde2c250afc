// nexdb::Config: everything nexdb.toml (and NEXDB_* environment variables) can say.
//
// Loading resolves inheritance, so each ClusterConfig carries its effective pool and connection
// settings ([pool] and [connection] overlaid by [clusters.<name>.pool] / .connection). Every
// error is a ConfigError naming where the value came from, the full key and what to fix:
//   nexdb.toml:12: clusters.main.pool.max_szie: unknown key (known: min_idle, max_size, ...)
//   environment variable NEXDB_POOL_MAX_SIZE: pool.max_size: expected an integer, got 'ten'
// Passwords in connection URIs never appear in messages or in describe(). See
// docs/configuration.md for every key.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/database.hpp"
#include "nexdb/pool.hpp"
#include "nexdb/shard_key.hpp"

namespace nexdb {

/// Where a cluster's read-only work goes (the router of issue 4 applies it).
enum class ReadPreference {
  primary,            // always the primary: reads see the application's own writes
  primary_preferred,  // the primary; a replica when the primary is down
  replica,            // replicas only; fails when none is usable
  replica_preferred,  // a replica within the lag limits; the primary otherwise
  nearest,            // the lowest-latency usable host, primary included
};
std::string_view to_string(ReadPreference preference) noexcept;
/// The preference spelled as in nexdb.toml ("replica_preferred"); nullopt when unknown.
std::optional<ReadPreference> read_preference_from_string(std::string_view text) noexcept;

/// One primary and its replicas.
struct ClusterConfig {
  std::string name{};
  /// libpq URI or key=value string, or sqlite:path.
  std::string primary{};
  std::vector<std::string> replicas{};
  ReadPreference read_preference = ReadPreference::primary;
  /// A replica further behind than either limit is not used for reads (0 = no limit).
  std::uint64_t max_replication_lag_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds max_replication_lag{5000};
  /// `nearest` spreads reads over hosts within this round-trip time of the nearest.
  std::chrono::milliseconds latency_window{15};
  /// How often each host is probed (role, WAL position, round-trip time).
  std::chrono::milliseconds health_check_interval{500};
  /// Read-your-writes: how long a session's read waits for a replica to replay its writes
  /// before it goes to the primary (0 = do not wait).
  std::chrono::milliseconds read_your_writes_wait{0};
  /// Effective settings: [connection] overlaid by [clusters.<name>.connection]; `uri` is empty.
  ConnectOptions connection{};
  /// Effective settings: [pool] overlaid by [clusters.<name>.pool]; `name` is the cluster's.
  PoolSettings pool{};

  /// This cluster's connection settings for `uri` (its primary or one of its replicas).
  ConnectOptions connect_options(std::string_view uri) const;
};

enum class ShardFunction {
  hash,    // XXH3 of the key onto key ranges of the 64-bit hash space (equal ranges by default)
  modulo,  // shard = key mod num_shards (integer keys)
  range,   // shard i holds keys in [range_starts[i], range_starts[i + 1]) (integer keys)
  lookup,  // a directory table says which shard holds each key; new keys are placed by hash
};
std::string_view to_string(ShardFunction function) noexcept;
/// The function spelled as in nexdb.toml ("modulo"); nullopt when unknown.
std::optional<ShardFunction> shard_function_from_string(std::string_view text) noexcept;

/// The shard map (the seed's shard_key, shard_function, num_shards, shard_map). Not sharded
/// when shard_map is empty. See docs/sharding.md.
struct ShardConfig {
  /// The column the application shards by, e.g. "user_id".
  std::string shard_key{};
  ShardFunction function = ShardFunction::hash;
  /// Number of shards; 0 means one per shard_map entry.
  std::size_t num_shards = 0;
  /// Shard number -> cluster name; several shards may share a cluster. In code (not in
  /// nexdb.toml) a value may also be a connection URI, a cluster of its own.
  std::map<std::size_t, std::string> shard_map{};
  /// What the key column holds; values are read as this type before hashing.
  ShardKeyType key_type = ShardKeyType::integer;
  /// Tables whose key column is not named shard_key, e.g. {"users", "id"} when users are
  /// sharded by their own id and orders by user_id.
  std::map<std::string, std::string, std::less<>> table_keys{};
  /// Reference tables: copied whole to every shard (countries, plans), without a key column.
  /// Reads that name only them run on one shard; writes to them run on every cluster in one
  /// cross-shard transaction. Names as the SQL parser reads them (lower case unless quoted).
  std::vector<std::string> reference_tables{};
  /// `range`: the lowest key of each shard, strictly increasing.
  std::vector<std::int64_t> range_starts{};
  /// `hash`: each shard's part of the hash space ("-40", "40-80", ...), in shard order; empty
  /// for equal ranges. A shard splits by replacing its range with two.
  std::vector<std::string> key_ranges{};
  /// `lookup`: the cluster holding the directory table, and its name.
  std::string lookup_cluster{};
  std::string lookup_table = "nexdb_shard_directory";
  /// `lookup`: how long a directory entry is cached in the process.
  std::chrono::milliseconds lookup_cache_ttl{60000};

  std::size_t count() const noexcept { return num_shards != 0 ? num_shards : shard_map.size(); }
  bool enabled() const noexcept { return !shard_map.empty(); }
  /// The cluster of `shard`; ConfigError when the map has no such shard.
  const std::string& cluster_of(std::size_t shard) const;
  /// The key column of `table` (table_keys, else shard_key).
  std::string_view key_column(std::string_view table) const noexcept;
  /// True when `table` is one of reference_tables.
  bool is_reference(std::string_view table) const noexcept;
};

/// What DBMonitor can watch, by group: "query_duration", "connection_count", "cache_hit_ratio",
/// "deadlock_count", "replication_lag", "sessions" (lock waits, idle transactions), "pool",
/// "errors", "transactions", "slow_statements".
const std::vector<std::string_view>& known_watch_metrics();

/// A known alert threshold and its default.
struct AlertThresholdSpec {
  std::string_view name{};
  double default_value = 0;
  /// Alert when the observed value goes below (true) instead of above the threshold.
  bool lower_is_worse = false;
  /// The watch_metrics group that produces the value.
  std::string_view watch{};
};
/// Every threshold [monitor.alert_thresholds] accepts; other names are errors.
const std::vector<AlertThresholdSpec>& known_alert_thresholds();
/// Each known threshold at its default value.
std::map<std::string, double, std::less<>> default_alert_thresholds();

/// How urgent an alert is (its `severity` label in Alertmanager).
enum class Severity { info, warning, critical };
std::string_view to_string(Severity severity) noexcept;
std::optional<Severity> severity_from_string(std::string_view text) noexcept;

/// [monitor.alerts.<threshold>]: how one threshold alerts.
struct AlertSettings {
  /// How long the threshold must stay crossed before the alert fires (default: [monitor] for_ms).
  std::optional<std::chrono::milliseconds> for_duration{};
  /// Hysteresis: a firing alert resolves only once the value is back past this (default: the
  /// threshold itself).
  std::optional<double> recover_at{};
  /// ... and has stayed there this long.
  std::chrono::milliseconds recover_for{0};
  Severity severity = Severity::warning;
};

struct MonitorConfig {
  /// How often the monitor samples the servers and evaluates alerts.
  std::chrono::milliseconds interval{10000};
  /// Threshold name -> value; always holds every known threshold.
  std::map<std::string, double, std::less<>> alert_thresholds = default_alert_thresholds();
  /// Default `for` of every alert.
  std::chrono::milliseconds alert_for{0};
  /// Threshold name -> its alert settings (absent: defaults).
  std::map<std::string, AlertSettings, std::less<>> alerts{};
  /// The groups to watch (known_watch_metrics()); default: all.
  std::vector<std::string> watch{known_watch_metrics().begin(), known_watch_metrics().end()};
  /// Distinct query fingerprints with their own series; further shapes count as "other".
  std::size_t max_fingerprints = 500;
  /// How many of pg_stat_statements' slowest statements to export (0 = none).
  std::size_t slow_statements = 10;
  /// Alert sinks besides the log: Prometheus Alertmanager's base URL and a JSON webhook.
  std::string alertmanager_url{};
  std::string webhook_url{};
};

struct MetricsConfig {
  /// host:port of the Prometheus endpoint; empty = no endpoint. Loopback by default.
  std::string listen = "127.0.0.1:9477";
  /// How often metrics are pushed to the Pushgateway (with pushgateway_url).
  std::chrono::milliseconds export_interval{15000};
  /// Constant labels added to every series (validated Prometheus label names).
  std::map<std::string, std::string, std::less<>> labels{};
  /// Pushgateway base URL ("" = do not push) and the job name it files the metrics under.
  std::string pushgateway_url{};
  std::string job = "nexdb";
};

struct MigrationsConfig {
  /// Folder of V*.sql / U*.sql files, relative to the working directory.
  std::string folder = "migrations";
  /// Apply a new version lower than the highest applied one instead of failing.
  bool allow_out_of_order = false;
  /// The history table.
  std::string table = "nexdb_schema_history";
};

/// [backup]: where `nexdb backup` keeps backups and how long (see docs/backup.md).
struct BackupConfig {
  /// The repository directory, relative to the working directory.
  std::string repository = "nexdb-data/backups";
  /// `nexdb backup prune`: keep the newest N of each kind (0 = rule off).
  std::int64_t keep_last = 0;
  /// `nexdb backup prune`: keep everything younger than D days (0 = rule off).
  std::int64_t keep_days = 0;
  /// pg_restore / pg_dump parallel workers.
  std::int64_t jobs = 2;
  /// PostgreSQL's programs (pg_dump, pg_basebackup, initdb, ...).
  std::string pg_bindir = "/usr/lib/postgresql/15/bin";
  /// Verify logical backups in a temporary database on this server instead of a scratch
  /// instance (a libpq URI; empty = scratch instance).
  std::string verify_server{};
  /// Stop pg_dump, pg_restore, pg_basebackup ... after this many minutes.
  std::int64_t command_timeout_minutes = 24 * 60;
  /// Wait at most this long for a table lock while backing up.
  std::int64_t lock_wait_timeout_seconds = 60;
};

/// One setting of the effective configuration, for `nexdb config check`.
struct ConfigEntry {
  using Value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>,
                             std::vector<std::int64_t>>;
  /// Full key path, e.g. "clusters.main.pool.max_size".
  std::string key{};
  /// URIs have their passwords masked.
  Value value{};
  /// "default", "nexdb.toml:12", "nexdb.toml:3 (pool.max_size)" for an inherited value, or
  /// "env NEXDB_POOL_MAX_SIZE".
  std::string origin{};

  /// The value as TOML writes it: 20, true, "text", ["a", "b"].
  std::string value_text() const;
};

/// What `nexdb config check` prints.
struct ConfigReport {
  /// The file read; empty when no file was found (built-in defaults).
  std::string source{};
  /// NEXDB_* variables that were applied.
  std::vector<std::string> environment{};
  std::vector<std::string> warnings{};
  std::vector<ConfigEntry> entries{};

  /// "key = value  # origin" lines, preceded by a comment naming the sources.
  std::string to_text() const;
  /// {"source", "environment", "warnings", "config": {nested keys}, "origins": {key: origin}}.
  std::string to_json() const;
};

struct Config {
  /// In file order. With no cluster configured: one cluster `default` on the embedded SQLite
  /// database (default_database_uri).
  std::vector<ClusterConfig> clusters = {
      ClusterConfig{.name = "default", .primary = std::string(default_database_uri)}};
  ShardConfig shards{};
  MonitorConfig monitor{};
  MetricsConfig metrics{};
  MigrationsConfig migrations{};
  BackupConfig backup{};

  /// The file read; empty for built-in defaults.
  std::string source{};
  /// NEXDB_* variables that were applied, in name order.
  std::vector<std::string> environment{};
  /// Suspicious but valid settings (also logged at load).
  std::vector<std::string> warnings{};
  /// Key path -> where it was set ("nexdb.toml:12", "env NEXDB_POOL_MAX_SIZE"); keys absent
  /// here have their default.
  std::map<std::string, std::string, std::less<>> origins{};

  /// Built-in defaults only: no file, no environment.
  static Config defaults();
  /// `path` (which must exist), then NEXDB_* environment variables.
  static Config load(const std::string& path);
  /// $NEXDB_CONFIG if set (the file must exist), else ./nexdb.toml if present, else built-in
  /// defaults; then NEXDB_* environment variables.
  static Config load_default();
  /// TOML text; `source_name` stands for the file in messages. No environment is applied.
  static Config parse(std::string_view toml, std::string_view source_name = "nexdb.toml");

  /// The cluster called `name`; ConfigError listing the clusters when there is none.
  const ClusterConfig& cluster(std::string_view name) const;
  /// The cluster called "default" if there is one, else the first in the file.
  const ClusterConfig& default_cluster() const;

  /// The effective configuration, every key with its value and origin, passwords masked.
  ConfigReport describe() const;
};

}  // namespace nexdb
