// The async API: C++20 coroutines on standalone Asio. PostgreSQL connections are driven through
// libpq's non-blocking API and pipeline mode on the caller's io_context; SQLite, which has no
// async I/O, runs on a small thread pool behind the same interface. Connections come from the
// same ConnectionPool as the blocking API: one set of limits, one set of statistics.
// See docs/async.md.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nexdb/database.hpp"
#include "nexdb/error.hpp"
#include "nexdb/replica.hpp"

namespace nexdb {

namespace detail {
class AsyncEngine;
class AsyncSession;
class AsyncReplicaState;
struct AsyncAccess;  // builds the handles below from the engine's parts
template <class T>
struct AwaitableValue;
template <class T>
struct AwaitableValue<asio::awaitable<T>> {
  using type = T;
};
}  // namespace detail

struct AsyncSettings {
  /// Concurrent autocommit statements of different coroutines share a few connections
  /// ("lanes"), pipelined: each statement is its own implicit transaction, so one failing does
  /// not touch the others — except plain reads (classify_sql()) sent in the same turn of the
  /// event loop, which share one Sync; a read aborted by another's failure never ran and is sent
  /// again on its own. Only statements that cannot leave state on the connection for the
  /// next one go on lanes (SELECT, WITH, INSERT, UPDATE, DELETE, VALUES, TABLE, MERGE); calls
  /// with a deadline or a cancellation slot get a connection of their own, so cancelling them
  /// on the server cannot hit another caller's statement. PostgreSQL only.
  bool implicit_batching = true;
  /// Most connections implicit batching holds at once (each counts against the pool's max_size).
  std::size_t max_lanes = 4;
  /// Another lane is opened when every open lane has this many calls in flight (so moderate
  /// concurrency is spread over several server processes, heavy concurrency batched on each).
  std::size_t lane_depth = 4;
  /// Threads for work that has no non-blocking API: SQLite statements, PostgreSQL cancel
  /// requests, rolling back abandoned transactions.
  std::size_t blocking_threads = 2;
  /// After a deadline, how long the server gets to end the cancelled statement before the
  /// connection is closed instead of reused.
  std::chrono::milliseconds cancel_grace{2000};
};

struct CallOptions {
  /// Deadline of the call, from the call on, waiting for a connection included (0 = none). When
  /// it passes, the statement is cancelled on the server (PQcancel; sqlite3_interrupt) and the
  /// call throws TimeoutError; the connection goes back to the pool clean, or is closed if the
  /// server does not end the statement within AsyncSettings::cancel_grace.
  std::chrono::milliseconds timeout{0};
};

/// A snapshot of one AsyncDatabase (the pool's own figures are in pool().stats()).
struct AsyncStats {
  std::size_t lanes = 0;                    // connections implicit batching holds now
  std::size_t in_flight = 0;                // calls started and not finished
  std::uint64_t calls = 0;                  // calls finished (successfully or not)
  std::uint64_t pipelined = 0;              // calls that ran on a lane
  std::uint64_t dedicated = 0;              // calls that leased a connection of their own
  std::uint64_t timeouts = 0;               // calls that reached their deadline
  std::uint64_t cancelled = 0;              // calls cancelled through their cancellation slot
  std::uint64_t cancel_requests = 0;        // cancel requests sent to the server
  std::uint64_t connections_discarded = 0;  // closed: a cancelled statement did not end in time
  std::size_t max_lane_depth = 0;           // most calls in flight on one lane so far
};

/// A statement of a pipeline failed. Outside a transaction a pipeline is one implicit
/// transaction, so none of it took effect; inside one, the transaction is aborted.
class PipelineError : public Error {
 public:
  PipelineError(std::size_t index, std::size_t size, std::exception_ptr cause);
  /// Position of the failed statement (0-based, in the order of Pipeline::add()).
  std::size_t index() const noexcept { return index_; }
  /// The statement's own error (UniqueViolation, ConnectionLost, ...).
  const std::exception_ptr& cause() const noexcept { return cause_; }
  [[noreturn]] void rethrow_cause() const { std::rethrow_exception(cause_); }
  bool retryable() const noexcept override;

 private:
  std::size_t index_;
  std::exception_ptr cause_;
};

/// The async_run() shorthands shared by everything that runs statements asynchronously: raw SQL,
/// SQL with values to bind, and builder queries rendered for the runner's dialect.
template <class Runner>
class AsyncShortcuts {
 public:
  asio::awaitable<Rows> async_run(std::string_view sql) {
    return self().async_run(Statement{std::string(sql), {}});
  }
  template <class... Args>
  requires(sizeof...(Args) > 0) asio::awaitable<Rows> async_run(std::string_view sql,
                                                                Args&&... args) {
    return self().async_run(Statement{std::string(sql), {Value(std::forward<Args>(args))...}});
  }
  template <Renderable Q>
  asio::awaitable<Rows> async_run(const Q& query) {
    return self().async_run(query.render(self().dialect()));
  }

