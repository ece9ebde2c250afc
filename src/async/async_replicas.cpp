// AsyncReplicas and AsyncReplicaSession: ReplicaManager's routing with an async engine per host.
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "async/calls.hpp"
#include "async/engine.hpp"
#include "cluster/replica_state.hpp"
#include "nexdb/async.hpp"

namespace nexdb {
namespace detail {

class AsyncReplicaState {
 public:
  AsyncReplicaState(const asio::any_io_executor& executor, ReplicaManager& manager,
                    const AsyncSettings& settings)
      : manager(manager), routing(ReplicaAccess::state(manager)) {
    for (std::size_t i = 0; i < routing.host_count(); ++i) {
      engines_.push_back(
          std::make_shared<AsyncEngine>(executor, *routing.host(i).pool, settings, nullptr));
    }
  }
  const std::shared_ptr<AsyncEngine>& engine(const ReplicaHost& host) const {
    return engines_[host.index];
  }
  std::vector<AsyncStats> stats() const {
    std::vector<AsyncStats> out;
    for (const auto& engine : engines_) out.push_back(engine->stats());
    return out;
  }

  ReplicaManager& manager;
  ReplicaState& routing;

 private:
  std::vector<std::shared_ptr<AsyncEngine>> engines_;
};

namespace {

using StatePtr = std::shared_ptr<AsyncReplicaState>;

// Reads have no side effects, so one that lost its connection runs again on another host.
asio::awaitable<Rows> read(StatePtr state, Statement statement, ReadPreference preference,
                           CallOptions options) {
  ReplicaState& routing = state->routing;
  for (std::size_t attempt = 1;; ++attempt) {
    ReplicaHost& host = routing.choose_read(preference);
    routing.count_use(host, false);
    try {
      co_return co_await run_statement(state->engine(host), nullptr, statement, options);
    } catch (const ConnectionError& e) {
      routing.report_failure(host, e.what());
      if (attempt >= routing.host_count()) throw;
    }
  }
}

// Never retried: the statement may have run before the connection broke (ConnectionLost).
asio::awaitable<Rows> write(StatePtr state, Statement statement, CallOptions options) {
  ReplicaHost& host = state->routing.choose_write();
  state->routing.count_use(host, true);
  try {
    co_return co_await run_statement(state->engine(host), nullptr, std::move(statement), options);
  } catch (const ConnectionError& e) {
    state->routing.report_failure(host, e.what());
    throw;
  }
}

asio::awaitable<AsyncTransaction> begin_write(StatePtr state, CallOptions options,
                                              TransactionOptions transaction) {
  ReplicaHost& host = state->routing.choose_write();
  state->routing.count_use(host, true);
  try {
    co_return co_await begin_transaction<AsyncTransaction>(state->engine(host), options,
                                                           transaction, false);
  } catch (const ConnectionError& e) {
    state->routing.report_failure(host, e.what());
    throw;
  }
}

asio::awaitable<AsyncReadOnlyTransaction> begin_read(StatePtr state, CallOptions options,
                                                     TransactionOptions transaction) {
  ReplicaState& routing = state->routing;
  for (std::size_t attempt = 1;; ++attempt) {
    ReplicaHost& host = routing.choose_read(routing.settings().read_preference);
    routing.count_use(host, false);
    try {
      co_return co_await begin_transaction<AsyncReadOnlyTransaction>(state->engine(host), options,
                                                                     transaction, true);
    } catch (const ConnectionError& e) {
      routing.report_failure(host, e.what());
      if (attempt >= routing.host_count()) throw;
    }
  }
}

// The write and the WAL position after its commit, as two implicit transactions in one round
// trip on the same connection.
asio::awaitable<Rows> session_write(StatePtr state, std::shared_ptr<ConsistencyToken> token,
                                    Statement statement, CallOptions options) {
  ReplicaHost& host = state->routing.choose_write();
  state->routing.count_use(host, true);
  std::vector<Statement> statements;
  statements.push_back(std::move(statement));
  statements.push_back({kInsertLsnSql, {}});
  JobPtr job = make_job(std::move(statements), options);
  job->sync_each = true;
  try {
    co_await await_job(state->engine(host), job);
  } catch (const ConnectionError& e) {
    state->routing.report_failure(host, e.what());
    throw;
  }
  token->merge(ConsistencyToken::parse(job->results[1].front().get<std::string>(0)));
  co_return std::move(job->results[0]);
}

// The catch-up check and the read in one implicit transaction on the replica: the read's snapshot
// is taken after the check, and replay only moves forward.
asio::awaitable<Rows> session_read(StatePtr state, std::shared_ptr<ConsistencyToken> token,
                                   Statement statement, CallOptions options) {
  ReplicaState& routing = state->routing;
  if (token->empty()) {
    co_return co_await read(state, std::move(statement), routing.settings().read_preference,
                            options);
  }
  ReplicaHost& host = routing.choose_read(routing.settings().read_preference);
  routing.count_use(host, false);
  const auto give_up = SteadyClock::now() + routing.settings().ryw_wait;
  for (;;) {
    std::vector<Statement> statements;
    statements.push_back({kCaughtUpSql, {Value(token->to_string())}});
    statements.push_back(statement);
    JobPtr job = make_job(std::move(statements), options);
    try {
      co_await await_job(state->engine(host), job);
    } catch (const ConnectionError& e) {
      routing.report_failure(host, e.what());
      throw;
    }
    if (job->results[0].scalar<bool>()) co_return std::move(job->results[1]);
    if (SteadyClock::now() >= give_up) break;
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds{2});
    co_await pause.async_wait(asio::use_awaitable);
  }
  ReplicaHost& primary = routing.choose_write();
  routing.count_use(primary, false);
  co_return co_await run_statement(state->engine(primary), nullptr, std::move(statement), options);
}

}  // namespace
}  // namespace detail

