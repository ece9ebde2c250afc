// AsyncShards: a ShardManager's routing through the async path. A statement pinned by its shard
// key runs on that shard's cluster like any async call; a read over several clusters sends its
// per-cluster parts concurrently from the calling thread (no thread per shard) and merges them
// with the shard module's own merge (ShardManager::plan, ShardPlan::merge). See docs/async.md.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "nexdb/async.hpp"
#include "nexdb/shard.hpp"

namespace nexdb {

namespace detail {
class AsyncShardState;
}

class AsyncShards : public AsyncShortcuts<AsyncShards> {
 public:
  using AsyncShortcuts<AsyncShards>::async_run;
  /// Each of `shards`' clusters gets an async engine (lanes, deadlines) over the cluster's own
  /// pool or ReplicaManager, so limits, routing and statistics are the blocking API's.
  /// `shards` must outlive this handle and everything it returned.
  AsyncShards(asio::any_io_executor executor, ShardManager& shards, AsyncSettings settings = {});

  /// Like ShardManager::execute(): one shard when the key pins it; a read on several clusters
  /// fans out concurrently and is merged (a failing cluster fails it, named in the error, same
  /// error type). A write on several clusters needs two-phase commit, which is blocking: it runs
  /// ShardManager::execute() on a worker thread.
  asio::awaitable<Rows> async_run(Statement statement);
  /// A read that may return partial results: with allow_partial, a failing cluster's part is
  /// left out and reported in ScatterResult::failures.
  asio::awaitable<ScatterResult> async_scatter(Statement statement, ScatterOptions options);
  asio::awaitable<ScatterResult> async_scatter(std::string_view sql, ScatterOptions options) {
    return async_scatter(Statement{std::string(sql), {}}, options);
  }
  template <Renderable Q>
  asio::awaitable<ScatterResult> async_scatter(const Q& query, ScatterOptions options) {
    return async_scatter(query.render(dialect()), options);
  }
  /// On the primary of `shard`'s cluster, unrouted (like ShardManager::execute_on()).
  asio::awaitable<Rows> async_run_on(std::size_t shard, Statement statement);

  /// A transaction on the primary of `shard`'s cluster (statements in it are not routed): for
  /// work on rows that live together, e.g. one user's. Across clusters use ShardManager's
  /// blocking transaction(), which commits with two-phase commit.
  asio::awaitable<AsyncTransaction> async_begin_on(std::size_t shard,
                                                   TransactionOptions options = {});
  /// Runs `work(AsyncTransaction&) -> asio::awaitable<R>` in async_begin_on(shard) and commits;
  /// an exception rolls back and propagates.
  template <class Work>
  auto async_transaction_on(std::size_t shard, Work work, TransactionOptions options = {}) {
    return detail::run_in<AsyncTransaction>(async_begin_on(shard, options), std::move(work));
  }

  /// A handle whose calls have a deadline (CallOptions::timeout), each part of a fan-out alike.
  AsyncShards with_timeout(std::chrono::milliseconds timeout) const;
  Dialect dialect() const noexcept;
  ShardManager& shards() const noexcept;

 private:
  std::shared_ptr<detail::AsyncShardState> state_;
  CallOptions options_;
};

}  // namespace nexdb
