// ShardManager: rows spread over shards by a key, with routing, scatter-gather queries and
// cross-shard transactions (two-phase commit on PostgreSQL).
//
//   ShardManager shards{{.shard_key = "user_id", .function = ShardFunction::hash, .num_shards = 4,
//                        .shard_map = {{0, "db-shard-1"}, {1, "db-shard-2"}, {2, "db-shard-3"},
//                                      {3, "db-shard-4"}}}};
//   shards.shard_for(42);                                  // -> 0..3
//   shards.execute(select(...).where(Order.user_id == 42)); // one shard
//   shards.execute(select(...).order_by(...).limit(100));   // every shard, merged
//   shards.transaction([](ShardTransaction& tx) { ... });   // atomic across shards
//
// Each shard is a cluster: a PostgreSQL primary (with its replicas, through ReplicaManager) or a
// SQLite file. Several shards may share a cluster. See docs/sharding.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "nexdb/config.hpp"
#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"
#include "nexdb/pool.hpp"
#include "nexdb/shard_key.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb {

/// A statement nexdb cannot send to the right shards, or whose cross-shard result it cannot
/// compute exactly: a write that names no shard key, DDL, UNION across shards, ... The message
/// says why and what to do instead (pin the key, execute_on(), execute_on_all()).
class UnroutableStatement : public UsageError {
 public:
  using UsageError::UsageError;
};

/// A cross-shard commit whose outcome is not known here: the connection to the coordinating
/// shard broke while it committed. ShardManager::recover() settles it on every shard. Not
/// retryable: the transaction may have committed, and running it again would apply it twice.
class TransactionInDoubt : public ConnectionLost {
 public:
  using ConnectionLost::ConnectionLost;
  bool retryable() const noexcept override { return false; }
};

struct ShardOptions {
  /// SQLite shards: worker threads for fan-out queries (the calling thread runs one shard's part
  /// itself); 0 = one per cluster, less the caller's. PostgreSQL fan-outs need none: the calling
  /// thread sends every shard's part without waiting and reads the answers as they arrive.
  std::size_t fan_out_threads = 0;
  /// Statements whose routing analysis is kept, by SQL text.
  std::size_t plan_cache_size = 1024;
  /// The table of two-phase commit decisions, created on each PostgreSQL shard as needed.
  /// Schema-qualified, so every user of a database shares one log.
  std::string two_phase_log = "public.nexdb_2pc_log";
};

/// Where a statement goes and why (what `nexdb shard route` and EXPLAIN-like tooling show).
struct Route {
  /// Shard numbers, ascending; every shard when the statement fans out.
  std::vector<std::size_t> shards{};
  /// Distinct clusters of those shards: what actually runs the statement.
  std::vector<std::string> clusters{};
  /// The key values that pinned the statement (empty when it fans out).
  std::vector<ShardKey> keys{};
  bool write = false;
  /// True when the statement runs on several clusters (merged for reads).
  bool fan_out = false;
  /// One line: "pinned by user_id = 42", "no shard key in WHERE: all 4 shards".
  std::string reason{};
};

struct ScatterOptions {
  /// When a shard fails, return the other shards' merged rows flagged `partial` instead of
  /// throwing.
  bool allow_partial = false;
};

struct ShardFailure {
  std::string cluster{};
  std::vector<std::size_t> shards{};
  std::string message{};
  std::exception_ptr error{};
};

struct ScatterResult {
  Rows rows{};
  /// Some shards failed (only with allow_partial); `failures` says which.
  bool partial = false;
  std::vector<ShardFailure> failures{};
};

namespace detail {
class ShardState;
struct ShardAccess;  // the async layer's view of the clusters (src/shard/shard_state.hpp)
struct ShardPlanData;
struct ShardTransactionState;
}  // namespace detail

/// A read split over clusters, for callers that fetch the parts themselves (the coroutine
/// layer): run each part's statement on its cluster, then merge() the results in part order.
class ShardPlan {
 public:
  struct Part {
    std::size_t cluster = 0;  // ShardManager::cluster_name(cluster)
    std::size_t shard = 0;    // a shard of that cluster, for ShardManager::read_lease(shard)
    Statement statement{};
  };
  ShardPlan(ShardPlan&&) noexcept;
  ShardPlan& operator=(ShardPlan&&) noexcept;
  ~ShardPlan();