AsyncReplicas::AsyncReplicas(asio::any_io_executor executor, ReplicaManager& replicas,
                             AsyncSettings settings)
    : state_(std::make_shared<detail::AsyncReplicaState>(executor, replicas, settings)) {}

asio::awaitable<Rows> AsyncReplicas::async_run(Statement statement) {
  if (classify_sql(statement.sql) == StatementKind::read) return async_read(std::move(statement));
  return async_write(std::move(statement));
}

asio::awaitable<Rows> AsyncReplicas::async_read(Statement statement) {
  return async_read(std::move(statement), state_->routing.settings().read_preference);
}

asio::awaitable<Rows> AsyncReplicas::async_read(Statement statement, ReadPreference preference) {
  return detail::read(state_, std::move(statement), preference, options_);
}

asio::awaitable<Rows> AsyncReplicas::async_write(Statement statement) {
  return detail::write(state_, std::move(statement), options_);
}

AsyncReplicas AsyncReplicas::with_timeout(std::chrono::milliseconds timeout) const {
  AsyncReplicas copy = *this;
  copy.options_.timeout = timeout;
  return copy;
}

asio::awaitable<AsyncTransaction> AsyncReplicas::async_begin(TransactionOptions options) {
  return detail::begin_write(state_, options_, options);
}

asio::awaitable<AsyncReadOnlyTransaction> AsyncReplicas::async_begin_read(
    TransactionOptions options) {
  return detail::begin_read(state_, options_, options);
}

AsyncReplicaSession AsyncReplicas::session(ConsistencyToken token) {
  return AsyncReplicaSession(state_, token, options_);
}

ReplicaManager& AsyncReplicas::replicas() const noexcept { return state_->manager; }

std::vector<AsyncStats> AsyncReplicas::stats() const { return state_->stats(); }

asio::awaitable<Rows> AsyncReplicaSession::async_write(Statement statement) {
  return detail::session_write(state_, token_, std::move(statement), options_);
}

asio::awaitable<Rows> AsyncReplicaSession::async_read(Statement statement) {
  return detail::session_read(state_, token_, std::move(statement), options_);
}

asio::awaitable<AsyncTransaction> AsyncReplicaSession::begin_on_primary(
    TransactionOptions options) {
  return detail::begin_write(state_, options_, options);
}

asio::awaitable<void> AsyncReplicaSession::record(std::shared_ptr<detail::AsyncReplicaState> state,
                                                  std::shared_ptr<ConsistencyToken> token) {
  detail::ReplicaHost& primary = state->routing.choose_write();
  // Built before the co_await: g++ 12 destroys braced temporaries in a co_await twice.
  Statement insert_lsn{detail::kInsertLsnSql, {}};
  Rows rows = co_await detail::run_statement(state->engine(primary), nullptr, std::move(insert_lsn),
                                             CallOptions{});
  token->merge(ConsistencyToken::parse(rows.front().get<std::string>(0)));
}

}  // namespace nexdb
