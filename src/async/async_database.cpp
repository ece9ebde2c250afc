// AsyncDatabase, AsyncLease, Pipeline and PipelineError: thin handles over the engine.
#include <fmt/format.h>

#include "async/calls.hpp"
#include "async/engine.hpp"
#include "async/session.hpp"
#include "nexdb/async.hpp"
#include "nexdb/error.hpp"

namespace nexdb {

using detail::AsyncAccess;

// --- AsyncDatabase -----------------------------------------------------------------------------

AsyncDatabase::AsyncDatabase(asio::any_io_executor executor, Database database,
                             AsyncSettings settings) {
  auto owner = std::make_shared<Database>(std::move(database));
  ConnectionPool& pool = owner->pool();
  engine_ = std::make_shared<detail::AsyncEngine>(std::move(executor), pool, std::move(settings),
                                                  std::move(owner));
}

AsyncDatabase::AsyncDatabase(asio::any_io_executor executor, ConnectionPool& pool,
                             AsyncSettings settings)
    : engine_(std::make_shared<detail::AsyncEngine>(std::move(executor), pool, std::move(settings),
                                                    nullptr)) {}

asio::awaitable<Rows> AsyncDatabase::async_run(Statement statement) {
  return detail::run_statement(engine_, nullptr, std::move(statement), options_);
}

AsyncDatabase AsyncDatabase::with_timeout(std::chrono::milliseconds timeout) const {
  AsyncDatabase copy = *this;
  copy.options_.timeout = timeout;
  return copy;
}

Pipeline AsyncDatabase::pipeline() {
  return AsyncAccess::pipeline(engine_, nullptr, dialect(), options_);
}

asio::awaitable<AsyncLease> AsyncDatabase::async_acquire() {
  return detail::acquire_lease(engine_, options_);
}

asio::awaitable<AsyncTransaction> AsyncDatabase::async_begin(TransactionOptions options) {
  return detail::begin_transaction<AsyncTransaction>(engine_, options_, options, false);
}

asio::awaitable<AsyncReadOnlyTransaction> AsyncDatabase::async_begin_read(
    TransactionOptions options) {
  return detail::begin_transaction<AsyncReadOnlyTransaction>(engine_, options_, options, true);
}

asio::awaitable<void> detail::rollback_then_rethrow(AsyncTransactionBase& tx,
                                                    std::exception_ptr failure) {
  if (tx.active()) {
    try {
      co_await tx.async_rollback();
    } catch (...) {  // the error that made us roll back is the one worth reporting
    }
  }
  std::rethrow_exception(failure);
}

Dialect AsyncDatabase::dialect() const noexcept { return engine_->dialect(); }
const std::string& AsyncDatabase::description() const noexcept { return engine_->description(); }
ConnectionPool& AsyncDatabase::pool() const noexcept { return engine_->pool(); }
const AsyncSettings& AsyncDatabase::settings() const noexcept { return engine_->settings(); }
AsyncStats AsyncDatabase::stats() const { return engine_->stats(); }
asio::any_io_executor AsyncDatabase::get_executor() const noexcept { return engine_->executor(); }

// --- AsyncLease --------------------------------------------------------------------------------

AsyncLease& AsyncLease::operator=(AsyncLease&& other) noexcept {
  if (this != &other) {
    release();
    engine_ = std::move(other.engine_);
    session_ = std::move(other.session_);
  }
  return *this;
}

AsyncLease::~AsyncLease() { release(); }

void AsyncLease::release() noexcept {
  if (session_) engine_->close(std::exchange(session_, nullptr));
}

namespace {
[[noreturn]] void throw_released() {
  throw UsageError("this AsyncLease holds no connection (released, moved from or default-made)");
}
}  // namespace

asio::awaitable<Rows> AsyncLease::async_run(Statement statement, CallOptions options) {
  if (!session_) throw_released();
  return detail::run_statement(engine_, session_, std::move(statement), options);
}

Pipeline AsyncLease::pipeline(CallOptions options) {
  if (!session_) throw_released();
  return AsyncAccess::pipeline(engine_, session_, session_->dialect(), options);
}

Dialect AsyncLease::dialect() const noexcept { return engine_->dialect(); }
const std::string& AsyncLease::description() const noexcept { return engine_->description(); }

// --- Pipeline ----------------------------------------------------------------------------------

std::size_t Pipeline::add(Statement statement) {
  statements_.push_back(std::move(statement));
  return statements_.size() - 1;
}

asio::awaitable<std::vector<Rows>> Pipeline::async_run() {
  detail::JobPtr job = detail::make_job(std::exchange(statements_, {}), options_);
  job->pipeline = true;
  job->atomic = true;
  return detail::run_pipeline(engine_, session_, std::move(job));
}

// --- PipelineError -----------------------------------------------------------------------------

namespace {

std::string pipeline_message(std::size_t index, std::size_t size, const std::exception_ptr& cause) {
  std::string reason = "unknown error";
  try {
    std::rethrow_exception(cause);
  } catch (const Error& e) {
    reason = e.message();
  } catch (const std::exception& e) {
    reason = e.what();
  } catch (...) {
  }
  return fmt::format("statement {} of the pipeline (index {}, of {}) failed: {}", index + 1, index,
                     size, reason);
}

ErrorDetails details_of(const std::exception_ptr& cause) {
  try {
    std::rethrow_exception(cause);
  } catch (const Error& e) {
    return {.sqlstate = e.sqlstate(), .host = e.host(), .statement = e.statement()};
  } catch (...) {
    return {};
  }
}

}  // namespace

PipelineError::PipelineError(std::size_t index, std::size_t size, std::exception_ptr cause)
    : Error(pipeline_message(index, size, cause), details_of(cause)),
      index_(index),
      cause_(std::move(cause)) {}

bool PipelineError::retryable() const noexcept {
  try {
    std::rethrow_exception(cause_);
  } catch (const Error& e) {
    return e.retryable();
  } catch (...) {
    return false;
  }
}

}  // namespace nexdb