  const Route& route() const noexcept;
  const std::vector<Part>& parts() const noexcept;
  /// The statement's result from one result per part (fewer when some failed and partial
  /// results are wanted: pass those of the parts that answered, in part order).
  Rows merge(std::vector<Rows> results) const;

 private:
  friend class ShardManager;
  explicit ShardPlan(std::unique_ptr<detail::ShardPlanData> data);
  std::unique_ptr<detail::ShardPlanData> data_;
};

/// Where a two-phase commit is, for ShardTransactionOptions::on_step.
enum class TwoPhaseStep {
  prepared,   // every participant but the coordinator has run PREPARE TRANSACTION
  decided,    // the coordinator committed: the transaction will commit everywhere
  committed,  // COMMIT PREPARED ran on every participant
};

struct ShardTransactionOptions {
  IsolationLevel isolation = IsolationLevel::read_committed;
  /// SQLite cannot prepare a transaction. Off: committing writes on several SQLite shards is a
  /// UsageError (nothing is written). On: they commit one after another, and a failure part way
  /// leaves the earlier ones committed (reported in the error).
  bool sqlite_best_effort = false;
  /// Called at each step of a two-phase commit with its transaction id (logging, tests).
  std::function<void(TwoPhaseStep step, std::string_view transaction_id)> on_step{};
};

/// A transaction over the shards: statements are routed like ShardManager::execute(), each
/// cluster gets its own database transaction (begun on first use), and commit() makes the
/// writes atomic across clusters with two-phase commit on PostgreSQL. Rolls back unless committed.
class ShardTransaction : public StatementShortcuts<ShardTransaction> {
 public:
  using StatementShortcuts<ShardTransaction>::execute;
  ~ShardTransaction();
  ShardTransaction(const ShardTransaction&) = delete;
  ShardTransaction& operator=(const ShardTransaction&) = delete;

  Rows execute(const Statement& statement);
  /// On the cluster of `shard`, whatever the statement says.
  Rows execute_on(std::size_t shard, const Statement& statement);
  Dialect dialect() const noexcept;

  void commit();
  void rollback();
  /// Clusters this transaction has touched, in the order it touched them.
  std::vector<std::string> participants() const;

 private:
  friend class ShardManager;
  explicit ShardTransaction(std::unique_ptr<detail::ShardTransactionState> state);
  std::unique_ptr<detail::ShardTransactionState> state_;
};

/// What recover() did.
struct RecoveryReport {
  std::vector<std::string> committed{};    // global transaction ids (gid) committed
  std::vector<std::string> rolled_back{};  // ... rolled back
  std::vector<std::string> in_progress{};  // left alone: their coordinator is still at work
  std::vector<std::string> foreign{};      // left alone: coordinated by a cluster not in this map
  std::vector<std::string> errors{};       // clusters or transactions that could not be settled
  std::size_t log_entries_removed = 0;
};

/// Rows of one table on one cluster, for `nexdb shard status`.
struct ShardTableCount {
  std::string table{};
  std::int64_t rows = 0;
};

struct ShardClusterStatus {
  std::string cluster{};
  std::vector<std::size_t> shards{};
  std::string host{};  // without credentials
  bool reachable = false;
  std::string error{};
  std::vector<ShardTableCount> tables{};
  /// PostgreSQL: this shard map's two-phase transactions prepared on this cluster and not yet
  /// settled (recover() settles those whose coordinator is gone).
  std::int64_t in_doubt = 0;
};

class ShardManager : public StatementShortcuts<ShardManager> {
 public:
  using StatementShortcuts<ShardManager>::execute;

  /// The shard map; its cluster names are looked up in `clusters`, or, when that is empty, in
  /// Config::load_default(). A shard_map value that is a connection URI is a cluster of its own.
  /// ConfigError for an inconsistent map; nothing connects yet.
  explicit ShardManager(ShardConfig config, std::vector<ClusterConfig> clusters = {},
                        ShardOptions options = {});
  /// The [shards] and [clusters] of a configuration. ConfigError when it has no [shards].
  static ShardManager from_config(const Config& config, ShardOptions options = {});
  ~ShardManager();
  ShardManager(ShardManager&&) noexcept;
  ShardManager& operator=(ShardManager&&) noexcept;

