// Top level: [connection], [pool], the foundation's [database], and [clusters.*].
#include <fmt/format.h>

#include <algorithm>

#include "config/checks.hpp"
#include "config/read.hpp"
#include "config/schema.hpp"
#include "nexdb/error.hpp"

namespace nexdb::config_detail {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// Overlays the keys present in `table` onto `out`; absent keys keep what `out` had, which
// is how a cluster inherits [pool] and [connection].
template <class T, std::size_t N>
void read_fields(const TableReader& table, const Field<T> (&fields)[N], T& out) {
  for (const Field<T>& field : fields) {
    std::visit(Overloaded{
                   [&](std::size_t T::*m) {
                     if (auto v = table.integer(field.key, field.min)) {
                       out.*m = static_cast<std::size_t>(*v);
                     }
                   },
                   [&](std::chrono::milliseconds T::*m) {
                     if (auto v = table.millis(field.key, field.min)) out.*m = *v;
                   },
                   [&](std::string T::*m) {
                     if (auto v = table.string(field.key)) out.*m = *v;
                   },
                   [&](bool T::*m) {
                     if (auto v = table.boolean(field.key)) out.*m = *v;
                   },
               },
               field.member);
  }
}

// The connection keys of `table`, whose other keys the caller has checked.
void read_connection_keys(const TableReader& table, ConnectOptions& out) {
  read_fields(table, connection_fields, out);
  if (auto problem = check_application_name(out.application_name)) {
    if (table.table().contains("application_name")) table.fail("application_name", *problem);
  }
}

void read_connection(const TableReader& table, ConnectOptions& out) {
  table.allow_only(names_of(connection_keys()));
  read_connection_keys(table, out);
}

void read_pool(const TableReader& table, PoolSettings& out) {
  table.allow_only(names_of(pool_keys()));
  read_fields(table, pool_fields, out);
}

// min_idle > max_size may come from two layers; blame the most specific key that was set.
void check_pool(const Context& ctx, const std::string& cluster_path, const PoolSettings& pool) {
  if (pool.min_idle <= pool.max_size) return;
  const std::string candidates[] = {cluster_path + ".pool.min_idle",
                                    cluster_path + ".pool.max_size", "pool.min_idle",
                                    "pool.max_size"};
  std::string blamed = candidates[0];
  for (const auto& path : candidates) {
    if (ctx.has(path)) {
      blamed = path;
      break;
    }
  }
  ctx.fail(blamed, fmt::format("min_idle ({}) exceeds max_size ({}) for cluster '{}'; lower "
                               "min_idle or raise max_size",
                               pool.min_idle, pool.max_size,
                               cluster_path.substr(cluster_path.find('.') + 1)));
}

void check_uri_at(const TableReader& table, std::string_view key, std::string_view uri) {
  if (auto problem = check_uri(uri)) table.fail(key, *problem);
}

std::vector<std::string> read_replicas(const TableReader& table, std::string_view primary) {
  auto replicas = table.strings("replicas").value_or(std::vector<std::string>{});
  const Dialect dialect = dialect_of(primary);
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    const std::string& uri = replicas[i];
    if (auto problem = check_uri(uri)) {
      table.fail("replicas", fmt::format("item {}: {}", i, *problem));
    }
    if (dialect_of(uri) != dialect) {
      table.fail("replicas", fmt::format("item {}: a {} replica of a {} primary; a cluster's hosts "
                                         "must all be the same database system",
                                         i, to_string(dialect_of(uri)), to_string(dialect)));
    }
    if (uri == primary ||
        std::find(replicas.begin(), replicas.begin() + i, uri) != replicas.begin() + i) {
      table.fail("replicas", fmt::format("item {}: '{}' is listed twice", i, redact_password(uri)));
    }
  }
  return replicas;
}

ReadPreference read_preference(const TableReader& table, bool has_replicas) {
  const auto text = table.string("read_preference");
  if (!text) return ReadPreference::primary;
  const auto preference = read_preference_from_string(*text);
  if (!preference) {
    table.fail("read_preference",
               fmt::format("unknown read preference '{}' (known: primary, primary_preferred, "
                           "replica, replica_preferred, nearest)",
                           *text));
  }
  if (*preference == ReadPreference::replica && !has_replicas) {
    table.fail("read_preference",
               "'replica' needs at least one replica; add `replicas` or use "
               "replica_preferred");
  }
  return *preference;
}

