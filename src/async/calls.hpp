// The coroutines behind the public async API. They take everything by value (the engine and
// session by shared_ptr), so a call outlives the handle it was made on.
#pragma once

#include <asio/awaitable.hpp>

#include <memory>
#include <vector>

#include "async/job.hpp"
#include "nexdb/async.hpp"

namespace nexdb::detail {

class AsyncEngine;
class AsyncSession;

/// Builds the public handles from the engine's parts.
struct AsyncAccess {
  static AsyncLease lease(std::shared_ptr<AsyncEngine> engine,
                          std::shared_ptr<AsyncSession> session) {
    return AsyncLease(std::move(engine), std::move(session));
  }
  template <class Tx>
  static Tx transaction(std::shared_ptr<AsyncEngine> engine, std::shared_ptr<AsyncSession> session,
                        bool read_only) {
    return Tx(std::move(engine), std::move(session), read_only);
  }
  static Pipeline pipeline(std::shared_ptr<AsyncEngine> engine,
                           std::shared_ptr<AsyncSession> session, Dialect dialect,
                           CallOptions options) {
    return Pipeline(std::move(engine), std::move(session), dialect, options);
  }
};

/// Runs `job` (on `session`, or where the engine puts it) and resumes when it has finished,
/// throwing its error. The caller's cancellation slot, if connected, cancels it.
asio::awaitable<void> await_job(std::shared_ptr<AsyncEngine> engine, JobPtr job,
                                std::shared_ptr<AsyncSession> session = nullptr);

asio::awaitable<Rows> run_statement(std::shared_ptr<AsyncEngine> engine,
                                    std::shared_ptr<AsyncSession> session, Statement statement,
                                    CallOptions options);
asio::awaitable<std::vector<Rows>> run_pipeline(std::shared_ptr<AsyncEngine> engine,
                                                std::shared_ptr<AsyncSession> session, JobPtr job);
asio::awaitable<AsyncLease> acquire_lease(std::shared_ptr<AsyncEngine> engine, CallOptions options);
template <class Tx>
asio::awaitable<Tx> begin_transaction(std::shared_ptr<AsyncEngine> engine, CallOptions options,
                                      TransactionOptions transaction, bool read_only);
/// COMMIT or ROLLBACK, then the connection goes back to the pool.
asio::awaitable<void> end_transaction(std::shared_ptr<AsyncEngine> engine,
                                      std::shared_ptr<AsyncSession> session, bool read_only,
                                      bool commit);

}  // namespace nexdb::detail
