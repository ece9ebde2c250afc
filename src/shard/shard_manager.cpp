// ShardManager: routing, single-shard statements and scatter-gather reads on threads. The merge
// itself (shard/merge.cpp) does not care how the parts were fetched; ShardPlan hands the same
// parts to callers that fetch them some other way.
#include <fmt/format.h>

#include "driver/concurrent_execute.hpp"
#include "nexdb/error.hpp"
#include "nexdb/shard.hpp"
#include "shard/errors.hpp"
#include "shard/merge.hpp"
#include "shard/shard_state.hpp"

namespace nexdb {

using detail::ShardState;
using detail::Targets;
using shard_detail::Analysis;
using shard_detail::StatementType;

namespace {

Rows run_on(detail::ShardCluster& cluster, const Statement& statement, bool write) {
  try {
    Lease lease = write ? cluster.write() : cluster.read();
    return lease->execute(statement);
  } catch (...) {
    shard_detail::rethrow_for(std::current_exception(), cluster.where());
  }
}

// PostgreSQL: the calling thread sends every part without waiting and reads the answers as they
// arrive (driver/concurrent_execute.hpp): no hand-off to other threads and their wake-ups.
// Connections are taken in cluster order (as every fan-out does), so fan-outs cannot deadlock
// on each other's pools.
void fetch_from_caller(ShardState& state, const std::vector<ShardPlan::Part>& parts,
                       std::vector<std::optional<Rows>>& results,
                       std::vector<std::exception_ptr>& errors) {
  std::vector<Lease> leases(parts.size());
  std::vector<detail::ConcurrentRun> runs;
  std::vector<std::size_t> part_of_run;
  runs.reserve(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    try {
      leases[i] = state.clusters[parts[i].cluster]->read();
      runs.push_back({.connection = &*leases[i], .statement = &parts[i].statement});
      part_of_run.push_back(i);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  detail::execute_concurrently(runs);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    results[part_of_run[r]] = std::move(runs[r].rows);
    errors[part_of_run[r]] = runs[r].error;
  }
}

// SQLite works in the calling process: its parts need threads to run at the same time.
void fetch_on_threads(ShardState& state, const std::vector<ShardPlan::Part>& parts,
                      std::vector<std::optional<Rows>>& results,
                      std::vector<std::exception_ptr>& errors) {
  std::vector<std::function<void()>> tasks;
  tasks.reserve(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    tasks.emplace_back([&, i] {
      try {
        Lease lease = state.clusters[parts[i].cluster]->read();
        results[i] = lease->execute(parts[i].statement);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  state.pool->run(tasks);
}

bool is_insert(const Analysis& analysis) { return analysis.type == StatementType::insert; }

// The parts of a read on `targets`: the statement itself on one cluster, else the fan-out
// statement on each.
std::vector<ShardPlan::Part> read_parts(ShardState& state, const Analysis& analysis,
                                        const Targets& targets, const Statement& statement) {
  std::vector<ShardPlan::Part> parts;
  if (targets.clusters.size() == 1) {
    const std::size_t c = targets.clusters.front();
    parts.push_back({c, state.clusters[c]->shards.front(), statement});
    return parts;
  }
  const Statement per_shard = state.fan_out_statement(*analysis.fan_out, statement.params);
  for (std::size_t c : targets.clusters)
    parts.push_back({c, state.clusters[c]->shards.front(), per_shard});
  return parts;
}

}  // namespace

// ---- ShardPlan ---------------------------------------------------------------------------------

ShardPlan::ShardPlan(std::unique_ptr<detail::ShardPlanData> data) : data_(std::move(data)) {}
ShardPlan::ShardPlan(ShardPlan&&) noexcept = default;
ShardPlan& ShardPlan::operator=(ShardPlan&&) noexcept = default;
ShardPlan::~ShardPlan() = default;
const Route& ShardPlan::route() const noexcept { return data_->route; }
const std::vector<ShardPlan::Part>& ShardPlan::parts() const noexcept { return data_->parts; }

Rows ShardPlan::merge(std::vector<Rows> results) const {
  if (results.empty()) throw UsageError("ShardPlan::merge() needs the result of at least one part");
  if (data_->single) return std::move(results.front());
  return shard_detail::merge(data_->analysis->fan_out->merge, std::move(results), data_->params);
}

// ---- ShardManager ------------------------------------------------------------------------------

ShardManager::ShardManager(ShardConfig config, std::vector<ClusterConfig> clusters,
                           ShardOptions options)
    : state_(std::make_unique<ShardState>(std::move(config), clusters, std::move(options))) {}

ShardManager ShardManager::from_config(const Config& config, ShardOptions options) {
  if (!config.shards.enabled()) {
    throw ConfigError(
        fmt::format("{}: no [shards] section: give shards.key and [shards.map] to shard",
                    config.source.empty() ? "the configuration" : config.source));
  }
  return ShardManager(config.shards, config.clusters, std::move(options));
}

ShardManager::~ShardManager() = default;
ShardManager::ShardManager(ShardManager&&) noexcept = default;
ShardManager& ShardManager::operator=(ShardManager&&) noexcept = default;

std::size_t ShardManager::shard_for(const ShardKey& key) const {
  return state_->shard_for(key, false);
}
std::size_t ShardManager::shard_count() const noexcept { return state_->shard_cluster.size(); }
const ShardConfig& ShardManager::config() const noexcept { return state_->config; }
Dialect ShardManager::dialect() const noexcept { return state_->dialect; }
KeyRange ShardManager::key_range(std::size_t shard) const { return state_->mapper.range(shard); }
std::size_t ShardManager::cluster_count() const noexcept { return state_->clusters.size(); }
const std::string& ShardManager::cluster_name(std::size_t cluster) const {
  return state_->clusters.at(cluster)->name;
}

std::size_t ShardManager::cluster_of(std::size_t shard) const {
  if (shard >= state_->shard_cluster.size()) {
    throw UsageError(fmt::format("there is no shard {}: shards are 0 to {}", shard,
                                 state_->shard_cluster.size() - 1));
  }
  return state_->shard_cluster[shard];
}

Route ShardManager::route(const Statement& statement) const {
  const auto analysis = state_->analysis(statement.sql);
  const Targets targets = state_->targets(*analysis, statement.params, false);
  state_->check_writable(*analysis, targets);
  state_->check_readable(*analysis, targets);
  return state_->describe(*analysis, targets);
}

void ShardManager::assign(const ShardKey& key, std::size_t shard) {
  if (!state_->directory)
    throw UsageError("assign() needs function = lookup: other shard functions compute the shard");
  cluster_of(shard);  // validates the number
  state_->directory->assign(key.as(state_->mapper.key_type()).to_string(), shard);
}

Rows ShardManager::execute(const Statement& statement) {
  return std::move(execute(statement, ScatterOptions{}).rows);
}

ScatterResult ShardManager::execute(const Statement& statement, ScatterOptions options) {
  ShardState& state = *state_;
  const auto analysis = state.analysis(statement.sql);
  const Targets targets = state.targets(*analysis, statement.params, is_insert(*analysis));
  if (analysis->type != StatementType::select) {
    state.check_writable(*analysis, targets);
    if (targets.clusters.size() == 1)
      return {.rows = run_on(*state.clusters[targets.clusters.front()], statement, true)};
    return {.rows = transaction([&](ShardTransaction& tx) { return tx.execute(statement); })};
  }
  state.check_readable(*analysis, targets);
  if (targets.clusters.size() == 1)
    return {.rows = run_on(*state.clusters[targets.clusters.front()], statement, false)};

  const auto parts = read_parts(state, *analysis, targets, statement);
  std::vector<std::optional<Rows>> results(parts.size());
  std::vector<std::exception_ptr> errors(parts.size());
  if (state.dialect == Dialect::postgres) {
    fetch_from_caller(state, parts, results, errors);
  } else {
    fetch_on_threads(state, parts, results, errors);
  }

  ScatterResult out;
  std::vector<Rows> answered;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    detail::ShardCluster& cluster = *state.clusters[parts[i].cluster];
    if (!errors[i]) {
      answered.push_back(std::move(*results[i]));
      continue;
    }
    if (!options.allow_partial) shard_detail::rethrow_for(errors[i], cluster.where());
    std::string message;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const std::exception& e) {
      message = e.what();
    }
    out.failures.push_back({.cluster = cluster.name,
                            .shards = cluster.shards,
                            .message = message,
                            .error = errors[i]});
  }
  if (answered.empty())
    shard_detail::rethrow_for(errors.front(), state.clusters[parts.front().cluster]->where());
  out.partial = !out.failures.empty();
  out.rows = shard_detail::merge(analysis->fan_out->merge, std::move(answered), statement.params);
  return out;
}

ShardPlan ShardManager::plan(const Statement& statement) const {
  auto data = std::make_unique<detail::ShardPlanData>();
  data->analysis = state_->analysis(statement.sql);
  if (data->analysis->type != StatementType::select) {
    throw UnroutableStatement(
        "plan() is for reads; run writes with execute() or in a transaction()");
  }
  const Targets targets = state_->targets(*data->analysis, statement.params, false);
  state_->check_readable(*data->analysis, targets);
  data->route = state_->describe(*data->analysis, targets);
  data->parts = read_parts(*state_, *data->analysis, targets, statement);
  data->single = data->parts.size() == 1;
  data->params = statement.params;
  return ShardPlan(std::move(data));
}

Rows ShardManager::execute_on(std::size_t shard, const Statement& statement) {
  return run_on(*state_->clusters[cluster_of(shard)], statement, true);
}

std::vector<Rows> ShardManager::execute_on_all(const Statement& statement,
                                               ShardTransactionOptions options) {
  return transaction(
      [&](ShardTransaction& tx) {
        std::vector<Rows> results;
        for (const auto& cluster : state_->clusters) {
          if (!cluster->shards.empty())
            results.push_back(tx.execute_on(cluster->shards.front(), statement));
        }
        return results;
      },
      std::move(options));
}

Lease ShardManager::write_lease(std::size_t shard) {
  return state_->clusters[cluster_of(shard)]->write();
}
Lease ShardManager::read_lease(std::size_t shard) {
  return state_->clusters[cluster_of(shard)]->read();
}

}  // namespace nexdb