ClusterConfig read_cluster(const TableReader& table, std::string name,
                           const ConnectOptions& connection, const PoolSettings& pool,
                           std::vector<std::string>& warnings) {
  table.allow_only(names_of(cluster_keys));
  ClusterConfig cluster{.name = std::move(name), .connection = connection, .pool = pool};
  const auto primary = table.string("primary");
  if (!primary) table.fail("primary", "required: the URI of the cluster's primary");
  check_uri_at(table, "primary", *primary);
  cluster.primary = *primary;
  cluster.replicas = read_replicas(table, cluster.primary);
  cluster.read_preference = read_preference(table, !cluster.replicas.empty());
  if (auto v = table.integer("max_replication_lag_bytes")) cluster.max_replication_lag_bytes = *v;
  if (auto v = table.millis("max_replication_lag_ms")) cluster.max_replication_lag = *v;
  if (auto v = table.millis("latency_window_ms")) cluster.latency_window = *v;
  if (auto v = table.millis("health_check_interval_ms", 1)) cluster.health_check_interval = *v;
  if (auto v = table.millis("read_your_writes_wait_ms")) cluster.read_your_writes_wait = *v;
  if (const auto* sub = table.subtable("connection")) {
    read_connection(TableReader(table.context(), *sub, table.key_path("connection")),
                    cluster.connection);
  }
  if (const auto* sub = table.subtable("pool")) {
    read_pool(TableReader(table.context(), *sub, table.key_path("pool")), cluster.pool);
  }
  cluster.pool.name = cluster.name;
  check_pool(table.context(), table.path(), cluster.pool);
  if (dialect_of(cluster.primary) == Dialect::sqlite && !cluster.replicas.empty()) {
    warnings.push_back(
        fmt::format("clusters.{}: SQLite has no replication; the replicas must be "
                    "kept up to date by other means",
                    cluster.name));
  }
  return cluster;
}

// File order, so "the first cluster" means what the user sees; clusters that only the
// environment defines (line 0) come last, by name.
std::vector<std::pair<std::string, const toml::node*>> clusters_in_order(
    const toml::table& clusters) {
  std::vector<std::pair<std::string, const toml::node*>> out;
  for (const auto& [key, node] : clusters) out.emplace_back(std::string(key.str()), &node);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto la = a.second->source().begin.line, lb = b.second->source().begin.line;
    if ((la == 0) != (lb == 0)) return lb == 0;
    return la < lb;
  });
  return out;
}

std::vector<ClusterConfig> read_clusters(const TableReader& root, const ConnectOptions& connection,
                                         const PoolSettings& pool,
                                         std::vector<std::string>& warnings) {
  std::vector<ClusterConfig> out;
  const toml::table* clusters = root.subtable("clusters");
  if (clusters == nullptr) return out;
  const TableReader all(root.context(), *clusters, "clusters");
  for (const auto& [name, node] : clusters_in_order(*clusters)) {
    const toml::table* table = all.subtable(name);
    if (auto problem = check_cluster_name(name)) all.fail(name, *problem);
    out.push_back(read_cluster(TableReader(root.context(), *table, all.key_path(name)), name,
                               connection, pool, warnings));
  }
  return out;
}

// The foundation's single-database form: [database] uri plus connection keys.
std::optional<std::string> read_database(const TableReader& root, ConnectOptions& connection) {
  const toml::table* database = root.subtable("database");
  if (database == nullptr) return std::nullopt;
  const TableReader table(root.context(), *database, "database");
  table.allow_only(names_of(database_keys()));
  for (const auto& [key, node] : *database) {
    const std::string other = join_key("connection", key.str());
    if (root.context().has(other)) {
      table.get(key.str());
      table.fail(key.str(), fmt::format("also set as {}; keep one", other));
    }
  }
  read_connection_keys(table, connection);
  const auto uri = table.string("uri");
  if (uri) check_uri_at(table, "uri", *uri);
  if (uri && root.table().contains("clusters")) {
    table.fail("uri",
               "[database] uri and [clusters] cannot be combined; move the URI to "
               "clusters.<name>.primary");
  }
  return uri;
}

const toml::table& empty_table() {
  static const toml::table table;
  return table;
}

template <class T, class Read>
T read_section(const TableReader& root, std::string_view key, Read read) {
  const toml::table* table = root.subtable(key);
  if (table == nullptr) table = &empty_table();
  return read(TableReader(root.context(), *table, std::string(key)));
}

}  // namespace

Config read_config(const toml::table& root_table, Context& ctx) {
  const TableReader root(ctx, root_table, "");
  root.allow_only(names_of(top_level_keys));
  Config config;
  ConnectOptions connection;
  PoolSettings pool;
  if (const auto* t = root.subtable("connection")) {
    read_connection(TableReader(ctx, *t, "connection"), connection);
  }
  if (const auto* t = root.subtable("pool")) read_pool(TableReader(ctx, *t, "pool"), pool);
  const auto database_uri = read_database(root, connection);
  config.clusters = read_clusters(root, connection, pool, config.warnings);
  const bool configured = !config.clusters.empty();
  if (!configured) {
    config.clusters.push_back(
        ClusterConfig{.name = "default",
                      .primary = database_uri.value_or(std::string(default_database_uri)),
                      .connection = connection,
                      .pool = pool});
    check_pool(ctx, "clusters.default", pool);
  }
  if (const auto* t = root.subtable("shards")) {
    config.shards = read_shards(TableReader(ctx, *t, "shards"), config.clusters, configured);
  }
  config.monitor = read_section<MonitorConfig>(root, "monitor", read_monitor);
  config.metrics = read_section<MetricsConfig>(
      root, "metrics", [&](const TableReader& t) { return read_metrics(t, config.warnings); });
  config.migrations = read_section<MigrationsConfig>(root, "migrations", read_migrations);
  config.backup = read_section<BackupConfig>(root, "backup", read_backup);
  return config;
}

std::string join_names(const std::vector<ClusterConfig>& clusters) {
  std::string out;
  for (const auto& cluster : clusters) out += (out.empty() ? "" : ", ") + cluster.name;
  return out;
}

}  // namespace nexdb::config_detail
