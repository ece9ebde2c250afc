// RAII transactions: a transaction that is not committed rolls back when it goes out of scope.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "nexdb/connection.hpp"

namespace nexdb {

enum class IsolationLevel { read_committed, repeatable_read, serializable };

struct TransactionOptions {
  IsolationLevel isolation = IsolationLevel::read_committed;
};

class Savepoint;

/// Shared machinery of Transaction and ReadOnlyTransaction.
class TransactionBase : public StatementShortcuts<TransactionBase> {
 public:
  using StatementShortcuts<TransactionBase>::execute;
  TransactionBase(const TransactionBase&) = delete;
  TransactionBase& operator=(const TransactionBase&) = delete;

  /// Commits; afterwards the object is finished. Commit after rollback is a UsageError.
  void commit();
  /// Rolls back explicitly (also what the destructor does when not committed).
  void rollback();
  bool active() const noexcept { return state_ == State::active; }

  Rows execute(const Statement& statement);
  Dialect dialect() const noexcept { return connection_.dialect(); }

  /// A named savepoint inside this transaction; rolls back to itself unless released.
  Savepoint savepoint(std::string_view name);
  Connection& connection() noexcept { return connection_; }

 protected:
  TransactionBase(Connection& connection, TransactionOptions options, bool read_only);
  ~TransactionBase();

 private:
  enum class State { active, committed, rolled_back };
  void require_active(std::string_view operation) const;

  Connection& connection_;
  State state_ = State::active;
  bool read_only_;
};

/// A read-write transaction (always runs on a primary).
class Transaction : public TransactionBase {
 public:
  explicit Transaction(Connection& connection, TransactionOptions options = {})
      : TransactionBase(connection, options, false) {}
};

/// A read-only transaction: the server refuses writes, so it may run on a replica.
class ReadOnlyTransaction : public TransactionBase {
 public:
  explicit ReadOnlyTransaction(Connection& connection, TransactionOptions options = {})
      : TransactionBase(connection, options, true) {}
};

namespace detail {
/// Runs `work(tx)`, then `tx.commit()`; returns what `work` returns. An exception from `work`
/// propagates without committing (the transaction's destructor rolls back).
template <class Tx, class Work>
auto run_and_commit(Tx& tx, Work&& work) {
  if constexpr (std::is_void_v<std::invoke_result_t<Work, Tx&>>) {
    work(tx);
    tx.commit();
  } else {
    auto result = work(tx);
    tx.commit();
    return result;
  }
}
}  // namespace detail

class Savepoint {
 public:
  Savepoint(Savepoint&& other) noexcept;
  Savepoint& operator=(Savepoint&&) = delete;
  ~Savepoint();
  /// Keeps the work done since the savepoint (RELEASE SAVEPOINT).
  void release();
  /// Undoes the work done since the savepoint (ROLLBACK TO SAVEPOINT).
  void rollback();

 private:
  friend class TransactionBase;
  Savepoint(Connection& connection, std::string quoted_name);
  Connection* connection_;
  std::string quoted_name_;
  bool done_ = false;
};

}  // namespace nexdb
