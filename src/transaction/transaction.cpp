#include "nexdb/transaction.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"
#include "transaction/begin_statement.hpp"

namespace nexdb {
namespace detail {

std::string begin_statement(Dialect dialect, TransactionOptions options, bool read_only) {
  if (dialect == Dialect::sqlite) {
    // SQLite is always serializable. IMMEDIATE takes the write lock up front, so a writer never
    // fails half-way with SQLITE_BUSY_SNAPSHOT; readers stay DEFERRED.
    return read_only ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE";
  }
  std::string_view level = "READ COMMITTED";
  if (options.isolation == IsolationLevel::repeatable_read) level = "REPEATABLE READ";
  if (options.isolation == IsolationLevel::serializable) level = "SERIALIZABLE";
  return fmt::format("BEGIN ISOLATION LEVEL {}{}", level, read_only ? ", READ ONLY" : "");
}

}  // namespace detail

TransactionBase::TransactionBase(Connection& connection, TransactionOptions options, bool read_only)
    : connection_(connection), read_only_(read_only) {
  if (connection.transaction_status() != TransactionStatus::idle) {
    throw UsageError("the connection is already in a transaction; use savepoint() to nest",
                     {.host = connection.description()});
  }
  connection_.execute_script(detail::begin_statement(connection.dialect(), options, read_only));
  if (read_only_ && connection.dialect() == Dialect::sqlite) {
    connection_.execute_script("PRAGMA query_only = ON");
  }
}

TransactionBase::~TransactionBase() {
  if (state_ != State::active) return;
  try {
    rollback();
  } catch (const std::exception& e) {
    // A broken connection rolls back by itself on the server; the pool discards it.
    spdlog::warn("rollback of an abandoned transaction on {} failed: {}", connection_.description(),
                 e.what());
  }
}

void TransactionBase::require_active(std::string_view operation) const {
  if (state_ == State::active) return;
  throw UsageError(fmt::format("cannot {} a transaction that was already {}", operation,
                               state_ == State::committed ? "committed" : "rolled back"),
                   {.host = connection_.description()});
}

void TransactionBase::commit() {
  require_active("commit");
  if (connection_.transaction_status() == TransactionStatus::failed) {
    // PostgreSQL answers COMMIT of an aborted transaction with a silent ROLLBACK: say so.
    rollback();
    throw UsageError("cannot commit: an earlier statement failed, so the transaction was rolled "
                     "back and nothing was written; catch the error where it happened or use a "
                     "savepoint around statements that may fail",
                     {.host = connection_.description()});
  }
  state_ = State::rolled_back;  // if COMMIT itself throws, the transaction is over anyway
  if (read_only_ && connection_.dialect() == Dialect::sqlite) {
    connection_.execute_script("PRAGMA query_only = OFF; COMMIT");
  } else {
    connection_.execute_script("COMMIT");
  }
  state_ = State::committed;
}

void TransactionBase::rollback() {
  require_active("roll back");
  state_ = State::rolled_back;
  if (connection_.is_broken()) return;
  connection_.execute_script("ROLLBACK");
  if (read_only_ && connection_.dialect() == Dialect::sqlite) {
    connection_.execute_script("PRAGMA query_only = OFF");
  }
}

Rows TransactionBase::execute(const Statement& statement) {
  require_active("use");
  return connection_.execute(statement);
}

Savepoint TransactionBase::savepoint(std::string_view name) {
  require_active("create a savepoint in");
  std::string quoted = quote_identifier(name);
  connection_.execute_script("SAVEPOINT " + quoted);
  return Savepoint(connection_, std::move(quoted));
}

Savepoint::Savepoint(Connection& connection, std::string quoted_name)
    : connection_(&connection), quoted_name_(std::move(quoted_name)) {}

Savepoint::Savepoint(Savepoint&& other) noexcept
    : connection_(other.connection_), quoted_name_(std::move(other.quoted_name_)), done_(other.done_) {
  other.done_ = true;
}

Savepoint::~Savepoint() {
  if (done_) return;
  try {
    rollback();
  } catch (const std::exception& e) {
    spdlog::warn("rollback to savepoint {} failed: {}", quoted_name_, e.what());
  }
}

void Savepoint::release() {
  if (done_) throw UsageError("savepoint " + quoted_name_ + " was already released or rolled back");
  done_ = true;
  connection_->execute_script("RELEASE SAVEPOINT " + quoted_name_);
}

void Savepoint::rollback() {
  if (done_) throw UsageError("savepoint " + quoted_name_ + " was already released or rolled back");
  done_ = true;
  if (connection_->is_broken()) return;
  // ROLLBACK TO keeps the savepoint; RELEASE pops it so nesting stays balanced.
  connection_->execute_script(fmt::format("ROLLBACK TO SAVEPOINT {0}; RELEASE SAVEPOINT {0}", quoted_name_));
}

}  // namespace nexdb
