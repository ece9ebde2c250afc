// AsyncShards: ShardManager's routing with an async handle per cluster. A fan-out read spawns its
// parts as coroutines on a strand of the caller's executor (one thread suffices) and merges them
// with ShardPlan::merge, so results are exactly the blocking ShardManager's.
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <asio/system_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>

#include <atomic>
#include <mutex>
#include <optional>

#include "async/completion.hpp"
#include "nexdb/async_shard.hpp"
#include "shard/errors.hpp"
#include "shard/shard_state.hpp"

namespace nexdb {
namespace detail {

/// One cluster's async handle: over its pool, or its ReplicaManager when it has replicas.
struct AsyncCluster {
  ShardCluster& cluster;
  std::optional<AsyncDatabase> database;
  std::optional<AsyncReplicas> replicas;

  asio::awaitable<Rows> run(Statement statement, bool write, CallOptions options) {
    if (database) {
      AsyncDatabase db =
          options.timeout.count() > 0 ? database->with_timeout(options.timeout) : *database;
      co_return co_await db.async_run(std::move(statement));
    }
    AsyncReplicas r =
        options.timeout.count() > 0 ? replicas->with_timeout(options.timeout) : *replicas;
    if (write) co_return co_await r.async_write(std::move(statement));
    co_return co_await r.async_read(std::move(statement));
  }
};

class AsyncShardState {
 public:
  AsyncShardState(const asio::any_io_executor& executor, ShardManager& manager,
                  const AsyncSettings& settings)
      : manager(manager), state(ShardAccess::state(manager)), threads_(settings.blocking_threads) {
    for (const auto& cluster : state.clusters) {
      AsyncCluster& async = clusters.emplace_back(AsyncCluster{*cluster, {}, {}});
      if (ReplicaManager* replicas = cluster->replica_manager()) {
        async.replicas.emplace(executor, *replicas, settings);
      } else {
        async.database.emplace(executor, cluster->database(), settings);
      }
    }
  }

  /// Routing that may read the lookup directory (a blocking query on a cache miss) runs on a
  /// worker thread; every other shard function is pure computation and runs right here.
  template <class Work>
  asio::awaitable<std::invoke_result_t<Work&>> route(Work work) {
    if (state.directory == nullptr) co_return work();
    co_return co_await on_worker(std::move(work));
  }

  /// Runs blocking `work` on a worker thread; the caller is resumed on its executor.
  template <class Work, class R = std::invoke_result_t<Work&>>
  asio::awaitable<R> on_worker(Work work) {
    std::optional<R> result;
    co_await suspend([&](Completion done) {
      asio::post(workers(), [&result, &work, done = std::move(done)]() mutable {
        std::exception_ptr error;
        try {
          result.emplace(work());
        } catch (...) {
          error = std::current_exception();
        }
        done(error);
      });
    });
    co_return std::move(*result);
  }

  ShardManager& manager;
  ShardState& state;
  std::vector<AsyncCluster> clusters;

 private:
  asio::thread_pool& workers() {
    std::call_once(started_, [&] { workers_.emplace(threads_ > 0 ? threads_ : 1); });
    return *workers_;
  }