 private:
  Runner& self() { return static_cast<Runner&>(*this); }
};

/// Statements sent together: one round trip, results in order. Outside a transaction they run as
/// one implicit transaction (all or nothing); inside one, as part of it.
class Pipeline {
 public:
  /// Adds a statement; returns its index in the results.
  std::size_t add(Statement statement);
  std::size_t add(std::string_view sql) { return add(Statement{std::string(sql), {}}); }
  template <class... Args>
  requires(sizeof...(Args) > 0) std::size_t add(std::string_view sql, Args&&... args) {
    return add(Statement{std::string(sql), {Value(std::forward<Args>(args))...}});
  }
  template <Renderable Q>
  std::size_t add(const Q& query) {
    return add(query.render(dialect_));
  }
  std::size_t size() const noexcept { return statements_.size(); }
  bool empty() const noexcept { return statements_.empty(); }

  /// Sends every statement at once and returns their results in order; the pipeline is empty
  /// afterwards. A failure throws PipelineError with the failed statement's index.
  asio::awaitable<std::vector<Rows>> async_run();

 private:
  friend struct detail::AsyncAccess;
  Pipeline(std::shared_ptr<detail::AsyncEngine> engine,
           std::shared_ptr<detail::AsyncSession> session, Dialect dialect, CallOptions options)
      : engine_(std::move(engine)),
        session_(std::move(session)),
        dialect_(dialect),
        options_(options) {}

  std::shared_ptr<detail::AsyncEngine> engine_;
  std::shared_ptr<detail::AsyncSession> session_;  // null: any connection (a lane if safe)
  Dialect dialect_;
  CallOptions options_;
  std::vector<Statement> statements_;
};

/// One pooled connection held by a coroutine, for several statements in a row (session state,
/// temporary tables). Returned to the pool when destroyed; a transaction left open on it is
/// rolled back first, off the caller's thread.
class AsyncLease : public AsyncShortcuts<AsyncLease> {
 public:
  using AsyncShortcuts<AsyncLease>::async_run;
  AsyncLease() = default;
  AsyncLease(AsyncLease&&) noexcept = default;
  AsyncLease& operator=(AsyncLease&& other) noexcept;
  ~AsyncLease();

  asio::awaitable<Rows> async_run(Statement statement, CallOptions options = {});
  Pipeline pipeline(CallOptions options = {});
  Dialect dialect() const noexcept;
  /// Where the connection goes, without credentials.
  const std::string& description() const noexcept;
  explicit operator bool() const noexcept { return session_ != nullptr; }
  /// Returns the connection now instead of at destruction.
  void release() noexcept;

 private:
  friend struct detail::AsyncAccess;
  AsyncLease(std::shared_ptr<detail::AsyncEngine> engine,
             std::shared_ptr<detail::AsyncSession> session)
      : engine_(std::move(engine)), session_(std::move(session)) {}
  std::shared_ptr<detail::AsyncEngine> engine_;
  std::shared_ptr<detail::AsyncSession> session_;
};

/// Shared machinery of AsyncTransaction and AsyncReadOnlyTransaction. Rolled back unless
/// committed: by async_rollback(), or, when destroyed while active, off the caller's thread
/// before its connection returns to the pool.
class AsyncTransactionBase : public AsyncShortcuts<AsyncTransactionBase> {
 public:
  using AsyncShortcuts<AsyncTransactionBase>::async_run;
  AsyncTransactionBase(AsyncTransactionBase&& other) noexcept;
  AsyncTransactionBase& operator=(AsyncTransactionBase&& other) noexcept;

  asio::awaitable<Rows> async_run(Statement statement, CallOptions options = {});
  /// Statements of this transaction sent in one round trip.
  Pipeline pipeline(CallOptions options = {});
  /// Commits. After a failed statement PostgreSQL would silently roll back instead: nexdb rolls
  /// back and throws UsageError, as the blocking Transaction does. Commit twice: UsageError.
  asio::awaitable<void> async_commit();
  asio::awaitable<void> async_rollback();
  bool active() const noexcept { return active_; }
  Dialect dialect() const noexcept;

 protected:
  friend struct detail::AsyncAccess;
  AsyncTransactionBase() = default;
  AsyncTransactionBase(std::shared_ptr<detail::AsyncEngine> engine,
                       std::shared_ptr<detail::AsyncSession> session, bool read_only)
      : engine_(std::move(engine)),
        session_(std::move(session)),
        read_only_(read_only),
        active_(true) {}
  ~AsyncTransactionBase();

