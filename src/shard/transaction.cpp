// ShardTransaction: one database transaction per cluster touched, committed atomically across
// clusters with two-phase commit on PostgreSQL.
//
// Commit protocol (presumed abort, the decision stored with the coordinator's own writes):
//   1. the coordinator (first writing cluster) takes pg_advisory_xact_lock(txid) and inserts one
//      row per other participant's gid into the 2PC log, inside its transaction;
//   2. every other participant runs PREPARE TRANSACTION 'gid';
//   3. the coordinator commits: its writes and the log rows become durable together, and this
//      is the moment the transaction commits;
//   4. COMMIT PREPARED on every other participant, then the log rows are deleted.
// A crash before 3 leaves prepared transactions with no log row: recover() rolls them back once
// the coordinator's lock is free. A crash after 3 leaves log rows: recover() commits them.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>

#include "nexdb/error.hpp"
#include "nexdb/shard.hpp"
#include "shard/directory.hpp"
#include "shard/errors.hpp"
#include "shard/merge.hpp"
#include "shard/shard_state.hpp"
#include "shard/two_phase.hpp"

namespace nexdb {
namespace detail {

struct ShardTransactionState {
  ShardState& shards;
  ShardTransactionOptions options;
  std::vector<Participant> participants{};
  enum class Phase { active, committed, rolled_back } phase = Phase::active;

  ShardCluster& cluster(std::size_t index) { return *shards.clusters[index]; }

  std::string begin_sql() const {
    if (shards.dialect == Dialect::sqlite) return "BEGIN IMMEDIATE";
    switch (options.isolation) {
      case IsolationLevel::repeatable_read:
        return "BEGIN ISOLATION LEVEL REPEATABLE READ";
      case IsolationLevel::serializable:
        return "BEGIN ISOLATION LEVEL SERIALIZABLE";
      default:
        return "BEGIN ISOLATION LEVEL READ COMMITTED";
    }
  }

  Participant& join(std::size_t index) {
    for (auto& p : participants) {
      if (p.cluster == index) return p;
    }
    try {
      Lease lease = cluster(index).write();
      lease->execute_script(begin_sql());
      participants.push_back({index, std::move(lease)});
    } catch (...) {
      shard_detail::rethrow_for(std::current_exception(), cluster(index).where());
    }
    return participants.back();
  }

  Rows run(std::size_t index, const Statement& statement, bool write) {
    if (phase != Phase::active) {
      throw UsageError(fmt::format("the shard transaction was already {}",
                                   phase == Phase::committed ? "committed" : "rolled back"));
    }
    Participant& p = join(index);
    p.wrote = p.wrote || write;
    try {
      return p.lease->execute(statement);
    } catch (...) {
      shard_detail::rethrow_for(std::current_exception(), cluster(index).where());
    }
  }

  void rollback_all() noexcept {
    phase = Phase::rolled_back;
    for (auto& p : participants) {
      if (!p.lease || p.lease->is_broken() ||
          p.lease->transaction_status() == TransactionStatus::idle)
        continue;
      try {
        p.lease->execute_script("ROLLBACK");
      } catch (const std::exception& e) {
        spdlog::warn("rollback on {} failed: {}", cluster(p.cluster).name, e.what());
      }
    }
    participants.clear();
  }

  void commit_plainly(Participant& p) {
    try {
      p.lease->execute_script("COMMIT");
    } catch (...) {
      shard_detail::rethrow_for(std::current_exception(), cluster(p.cluster).where());
    }
  }