  std::size_t threads_;
  std::once_flag started_;
  std::optional<asio::thread_pool> workers_;
};

namespace {

using StatePtr = std::shared_ptr<AsyncShardState>;

// Errors of a part name its cluster and keep their type (as ShardManager's do); Asio's own
// cancellation (operation_aborted) stays what it is.
[[noreturn]] void rethrow_for(std::exception_ptr error, const ShardCluster& cluster) {
  try {
    std::rethrow_exception(error);
  } catch (const asio::system_error&) {
    throw;
  } catch (...) {
    shard_detail::rethrow_for(std::current_exception(), cluster.where());
  }
}

asio::awaitable<Rows> run_on(StatePtr state, std::size_t cluster, Statement statement, bool write,
                             CallOptions options) {
  AsyncCluster& target = state->clusters[cluster];
  try {
    co_return co_await target.run(std::move(statement), write, options);
  } catch (...) {
    rethrow_for(std::current_exception(), target.cluster);
  }
}

/// The parts of a fan-out, running at once; slot i holds part i's rows or its error.
struct Gathered {
  explicit Gathered(std::size_t n) : rows(n), errors(n), signals(n), pending(n) {}
  std::vector<std::optional<Rows>> rows;
  std::vector<std::exception_ptr> errors;
  std::vector<asio::cancellation_signal> signals;
  std::atomic<std::size_t> pending;
  Completion done;
};

// Spawns every part on a strand of the caller's executor and resumes when all have finished.
// Parts get a cancellation slot only when the caller has one: a call with a slot cannot share a
// connection (implicit batching), and most fan-outs are not cancellable.
asio::awaitable<std::shared_ptr<Gathered>> gather(StatePtr state, const ShardPlan& plan,
                                                  CallOptions options) {
  const auto& parts = plan.parts();
  auto gathered = std::make_shared<Gathered>(parts.size());
  auto strand = asio::make_strand(co_await asio::this_coro::executor);
  co_await suspend([&](Completion done) {
    gathered->done = std::move(done);
    const bool cancellable = gathered->done.slot().is_connected();
    if (cancellable) {
      gathered->done.slot().assign([gathered, strand](asio::cancellation_type type) {
        asio::post(strand, [gathered, type] {
          for (auto& signal : gathered->signals) signal.emit(type);
        });
      });
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto finished = [gathered, i](std::exception_ptr error, Rows rows) {
        if (error) {
          gathered->errors[i] = error;
        } else {
          gathered->rows[i].emplace(std::move(rows));
        }
        if (gathered->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) gathered->done({});
      };
      auto part = run_on(state, parts[i].cluster, parts[i].statement, false, options);
      if (cancellable) {
        asio::co_spawn(strand, std::move(part),
                       asio::bind_cancellation_slot(gathered->signals[i].slot(), finished));
      } else {
        asio::co_spawn(strand, std::move(part), finished);
      }
    }
  });
  co_return gathered;
}

std::string message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

asio::awaitable<ScatterResult> read(StatePtr state, Statement statement, ScatterOptions scatter,
                                    CallOptions options) {
  ShardManager& manager = state->manager;
  // Lambdas are built before the co_await: g++ 12 mishandles temporaries inside one.
  auto planning = [&] { return manager.plan(statement); };
  ShardPlan plan = co_await state->route(planning);
  if (plan.parts().size() == 1) {
    const auto& part = plan.parts().front();
    // Not `ScatterResult{.rows = co_await ...}`: g++ 12 destroys such a temporary twice.
    ScatterResult one;
    one.rows = co_await run_on(state, part.cluster, part.statement, false, options);
    co_return one;
  }
  auto gathered = co_await gather(state, plan, options);
  ScatterResult out;
  std::vector<Rows> answered;
  for (std::size_t i = 0; i < plan.parts().size(); ++i) {
    if (gathered->rows[i]) {
      answered.push_back(std::move(*gathered->rows[i]));
      continue;
    }
    // Already named for its cluster by run_on().
    if (!scatter.allow_partial) std::rethrow_exception(gathered->errors[i]);
    const ShardCluster& cluster = state->clusters[plan.parts()[i].cluster].cluster;
    out.failures.push_back({.cluster = cluster.name,
                            .shards = cluster.shards,
                            .message = message_of(gathered->errors[i]),
                            .error = gathered->errors[i]});
  }
  if (answered.empty()) std::rethrow_exception(gathered->errors.front());
  out.partial = !out.failures.empty();
  out.rows = plan.merge(std::move(answered));
  co_return out;
}

/// Where a write goes: the one cluster its key pins, or nullopt for several (two-phase commit).
std::optional<std::size_t> write_target(ShardState& state, const Statement& statement) {
  const auto analysis = state.analysis(statement.sql);
  const bool insert = analysis->type == shard_detail::StatementType::insert;
  const Targets targets = state.targets(*analysis, statement.params, insert);
  state.check_writable(*analysis, targets);
  if (targets.clusters.size() == 1) return targets.clusters.front();
  return std::nullopt;
}

asio::awaitable<Rows> run(StatePtr state, Statement statement, CallOptions options) {
  const auto analysis = state->state.analysis(statement.sql);
  if (analysis->type == shard_detail::StatementType::select) {
    const ScatterOptions whole{};
    ScatterResult result = co_await read(state, std::move(statement), whole, options);
    co_return std::move(result.rows);
  }
  ShardState& shards = state->state;
  auto routing = [&] { return write_target(shards, statement); };
  const auto cluster = co_await state->route(routing);
  if (cluster) co_return co_await run_on(state, *cluster, std::move(statement), true, options);
  ShardManager& manager = state->manager;
  auto two_phase = [&] { return manager.execute(statement); };
  co_return co_await state->on_worker(two_phase);
}

}  // namespace
}  // namespace detail

AsyncShards::AsyncShards(asio::any_io_executor executor, ShardManager& shards,
                         AsyncSettings settings)
    : state_(std::make_shared<detail::AsyncShardState>(executor, shards, settings)) {}

asio::awaitable<Rows> AsyncShards::async_run(Statement statement) {
  return detail::run(state_, std::move(statement), options_);
}

asio::awaitable<ScatterResult> AsyncShards::async_scatter(Statement statement,
                                                          ScatterOptions options) {
  return detail::read(state_, std::move(statement), options, options_);
}

asio::awaitable<Rows> AsyncShards::async_run_on(std::size_t shard, Statement statement) {
  const std::size_t cluster = state_->manager.cluster_of(shard);
  return detail::run_on(state_, cluster, std::move(statement), true, options_);
}

asio::awaitable<AsyncTransaction> AsyncShards::async_begin_on(std::size_t shard,
                                                              TransactionOptions options) {
  detail::AsyncCluster& cluster = state_->clusters[state_->manager.cluster_of(shard)];
  if (cluster.database) {
    AsyncDatabase db = options_.timeout.count() > 0
                           ? cluster.database->with_timeout(options_.timeout)
                           : *cluster.database;
    return db.async_begin(options);
  }
  AsyncReplicas replicas = options_.timeout.count() > 0
                               ? cluster.replicas->with_timeout(options_.timeout)
                               : *cluster.replicas;
  return replicas.async_begin(options);
}

AsyncShards AsyncShards::with_timeout(std::chrono::milliseconds timeout) const {
  AsyncShards copy = *this;
  copy.options_.timeout = timeout;
  return copy;
}

Dialect AsyncShards::dialect() const noexcept { return state_->manager.dialect(); }
ShardManager& AsyncShards::shards() const noexcept { return state_->manager; }

}  // namespace nexdb
