// AsyncTransaction and AsyncReadOnlyTransaction.
#include <fmt/format.h>

#include "async/calls.hpp"
#include "async/engine.hpp"
#include "nexdb/async.hpp"
#include "nexdb/error.hpp"

namespace nexdb {

AsyncTransactionBase::AsyncTransactionBase(AsyncTransactionBase&& other) noexcept
    : engine_(std::move(other.engine_)),
      session_(std::move(other.session_)),
      read_only_(other.read_only_),
      active_(std::exchange(other.active_, false)) {}

AsyncTransactionBase& AsyncTransactionBase::operator=(AsyncTransactionBase&& other) noexcept {
  if (this != &other) {
    abandon();
    engine_ = std::move(other.engine_);
    session_ = std::move(other.session_);
    read_only_ = other.read_only_;
    active_ = std::exchange(other.active_, false);
  }
  return *this;
}

AsyncTransactionBase::~AsyncTransactionBase() { abandon(); }

// The session rolls the transaction back on its own (without blocking) before the connection
// goes back to the pool.
void AsyncTransactionBase::abandon() noexcept {
  if (session_) engine_->close(std::exchange(session_, nullptr));
  active_ = false;
}

void AsyncTransactionBase::require_active(std::string_view operation) const {
  if (active_) return;
  throw UsageError(
      fmt::format("cannot {} a transaction that was already committed or rolled "
                  "back (or moved from)",
                  operation));
}

asio::awaitable<Rows> AsyncTransactionBase::async_run(Statement statement, CallOptions options) {
  require_active("use");
  return detail::run_statement(engine_, session_, std::move(statement), options);
}

Pipeline AsyncTransactionBase::pipeline(CallOptions options) {
  require_active("use");
  return detail::AsyncAccess::pipeline(engine_, session_, engine_->dialect(), options);
}

asio::awaitable<void> AsyncTransactionBase::async_commit() {
  require_active("commit");
  active_ = false;
  return detail::end_transaction(engine_, std::exchange(session_, nullptr), read_only_, true);
}

asio::awaitable<void> AsyncTransactionBase::async_rollback() {
  require_active("roll back");
  active_ = false;
  return detail::end_transaction(engine_, std::exchange(session_, nullptr), read_only_, false);
}

Dialect AsyncTransactionBase::dialect() const noexcept { return engine_->dialect(); }

}  // namespace nexdb
