// Config: finding the file, parsing it, overlaying the environment, and looking up clusters.
#include "nexdb/config.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "config/context.hpp"
#include "config/environment.hpp"
#include "config/read.hpp"
#include "nexdb/error.hpp"

namespace nexdb {
namespace {

using config_detail::Context;
using config_detail::Environment;

constexpr std::string_view default_file = "nexdb.toml";

toml::table parse_text(std::string_view text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(
        fmt::format("{}:{}: TOML syntax error: {}", name, e.source().begin.line, e.description()));
  }
}

toml::table parse_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw ConfigError(
        fmt::format("{}: configuration file not found (or not a regular file)", path));
  }
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) {
      throw ConfigError(fmt::format("{}: cannot read: {}", path, e.description()));
    }
    throw ConfigError(
        fmt::format("{}:{}: TOML syntax error: {}", path, e.source().begin.line, e.description()));
  }
}

Config build(toml::table root, Context ctx, const Environment* env) {
  std::vector<std::string> applied;
  if (env != nullptr) applied = config_detail::apply_environment(root, ctx, *env);
  Config config = config_detail::read_config(root, ctx);
  config.environment = std::move(applied);
  config.origins = ctx.origins();
  for (const auto& warning : config.warnings) spdlog::warn("nexdb configuration: {}", warning);
  return config;
}

Config load_file(const std::string& path) {
  const Environment env = config_detail::process_environment();
  Config config = build(parse_file(path), Context(path), &env);
  config.source = path;
  return config;
}

}  // namespace

Config Config::defaults() { return Config{}; }

Config Config::load(const std::string& path) { return load_file(path); }

Config Config::load_default() {
  if (const char* explicit_path = std::getenv("NEXDB_CONFIG"); explicit_path && *explicit_path) {
    return load_file(explicit_path);
  }
  std::error_code ec;
  if (std::filesystem::exists(default_file, ec)) return load_file(std::string(default_file));
  // No file: the environment alone, over the defaults.
  const Environment env = config_detail::process_environment();
  return build(toml::table{}, Context("(no configuration file)"), &env);
}

Config Config::parse(std::string_view toml, std::string_view source_name) {
  const std::string name(source_name);
  Config config = build(parse_text(toml, name), Context(name), nullptr);
  config.source = name;
  return config;
}

const ClusterConfig& Config::cluster(std::string_view name) const {
  for (const auto& cluster : clusters) {
    if (cluster.name == name) return cluster;
  }
  throw ConfigError(fmt::format("no cluster '{}' in the configuration (clusters: {})", name,
                                config_detail::join_names(clusters)));
}

const ClusterConfig& Config::default_cluster() const {
  if (clusters.empty()) throw ConfigError("the configuration has no clusters");
  for (const auto& cluster : clusters) {
    if (cluster.name == "default") return cluster;
  }
  return clusters.front();
}

ConnectOptions ClusterConfig::connect_options(std::string_view uri) const {
  ConnectOptions options = connection;
  options.uri = std::string(uri);
  return options;
}

std::string_view to_string(ReadPreference preference) noexcept {
  switch (preference) {
    case ReadPreference::primary:
      return "primary";
    case ReadPreference::primary_preferred:
      return "primary_preferred";
    case ReadPreference::replica:
      return "replica";
    case ReadPreference::replica_preferred:
      return "replica_preferred";
    case ReadPreference::nearest:
      return "nearest";
  }
  return "primary";
}

std::optional<ReadPreference> read_preference_from_string(std::string_view text) noexcept {
  for (auto p :
       {ReadPreference::primary, ReadPreference::primary_preferred, ReadPreference::replica,
        ReadPreference::replica_preferred, ReadPreference::nearest}) {
    if (to_string(p) == text) return p;
  }
  return std::nullopt;
}

std::string_view to_string(ShardFunction function) noexcept {
  switch (function) {
    case ShardFunction::hash: return "hash";
    case ShardFunction::modulo: return "modulo";
    case ShardFunction::range: return "range";
    case ShardFunction::lookup: return "lookup";
  }
  return "hash";
}

std::optional<ShardFunction> shard_function_from_string(std::string_view text) noexcept {
  for (auto f : {ShardFunction::hash, ShardFunction::modulo, ShardFunction::range, ShardFunction::lookup}) {
    if (to_string(f) == text) return f;
  }
  return std::nullopt;
}

const std::string& ShardConfig::cluster_of(std::size_t shard) const {
  auto it = shard_map.find(shard);
  if (it == shard_map.end()) {
    throw ConfigError(fmt::format("shard {} has no cluster in the shard map (shards 0 to {})", shard,
                                  count() == 0 ? 0 : count() - 1));
  }
  return it->second;
}

std::string_view ShardConfig::key_column(std::string_view table) const noexcept {
  auto it = table_keys.find(table);
  return it != table_keys.end() ? std::string_view(it->second) : std::string_view(shard_key);
}

bool ShardConfig::is_reference(std::string_view table) const noexcept {
  return std::find(reference_tables.begin(), reference_tables.end(), table) !=
         reference_tables.end();
}

const std::vector<std::string_view>& known_watch_metrics() {
  static const std::vector<std::string_view> names{
      "query_duration", "connection_count", "cache_hit_ratio", "deadlock_count", "replication_lag",
      "sessions",       "pool",             "errors",          "transactions",   "slow_statements"};
  return names;
}

const std::vector<AlertThresholdSpec>& known_alert_thresholds() {
  static const std::vector<AlertThresholdSpec> specs{
      {.name = "query_duration_ms", .default_value = 1000, .watch = "query_duration"},
      {.name = "connection_count", .default_value = 100, .watch = "connection_count"},
      {.name = "deadlock_count", .default_value = 5, .watch = "deadlock_count"},
      {.name = "replication_lag_bytes", .default_value = 16 * 1024 * 1024, .watch = "replication_lag"},
      {.name = "replication_lag_ms", .default_value = 5000, .watch = "replication_lag"},
      {.name = "cache_hit_ratio", .default_value = 0.99, .lower_is_worse = true, .watch = "cache_hit_ratio"},
      {.name = "lock_wait_ms", .default_value = 5000, .watch = "sessions"},
      {.name = "idle_in_transaction_ms", .default_value = 60000, .watch = "sessions"},
  };
  return specs;
}

std::string_view to_string(Severity severity) noexcept {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "warning";
}

std::optional<Severity> severity_from_string(std::string_view text) noexcept {
  for (auto s : {Severity::info, Severity::warning, Severity::critical}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::map<std::string, double, std::less<>> default_alert_thresholds() {
  std::map<std::string, double, std::less<>> out;
  for (const auto& spec : known_alert_thresholds()) out.emplace(spec.name, spec.default_value);
  return out;
}

}  // namespace nexdb
