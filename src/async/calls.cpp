#include "async/calls.hpp"

#include "async/engine.hpp"
#include "async/session.hpp"
#include "transaction/begin_statement.hpp"

namespace nexdb::detail {
namespace {

// Asio's cancellation (a timer raced with `||`, a cancelled co_spawn) reaches the engine, which
// stops the call where it is: waiting for a connection, queued, or running on the server.
void watch_cancellation(const std::shared_ptr<AsyncEngine>& engine, const JobPtr& job) {
  asio::cancellation_slot slot = job->done.slot();
  if (!slot.is_connected()) return;
  slot.assign([engine = std::weak_ptr<AsyncEngine>(engine),
               job = std::weak_ptr<Job>(job)](asio::cancellation_type type) {
    if (type == asio::cancellation_type::none) return;
    if (auto alive = engine.lock()) alive->cancel(job);
  });
}

}  // namespace

asio::awaitable<void> await_job(std::shared_ptr<AsyncEngine> engine, JobPtr job,
                                std::shared_ptr<AsyncSession> session) {
  co_await suspend([&](Completion done) {
    job->done = std::move(done);
    watch_cancellation(engine, job);
    engine->submit(job, session);
  });
}

asio::awaitable<Rows> run_statement(std::shared_ptr<AsyncEngine> engine,
                                    std::shared_ptr<AsyncSession> session, Statement statement,
                                    CallOptions options) {
  std::vector<Statement> statements;
  statements.push_back(std::move(statement));
  JobPtr job = make_job(std::move(statements), options);
  co_await await_job(engine, job, std::move(session));
  co_return std::move(job->results.front());
}

asio::awaitable<std::vector<Rows>> run_pipeline(std::shared_ptr<AsyncEngine> engine,
                                                std::shared_ptr<AsyncSession> session, JobPtr job) {
  if (job->statements.empty()) co_return std::vector<Rows>{};
  co_await await_job(engine, job, std::move(session));
  co_return std::move(job->results);
}

asio::awaitable<AsyncLease> acquire_lease(std::shared_ptr<AsyncEngine> engine,
                                          CallOptions options) {
  JobPtr job = make_job({}, options);
  job->hold = true;
  co_await await_job(engine, job);
  co_return AsyncAccess::lease(engine, std::move(job->held));
}

template <class Tx>
asio::awaitable<Tx> begin_transaction(std::shared_ptr<AsyncEngine> engine, CallOptions options,
                                      TransactionOptions transaction, bool read_only) {
  std::vector<Statement> statements;
  statements.push_back({begin_statement(engine->dialect(), transaction, read_only), {}});
  if (read_only && engine->dialect() == Dialect::sqlite) {
    statements.push_back({"PRAGMA query_only = ON", {}});
  }
  JobPtr job = make_job(std::move(statements), options);
  job->hold = true;
  job->cached = false;
  co_await await_job(engine, job);
  co_return AsyncAccess::transaction<Tx>(engine, std::move(job->held), read_only);
}

template asio::awaitable<AsyncTransaction> begin_transaction<AsyncTransaction>(
    std::shared_ptr<AsyncEngine>, CallOptions, TransactionOptions, bool);
template asio::awaitable<AsyncReadOnlyTransaction> begin_transaction<AsyncReadOnlyTransaction>(
    std::shared_ptr<AsyncEngine>, CallOptions, TransactionOptions, bool);

asio::awaitable<void> end_transaction(std::shared_ptr<AsyncEngine> engine,
                                      std::shared_ptr<AsyncSession> session, bool read_only,
                                      bool commit) {
  JobPtr job = make_job(end_statements(engine->dialect(), read_only, commit), {});
  job->cached = false;
  job->commit = commit;
  std::exception_ptr failure;
  try {
    co_await await_job(engine, job, session);
  } catch (...) {
    failure = std::current_exception();
  }
  engine->close(std::move(session));
  if (failure) std::rethrow_exception(failure);
}

}  // namespace nexdb::detail