 private:
  void require_active(std::string_view operation) const;
  void abandon() noexcept;

  std::shared_ptr<detail::AsyncEngine> engine_;
  std::shared_ptr<detail::AsyncSession> session_;
  bool read_only_ = false;
  bool active_ = false;
};

/// A read-write transaction on one connection.
class AsyncTransaction : public AsyncTransactionBase {
 public:
  AsyncTransaction() = default;

 private:
  friend struct detail::AsyncAccess;
  using AsyncTransactionBase::AsyncTransactionBase;
};

/// A read-only transaction: the server refuses writes.
class AsyncReadOnlyTransaction : public AsyncTransactionBase {
 public:
  AsyncReadOnlyTransaction() = default;

 private:
  friend struct detail::AsyncAccess;
  using AsyncTransactionBase::AsyncTransactionBase;
};

namespace detail {

/// Rolls back (a failed rollback is not worth reporting over the error that caused it) and
/// throws `failure`.
asio::awaitable<void> rollback_then_rethrow(AsyncTransactionBase& tx, std::exception_ptr failure);

/// Runs `work(tx)` in the transaction `begin` opens, commits when it returns, rolls back when it
/// throws. Returns what `work` returns.
template <class Tx, class Work,
          class R = typename AwaitableValue<std::invoke_result_t<Work&, Tx&>>::type>
asio::awaitable<R> run_in(asio::awaitable<Tx> begin, Work work) {
  Tx tx = co_await std::move(begin);
  std::exception_ptr failure;
  if constexpr (std::is_void_v<R>) {
    try {
      co_await work(tx);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) co_await rollback_then_rethrow(tx, failure);
    co_await tx.async_commit();
  } else {
    std::optional<R> result;
    try {
      result.emplace(co_await work(tx));
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) co_await rollback_then_rethrow(tx, failure);
    co_await tx.async_commit();
    co_return std::move(*result);
  }
}

}  // namespace detail

/// async_transaction() and async_read_transaction() for everything with async_begin() and
/// async_begin_read() (AsyncDatabase, AsyncReplicas).
template <class Runner>
class AsyncTransactionShortcuts {
 public:
  /// Runs `work(AsyncTransaction&) -> asio::awaitable<R>` in a transaction and commits when it
  /// returns; an exception rolls back and propagates. Returns what `work` returns.
  template <class Work>
  auto async_transaction(Work work, TransactionOptions options = {}) {
    return detail::run_in<AsyncTransaction>(self().async_begin(options), std::move(work));
  }
  /// Like async_transaction(), read-only.
  template <class Work>
  auto async_read_transaction(Work work, TransactionOptions options = {}) {
    return detail::run_in<AsyncReadOnlyTransaction>(self().async_begin_read(options),
                                                    std::move(work));
  }