  void commit();
  void commit_sqlite(std::vector<Participant*>& writers);
};

void ShardTransactionState::commit_sqlite(std::vector<Participant*>& writers) {
  if (!options.sqlite_best_effort) {
    std::vector<std::string> names;
    for (auto* w : writers) names.push_back(cluster(w->cluster).name);
    rollback_all();
    throw UsageError(
        fmt::format("this transaction wrote to {} SQLite shards ({}), and SQLite cannot prepare a "
                    "transaction for an atomic commit across them; nothing was written. Keep a "
                    "transaction's writes on one shard, or set sqlite_best_effort to commit them "
                    "one after another",
                    writers.size(), fmt::join(names, ", ")));
  }
  std::vector<std::string> committed;
  for (auto* w : writers) {
    try {
      commit_plainly(*w);
    } catch (...) {
      const auto error = std::current_exception();
      rollback_all();
      // The same error type (a SQLite busy timeout stays a TimeoutError), saying what committed.
      shard_detail::rethrow_for(
          error,
          fmt::format("best-effort commit across SQLite shards failed part way: {} "
                      "committed, the rest rolled back: ",
                      committed.empty() ? "none" : fmt::format("{}", fmt::join(committed, ", "))));
    }
    committed.push_back(cluster(w->cluster).name);
  }
}

void ShardTransactionState::commit() {
  if (phase != Phase::active) {
    throw UsageError(fmt::format("cannot commit: the shard transaction was already {}",
                                 phase == Phase::committed ? "committed" : "rolled back"));
  }
  for (auto& p : participants) {
    if (p.lease->transaction_status() == TransactionStatus::failed) {
      const std::string name = cluster(p.cluster).name;
      rollback_all();
      throw UsageError(fmt::format(
          "cannot commit: a statement on cluster {} failed, so the transaction was rolled "
          "back on every shard and nothing was written",
          name));
    }
  }
  std::vector<Participant*> writers;
  for (auto& p : participants) {
    if (!p.wrote) commit_plainly(p);  // reads need no atomic commit
    if (p.wrote) writers.push_back(&p);
  }
  if (writers.size() <= 1) {
    if (!writers.empty()) commit_plainly(*writers.front());
  } else if (shards.dialect == Dialect::sqlite) {
    commit_sqlite(writers);
  } else {
    shard_detail::TwoPhaseCommit(shards, options, writers.front()->cluster).run(writers);
  }
  phase = Phase::committed;
  participants.clear();
}

}  // namespace detail

// ---- ShardTransaction --------------------------------------------------------------------------

ShardTransaction::ShardTransaction(std::unique_ptr<detail::ShardTransactionState> state)
    : state_(std::move(state)) {}

ShardTransaction::~ShardTransaction() {
  if (state_ && state_->phase == detail::ShardTransactionState::Phase::active)
    state_->rollback_all();
}

Dialect ShardTransaction::dialect() const noexcept { return state_->shards.dialect; }

Rows ShardTransaction::execute(const Statement& statement) {
  detail::ShardState& shards = state_->shards;
  const auto analysis = shards.analysis(statement.sql);
  const bool write = analysis->type != shard_detail::StatementType::select;
  const detail::Targets targets = shards.targets(
      *analysis, statement.params, analysis->type == shard_detail::StatementType::insert);
  std::vector<Rows> results;
  if (write) {
    shards.check_writable(*analysis, targets);
    if (analysis->insert && targets.clusters.size() > 1) {
      for (auto& [cluster, part] : shards.split_insert(*analysis->insert, statement.params)) {
        results.push_back(state_->run(cluster, part, true));
      }
    } else {
      for (std::size_t c : targets.clusters) results.push_back(state_->run(c, statement, true));
      // Every copy of a reference table changes alike: one copy's result is the result.
      if (targets.every_cluster) results.resize(1);
    }
    return detail::concatenate(std::move(results));
  }
  shards.check_readable(*analysis, targets);
  if (targets.clusters.size() == 1) return state_->run(targets.clusters.front(), statement, false);
  const Statement per_shard = shards.fan_out_statement(*analysis->fan_out, statement.params);
  for (std::size_t c : targets.clusters) results.push_back(state_->run(c, per_shard, false));
  return shard_detail::merge(analysis->fan_out->merge, std::move(results), statement.params);
}

Rows ShardTransaction::execute_on(std::size_t shard, const Statement& statement) {
  detail::ShardState& shards = state_->shards;
  if (shard >= shards.shard_cluster.size()) {
    throw UsageError(fmt::format("there is no shard {}: shards are 0 to {}", shard,
                                 shards.shard_cluster.size() - 1));
  }
  return state_->run(shards.shard_cluster[shard], statement, true);
}

void ShardTransaction::commit() { state_->commit(); }

void ShardTransaction::rollback() {
  if (state_->phase != detail::ShardTransactionState::Phase::active) {
    throw UsageError("cannot roll back: the shard transaction is already finished");
  }
  state_->rollback_all();
}

std::vector<std::string> ShardTransaction::participants() const {
  std::vector<std::string> names;
  for (const auto& p : state_->participants) names.push_back(state_->cluster(p.cluster).name);
  return names;
}

ShardTransaction ShardManager::begin(ShardTransactionOptions options) {
  return ShardTransaction(std::make_unique<detail::ShardTransactionState>(
      detail::ShardTransactionState{.shards = *state_, .options = std::move(options)}));
}

}  // namespace nexdb
