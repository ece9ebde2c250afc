#include "shard/shard_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "nexdb/error.hpp"
#include "shard/merge.hpp"

namespace nexdb::detail {
namespace {

using shard_detail::Analysis;
using shard_detail::Pin;
using shard_detail::StatementType;

bool looks_like_uri(std::string_view text) {
  return text.find("://") != std::string_view::npos || text.starts_with("sqlite:") ||
         text.find('=') != std::string_view::npos;
}

ClusterConfig resolve_cluster(const std::string& name, const std::vector<ClusterConfig>& clusters) {
  for (const auto& c : clusters) {
    if (c.name == name) return c;
  }
  if (looks_like_uri(name)) return ClusterConfig{.name = name, .primary = name};
  std::string known;
  for (const auto& c : clusters) known += (known.empty() ? "" : ", ") + c.name;
  throw ConfigError(
      fmt::format("shard map: no cluster '{}' ({}); define it in [clusters] or give a "
                  "connection URI",
                  name, known.empty() ? "no clusters are configured" : "clusters: " + known));
}

std::vector<ClusterConfig> clusters_for(const ShardConfig& config,
                                        std::vector<ClusterConfig> given) {
  if (!given.empty()) return given;
  const bool all_uris = std::all_of(config.shard_map.begin(), config.shard_map.end(),
                                    [](const auto& entry) { return looks_like_uri(entry.second); });
  return all_uris ? given : Config::load_default().clusters;
}

std::size_t default_threads(const ShardOptions& options, std::size_t clusters) {
  if (options.fan_out_threads != 0) return options.fan_out_threads;
  return clusters > 1 ? clusters - 1 : 0;
}

// Keys pinned by `pin`, as a set of shards: nullopt when the pin does not confine the statement.
struct PinResult {
  std::set<std::size_t> shards;
  std::vector<ShardKey> keys;
};

}  // namespace

ShardCluster::ShardCluster(std::size_t index_in, const ClusterConfig& config)
    : index(index_in),
      name(redact_password(config.name)),
      host(redact_password(config.primary)),
      dialect_(dialect_of(config.primary)) {
  if (!config.replicas.empty() && dialect_ == Dialect::postgres) {
    replicas_ = std::make_unique<ReplicaManager>(ReplicaManager::from_config(config));
    return;
  }
  DatabaseSettings settings{.connection = config.connect_options(config.primary),
                            .pool = config.pool};
  settings.pool.name = name;
  database_.emplace(Database::open(std::move(settings)));
}

Lease ShardCluster::write() { return replicas_ ? replicas_->write() : database_->connection(); }
Lease ShardCluster::read() { return replicas_ ? replicas_->read() : database_->connection(); }

std::string ShardCluster::where() const {
  if (shards.size() == 1) return fmt::format("shard {} (cluster {}): ", shards.front(), name);
  return fmt::format("cluster {} (shards {}): ", name, fmt::join(shards, ", "));
}

ShardState::ShardState(ShardConfig config_in, const std::vector<ClusterConfig>& given,
                       ShardOptions options_in)
    : config(std::move(config_in)), options(std::move(options_in)), mapper(config) {
  if (config.shard_key.empty())
    throw ConfigError("shards: shard_key is required (the column the rows are sharded by)");
  if (!config.enabled()) throw ConfigError("shards: the shard map is empty");
  if (const auto last = config.shard_map.rbegin()->first; last >= config.count()) {
    throw ConfigError(fmt::format(
        "shards: the shard map names shard {}, but num_shards = {} means shards 0 to {}", last,
        config.count(), config.count() - 1));
  }
  const auto known = clusters_for(config, given);
  std::map<std::string, std::size_t> index;
  shard_cluster.resize(config.count());
  for (std::size_t shard = 0; shard < config.count(); ++shard) {
    const std::string& name = config.cluster_of(shard);
    auto [it, fresh] = index.emplace(name, clusters.size());
    if (fresh)
      clusters.push_back(
          std::make_unique<ShardCluster>(clusters.size(), resolve_cluster(name, known)));
    clusters[it->second]->shards.push_back(shard);
    shard_cluster[shard] = it->second;
  }
  dialect = clusters.front()->dialect();
  for (const auto& c : clusters) {
    if (c->dialect() != dialect) {
      throw ConfigError(fmt::format(
          "shards: every shard must use the same database system, but cluster {} "
          "is {} and cluster {} is {}",
          clusters.front()->name, to_string(dialect), c->name, to_string(c->dialect())));
    }
  }
  if (config.function == ShardFunction::lookup) {
    const std::string& name =
        config.lookup_cluster.empty() ? config.cluster_of(0) : config.lookup_cluster;
    auto it = index.find(name);
    if (it == index.end()) {
      // The directory lives on a cluster of its own, outside the shard map.
      index.emplace(name, clusters.size());
      clusters.push_back(
          std::make_unique<ShardCluster>(clusters.size(), resolve_cluster(name, known)));
      it = index.find(name);
    }
    directory = std::make_unique<shard_detail::Directory>(
        *clusters[it->second], config.lookup_table, config.lookup_cache_ttl);
  }
  // PostgreSQL fan-outs run from the calling thread (shard_manager.cpp); SQLite's need threads.
  if (dialect == Dialect::sqlite)
    pool = std::make_unique<shard_detail::FanOutPool>(default_threads(options, clusters.size()));
}

std::shared_ptr<const Analysis> ShardState::analysis(const std::string& sql) {
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
  }
  const std::string text =
      dialect == Dialect::sqlite ? shard_detail::number_question_marks(sql) : sql;
  std::shared_ptr<const Analysis> result;
  try {
    result = shard_detail::analyze(text, config, dialect);
  } catch (const SqlError& e) {
    throw UnroutableStatement(
        fmt::format(
            "cannot route a statement PostgreSQL's parser rejects ({}); nexdb reads the shard key "
            "with that parser, so run dialect-specific SQL on one shard with execute_on()",
            e.message()),
        {.statement = sql});
  }
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= options.plan_cache_size && !cache_.empty()) cache_.erase(cache_.begin());
  cache_.emplace(sql, result);
  return result;
}

