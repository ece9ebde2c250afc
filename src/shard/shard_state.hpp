// ShardManager's state: the clusters and their connections, the key mapper and directory, the
// analysis cache and the fan-out threads. Shared by the manager, its transactions and plans.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "nexdb/database.hpp"
#include "nexdb/replica.hpp"
#include "nexdb/shard.hpp"
#include "shard/analysis.hpp"
#include "shard/directory.hpp"
#include "shard/fan_out_pool.hpp"
#include "shard/key_mapper.hpp"

namespace nexdb::detail {

/// One cluster that holds shards: a pool on its primary, or a ReplicaManager when it has replicas.
class ShardCluster {
 public:
  ShardCluster(std::size_t index, const ClusterConfig& config);

  Lease write();
  Lease read();
  Dialect dialect() const noexcept { return dialect_; }
  /// For the async layer: the cluster's ReplicaManager (null without replicas), else its
  /// database.
  ReplicaManager* replica_manager() noexcept { return replicas_.get(); }
  Database& database() { return *database_; }
  /// The name for messages: cluster name (a URI's password masked), with its shards.
  std::string where() const;

  std::size_t index;
  std::string name;  // password masked when the name is a URI
  std::string host;  // the primary without credentials
  std::vector<std::size_t> shards;
  /// The two-phase commit log table exists here (created on first use).
  std::atomic<bool> log_ready{false};

 private:
  Dialect dialect_;
  std::optional<Database> database_;
  std::unique_ptr<ReplicaManager> replicas_;
};

/// A statement's targets: the clusters it runs on, and the shards and keys that chose them.
struct Targets {
  std::vector<std::size_t> clusters{};  // ascending
  std::set<std::size_t> shards{};
  std::vector<ShardKey> keys{};
  bool pinned = false;
  /// A read of reference tables only (or of no table): any one shard answers it.
  bool any_shard = false;
  /// A write to a reference table: every cluster.
  bool every_cluster = false;
};

class ShardState {
 public:
  ShardState(ShardConfig config, const std::vector<ClusterConfig>& clusters, ShardOptions options);

  /// The analysis of a statement's text (cached). UnroutableStatement for SQL PostgreSQL's parser
  /// rejects.
  std::shared_ptr<const shard_detail::Analysis> analysis(const std::string& sql);
  /// The clusters (and shards) `analysis` with `params` runs on.
  Targets targets(const shard_detail::Analysis& analysis, std::span<const Value> params,
                  bool for_write);
  Targets all_clusters() const;
  /// Clusters that hold shards (the lookup directory's own cluster may hold none).
  std::size_t shard_clusters() const noexcept;
  std::size_t shard_for(const ShardKey& key, bool for_write);
  Route describe(const shard_detail::Analysis& analysis, const Targets& targets) const;

  /// The fan-out statement of a read for one cluster.
  Statement fan_out_statement(const shard_detail::FanOutPlan& plan,
                              std::span<const Value> params) const;
  /// UnroutableStatement when a row of the INSERT has a NULL key.
  void check_insert_keys(const shard_detail::InsertSplit& split,
                         std::span<const Value> params) const;
  /// An INSERT's statement per cluster, each with only that cluster's rows.
  std::vector<std::pair<std::size_t, Statement>> split_insert(
      const shard_detail::InsertSplit& split, std::span<const Value> params);
  /// Throws UnroutableStatement unless a SELECT can run on `targets`.
  void check_readable(const shard_detail::Analysis& analysis, const Targets& targets) const;
  void check_writable(const shard_detail::Analysis& analysis, const Targets& targets) const;

  ShardConfig config;
  ShardOptions options;
  Dialect dialect = Dialect::sqlite;
  std::vector<std::unique_ptr<ShardCluster>> clusters;
  std::vector<std::size_t> shard_cluster;  // shard number -> cluster index
  shard_detail::KeyMapper mapper;
  std::unique_ptr<shard_detail::Directory> directory;  // function = lookup
  std::unique_ptr<shard_detail::FanOutPool> pool;

 private:
  std::mutex cache_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const shard_detail::Analysis>> cache_;
};

/// The state behind a ShardManager, for the async layer (src/async).
struct ShardAccess {
  static ShardState& state(ShardManager& manager) noexcept { return *manager.state_; }
};

/// One cluster's transaction inside a ShardTransaction.
struct Participant {
  std::size_t cluster = 0;
  Lease lease{};
  bool wrote = false;
};

struct ShardPlanData {
  Route route{};
  std::vector<ShardPlan::Part> parts{};
  std::shared_ptr<const shard_detail::Analysis> analysis{};  // keeps the merge spec alive
  std::vector<Value> params{};
  bool single = false;  // one part: its result is the result
};

/// A key value from the statement (integer or text); UsageError for other types.
ShardKey key_of_value(const Value& value);

/// Rows of several results one after another (RETURNING of a split INSERT, execute_on_all).
Rows concatenate(std::vector<Rows> results);

}  // namespace nexdb::detail