  // ---- routing -------------------------------------------------------------------------------

  /// The shard that holds `key` (read as the configured key_type). `lookup` consults the
  /// directory (cached); keys it does not list go where `hash` would put them.
  std::size_t shard_for(const ShardKey& key) const;
  std::size_t shard_count() const noexcept;
  const ShardConfig& config() const noexcept;
  Dialect dialect() const noexcept;
  /// The hash key range of `shard` (function = hash).
  KeyRange key_range(std::size_t shard) const;
  /// Clusters by index, as ShardPlan::Part::cluster numbers them.
  std::size_t cluster_count() const noexcept;
  const std::string& cluster_name(std::size_t cluster) const;
  /// The cluster index of `shard`.
  std::size_t cluster_of(std::size_t shard) const;
  /// Where the statement goes; UnroutableStatement when it cannot go anywhere.
  Route route(const Statement& statement) const;
  template <Renderable Q>
  Route route(const Q& query) const {
    return route(query.render(dialect()));
  }

  /// `lookup`: records that `key` lives on `shard` (after its rows were moved there).
  void assign(const ShardKey& key, std::size_t shard);

  // ---- statements ----------------------------------------------------------------------------

  /// Runs a statement where its shard key says: one shard when pinned (WHERE key = / IN, an
  /// INSERT's VALUES), else a read fans out in parallel and is merged (ORDER BY + LIMIT/OFFSET,
  /// count/sum/min/max/avg, GROUP BY, HAVING, DISTINCT). A write on several clusters (an INSERT
  /// whose rows belong to several shards, key IN (...)) commits atomically. A failing shard fails
  /// the whole statement, its cluster named in the error (same error type).
  Rows execute(const Statement& statement);
  /// Like execute(); with allow_partial a failing shard's part is left out instead.
  ScatterResult execute(const Statement& statement, ScatterOptions options);
  template <Renderable Q>
  ScatterResult execute(const Q& query, ScatterOptions options) {
    return execute(query.render(dialect()), options);
  }
  /// On the cluster of `shard`, unrouted (DDL, maintenance, a statement you routed yourself).
  Rows execute_on(std::size_t shard, const Statement& statement);
  /// On every cluster once, in one cross-shard transaction (reference tables, DDL); one result
  /// per cluster. SQLite shards need options.sqlite_best_effort (see ShardTransactionOptions).
  std::vector<Rows> execute_on_all(const Statement& statement,
                                   ShardTransactionOptions options = {});
  std::vector<Rows> execute_on_all(std::string_view sql, ShardTransactionOptions options = {}) {
    return execute_on_all(Statement{std::string(sql), {}}, std::move(options));
  }

  /// The per-cluster statements of a read and how to merge them (fetch them yourself).
  ShardPlan plan(const Statement& statement) const;

  /// Connections to a shard's cluster: the primary, or (read) a host chosen by its read
  /// preference when it has replicas.
  Lease write_lease(std::size_t shard);
  Lease read_lease(std::size_t shard);

  // ---- transactions --------------------------------------------------------------------------

  ShardTransaction begin(ShardTransactionOptions options = {});
  /// Runs `work(ShardTransaction&)` and commits; an exception rolls back and propagates.
  template <class Work>
  auto transaction(Work&& work, ShardTransactionOptions options = {}) {
    ShardTransaction tx = begin(std::move(options));
    return detail::run_and_commit(tx, std::forward<Work>(work));
  }

  /// Settles two-phase transactions left prepared by a crash: commits those whose coordinator
  /// committed, rolls back those whose coordinator did not, leaves alone those whose coordinator
  /// is still running. Run it at startup and from time to time (or `nexdb shard recover`).
  RecoveryReport recover();

  // ---- operations ----------------------------------------------------------------------------

  /// Each cluster: reachable, rows of `tables` (default: every table with the key column), and
  /// PostgreSQL transactions in doubt. Never throws for a cluster that is down.
  std::vector<ShardClusterStatus> status(const std::vector<std::string>& tables = {});

 private:
  friend struct detail::ShardAccess;
  ShardManager() = default;
  std::unique_ptr<detail::ShardState> state_;
};

}  // namespace nexdb