std::size_t ShardState::shard_for(const ShardKey& key, bool for_write) {
  const std::size_t placement = mapper.shard_for(key);
  if (!directory) return placement;
  const std::string text = key.as(mapper.key_type()).to_string();
  if (for_write) return directory->place(text, placement);
  return directory->find(text).value_or(placement);
}

namespace {

std::optional<PinResult> evaluate(const Pin& pin, std::span<const Value> params, ShardState& state,
                                  bool for_write) {
  if (pin.op == Pin::Op::values) {
    PinResult out;
    for (const auto& source : pin.values) {
      const Value& value = source.resolve(params);
      if (value.is_null()) continue;  // key = NULL matches nothing
      ShardKey key = key_of_value(value);
      out.shards.insert(state.shard_for(key, for_write));
      out.keys.push_back(std::move(key));
    }
    return out;
  }
  std::optional<PinResult> out;
  for (const Pin& child : pin.children) {
    auto result = evaluate(child, params, state, for_write);
    if (!result) continue;
    if (!out) {
      out = std::move(result);
    } else if (pin.op == Pin::Op::all_of) {
      std::set<std::size_t> both;
      std::set_intersection(out->shards.begin(), out->shards.end(), result->shards.begin(),
                            result->shards.end(), std::inserter(both, both.begin()));
      out->shards = std::move(both);
      out->keys.insert(out->keys.end(), result->keys.begin(), result->keys.end());
    } else {
      out->shards.insert(result->shards.begin(), result->shards.end());
      out->keys.insert(out->keys.end(), result->keys.begin(), result->keys.end());
    }
  }
  return out;
}

}  // namespace