 private:
  Runner& self() { return static_cast<Runner&>(*this); }
};

/// A database used from coroutines. A cheap handle (copies share everything); thread-safe, and
/// usable from coroutines on any executor. Its own I/O runs on a strand of `executor`.
class AsyncDatabase : public AsyncShortcuts<AsyncDatabase>,
                      public AsyncTransactionShortcuts<AsyncDatabase> {
 public:
  using AsyncShortcuts<AsyncDatabase>::async_run;
  /// Over `database`'s pool (kept alive by this handle).
  AsyncDatabase(asio::any_io_executor executor, Database database, AsyncSettings settings = {});
  /// Over `pool`, which must outlive every copy of this handle and everything it returned.
  AsyncDatabase(asio::any_io_executor executor, ConnectionPool& pool, AsyncSettings settings = {});

  /// One autocommit statement: on a lane when implicit batching allows, else on a pooled
  /// connection of its own. Runs with this handle's call options (see with_timeout()).
  asio::awaitable<Rows> async_run(Statement statement);
  /// A handle whose calls have a deadline (CallOptions::timeout).
  AsyncDatabase with_timeout(std::chrono::milliseconds timeout) const;
  /// Statements sent in one round trip as one implicit transaction.
  Pipeline pipeline();

  /// A connection of its own (the pool's acquire_timeout applies, and this handle's deadline).
  asio::awaitable<AsyncLease> async_acquire();
  asio::awaitable<AsyncTransaction> async_begin(TransactionOptions options = {});
  asio::awaitable<AsyncReadOnlyTransaction> async_begin_read(TransactionOptions options = {});

  Dialect dialect() const noexcept;
  /// Where the database is, without credentials.
  const std::string& description() const noexcept;
  ConnectionPool& pool() const noexcept;
  const AsyncSettings& settings() const noexcept;
  AsyncStats stats() const;
  asio::any_io_executor get_executor() const noexcept;

 private:
  std::shared_ptr<detail::AsyncEngine> engine_;
  CallOptions options_;
};

class AsyncReplicaSession;

/// A ReplicaManager's routing through the async path: reads go to a host chosen by the read
/// preference (skipping hosts that are down or lag too far) and are pipelined on that host's
/// lanes; writes go to whichever host is primary now. A read that loses its connection runs again
/// on another host; a write never does. Host health, roles and statistics are the manager's own.
class AsyncReplicas : public AsyncShortcuts<AsyncReplicas>,
                      public AsyncTransactionShortcuts<AsyncReplicas> {
 public:
  using AsyncShortcuts<AsyncReplicas>::async_run;
  /// `replicas` must outlive this handle and everything it returned.
  AsyncReplicas(asio::any_io_executor executor, ReplicaManager& replicas,
                AsyncSettings settings = {});

  /// Routed by what it is (classify_sql): reads to async_read(), the rest to async_write().
  asio::awaitable<Rows> async_run(Statement statement);
  /// The caller vouches that `statement` has no side effects (it may run twice).
  asio::awaitable<Rows> async_read(Statement statement);
  asio::awaitable<Rows> async_read(Statement statement, ReadPreference preference);
  asio::awaitable<Rows> async_write(Statement statement);
  /// A handle whose calls have a deadline (CallOptions::timeout).
  AsyncReplicas with_timeout(std::chrono::milliseconds timeout) const;

  /// A transaction on the primary / a read-only one on a host chosen by the read preference
  /// (async_transaction() and async_read_transaction() use them).
  asio::awaitable<AsyncTransaction> async_begin(TransactionOptions options = {});
  asio::awaitable<AsyncReadOnlyTransaction> async_begin_read(TransactionOptions options = {});

  /// Read-your-writes for one logical client (one per request), optionally resuming a token.
  AsyncReplicaSession session(ConsistencyToken token = {});

  Dialect dialect() const noexcept { return Dialect::postgres; }
  ReplicaManager& replicas() const noexcept;
  /// Per host, configured primary first.
  std::vector<AsyncStats> stats() const;

 private:
  std::shared_ptr<detail::AsyncReplicaState> state_;
  CallOptions options_;
};

/// Read-your-writes through the async path. After a write, reads go to a replica only once it has
/// replayed the write: the check and the read go out together in one pipeline (one round trip)
/// on the replica; one that is behind sends the read to the primary. Not thread-safe.
class AsyncReplicaSession {
 public:
  /// On the primary; the WAL position after its commit is fetched in the same round trip.
  asio::awaitable<Rows> async_write(Statement statement);
  template <Renderable Q>
  asio::awaitable<Rows> async_write(const Q& query) {
    return async_write(query.render(Dialect::postgres));
  }
  /// On a host that has replayed this session's writes.
  asio::awaitable<Rows> async_read(Statement statement);
  template <Renderable Q>
  asio::awaitable<Rows> async_read(const Q& query) {
    return async_read(query.render(Dialect::postgres));
  }
  /// `work(AsyncTransaction&)` on the primary, committed, then the token moves past it.
  template <class Work>
  auto async_transaction(Work work, TransactionOptions options = {}) {
    return record_after(
        state_, token_,
        detail::run_in<AsyncTransaction>(begin_on_primary(options), std::move(work)));
  }

  ConsistencyToken token() const noexcept { return *token_; }
  /// Adopts a token from elsewhere (a cookie, another session); keeps the later position.
  void observe(ConsistencyToken token) noexcept { token_->merge(token); }

 private:
  friend class AsyncReplicas;
  AsyncReplicaSession(std::shared_ptr<detail::AsyncReplicaState> state, ConsistencyToken token,
                      CallOptions options)
      : state_(std::move(state)),
        token_(std::make_shared<ConsistencyToken>(token)),
        options_(options) {}
  asio::awaitable<AsyncTransaction> begin_on_primary(TransactionOptions options);
  template <class R>
  static asio::awaitable<R> record_after(std::shared_ptr<detail::AsyncReplicaState> state,
                                         std::shared_ptr<ConsistencyToken> token,
                                         asio::awaitable<R> work) {
    if constexpr (std::is_void_v<R>) {
      co_await std::move(work);
      co_await record(std::move(state), std::move(token));
    } else {
      R result = co_await std::move(work);
      co_await record(std::move(state), std::move(token));
      co_return result;
    }
  }
  static asio::awaitable<void> record(std::shared_ptr<detail::AsyncReplicaState> state,
                                      std::shared_ptr<ConsistencyToken> token);

  std::shared_ptr<detail::AsyncReplicaState> state_;
  std::shared_ptr<ConsistencyToken> token_;  // shared with calls in flight
  CallOptions options_;
};

}  // namespace nexdb