Targets ShardState::all_clusters() const {
  Targets out;
  for (std::size_t c = 0; c < clusters.size(); ++c) {
    if (!clusters[c]->shards.empty()) out.clusters.push_back(c);  // not the directory's own cluster
  }
  for (std::size_t s = 0; s < shard_cluster.size(); ++s) out.shards.insert(s);
  return out;
}

std::size_t ShardState::shard_clusters() const noexcept {
  return static_cast<std::size_t>(std::count_if(clusters.begin(), clusters.end(),
                                                [](const auto& c) { return !c->shards.empty(); }));
}

Targets ShardState::targets(const Analysis& analysis, std::span<const Value> params,
                            bool for_write) {
  if (analysis.reference_write) {
    Targets out = all_clusters();
    out.every_cluster = true;
    return out;
  }
  if (analysis.type == StatementType::select && !analysis.reads_sharded) {
    // Every shard holds what it reads: the first one answers (deterministic, so that functions
    // with effects, advisory locks and sequences, always meet the same database).
    return Targets{.clusters = {shard_cluster[0]}, .shards = {0}, .any_shard = true};
  }
  if (analysis.insert) check_insert_keys(*analysis.insert, params);
  if (!analysis.pin) return all_clusters();
  auto result = evaluate(*analysis.pin, params, *this, for_write);
  Targets out;
  out.pinned = true;
  out.keys = std::move(result->keys);
  out.shards = std::move(result->shards);
  // key = NULL or contradictory conditions match no row: any one shard answers (empty) correctly.
  if (out.shards.empty()) out.shards.insert(0);
  std::set<std::size_t> cluster_set;
  for (std::size_t s : out.shards) cluster_set.insert(shard_cluster[s]);
  out.clusters.assign(cluster_set.begin(), cluster_set.end());
  return out;
}

void ShardState::check_readable(const Analysis& analysis, const Targets& targets) const {
  if (analysis.type != StatementType::select) return;
  if (!analysis.colocation_refusal.empty() && shard_clusters() > 1) {
    throw UnroutableStatement(fmt::format(
        "this query cannot be answered exactly from the shards: {}", analysis.colocation_refusal));
  }
  if (targets.clusters.size() > 1 && !analysis.fan_out) {
    throw UnroutableStatement(
        fmt::format("this query runs on {} clusters and its results cannot be merged "
                    "exactly: {}. Pin it to one shard (WHERE {} = ...) or run it per "
                    "shard with execute_on()",
                    targets.clusters.size(), analysis.fan_out_refusal, config.shard_key));
  }
}

void ShardState::check_writable(const Analysis& analysis, const Targets& targets) const {
  if (analysis.type == StatementType::select) return;
  if (!(targets.pinned || targets.every_cluster) || !analysis.needs_pin.empty()) {
    throw UnroutableStatement(analysis.needs_pin.empty()
                                  ? "this statement cannot be routed by shard key"
                                  : analysis.needs_pin);
  }
}

Route ShardState::describe(const Analysis& analysis, const Targets& targets) const {
  Route route;
  route.shards.assign(targets.shards.begin(), targets.shards.end());
  for (std::size_t c : targets.clusters) route.clusters.push_back(clusters[c]->name);
  route.keys = targets.keys;
  route.write = analysis.type != StatementType::select;
  route.fan_out = targets.clusters.size() > 1;
  if (targets.every_cluster) {
    route.reason = fmt::format("writes a reference table: every cluster ({}), in one transaction",
                               targets.clusters.size());
  } else if (targets.any_shard) {
    route.reason = "reads no sharded table (reference tables only, or none): shard 0 answers";
  } else if (targets.pinned) {
    std::vector<std::string> keys;
    for (const auto& k : targets.keys) keys.push_back(k.to_string());
    route.reason =
        fmt::format("pinned by {} = {} to shard{} {}", config.shard_key, fmt::join(keys, ", "),
                    route.shards.size() == 1 ? "" : "s", fmt::join(route.shards, ", "));
  } else {
    route.reason = fmt::format("no {} value in the statement: all {} shards", config.shard_key,
                               shard_cluster.size());
  }
  return route;
}

Statement ShardState::fan_out_statement(const shard_detail::FanOutPlan& plan,
                                        std::span<const Value> params) const {
  return plan.statement.render(dialect, [&](int slot) -> Value {
    if (slot >= 0) return shard_detail::ValueSource{.param = slot}.resolve(params);
    const std::int64_t limit = shard_detail::pushed_limit(plan.merge, params);
    // No limit: LIMIT NULL on PostgreSQL, LIMIT -1 on SQLite.
    if (limit < 0) return dialect == Dialect::postgres ? Value(null) : Value(std::int64_t{-1});
    return Value(limit);
  });
}

void ShardState::check_insert_keys(const shard_detail::InsertSplit& split,
                                   std::span<const Value> params) const {
  for (std::size_t r = 0; r < split.keys.size(); ++r) {
    if (!split.keys[r].resolve(params).is_null()) continue;
    throw UnroutableStatement(fmt::format(
        "row {} of the INSERT has a NULL shard key ({}): a row of a sharded table lives on the "
        "shard its key names, so every row needs one",
        r + 1, config.shard_key));
  }
}

std::vector<std::pair<std::size_t, Statement>> ShardState::split_insert(
    const shard_detail::InsertSplit& split, std::span<const Value> params) {
  check_insert_keys(split, params);
  std::map<std::size_t, std::vector<std::size_t>> rows;  // cluster -> rows
  for (std::size_t r = 0; r < split.rows.size(); ++r) {
    const ShardKey key = key_of_value(split.keys[r].resolve(params));
    rows[shard_cluster[shard_for(key, true)]].push_back(r);
  }
  std::vector<std::pair<std::size_t, Statement>> out;
  for (const auto& [cluster, indexes] : rows) {
    shard_detail::SqlTemplate statement;
    statement.append(split.head);
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      statement.text(i == 0 ? " " : ", ");
      statement.append(split.rows[indexes[i]]);
    }
    if (!split.tail.empty()) statement.text(" ");
    statement.append(split.tail);
    out.emplace_back(cluster, statement.render(dialect, [&](int slot) {
      return shard_detail::ValueSource{.param = slot}.resolve(params);
    }));
  }
  return out;
}

ShardKey key_of_value(const Value& value) {
  if (value.type() == ValueType::integer) return ShardKey(std::get<std::int64_t>(value.storage()));
  if (value.type() == ValueType::text) return ShardKey(std::get<std::string>(value.storage()));
  if (value.type() == ValueType::real) {
    const double d = std::get<double>(value.storage());
    if (std::abs(d) < 9.2e18 && d == std::floor(d)) return ShardKey(static_cast<std::int64_t>(d));
  }
  throw UsageError(fmt::format("a shard key must be an integer or text, got {} ({})",
                               to_string(value.type()), value.to_display_string()));
}

Rows concatenate(std::vector<Rows> results) {
  if (results.size() == 1) return std::move(results.front());
  std::vector<std::string> columns;
  Rows::ColumnTypes types;
  std::vector<Value> values;
  std::int64_t affected = 0;
  for (const Rows& r : results) {
    if (columns.empty() && r.column_count() > 0) {
      columns = r.columns();
      types = r.column_types();
    }
    affected += r.affected_rows();
    for (std::size_t i = 0; i < r.size(); ++i) {
      for (std::size_t c = 0; c < r.column_count(); ++c) values.push_back(r.value(i, c));
    }
  }
  return Rows(std::make_shared<const std::vector<std::string>>(std::move(columns)),
              std::move(types), std::move(values), affected);
}

}  // namespace nexdb::detail
