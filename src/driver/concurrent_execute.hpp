// Statements on several connections at the same time, from the calling thread alone: no thread
// hand-off, no wake-up of other threads. The shard fan-out's way to ask every PostgreSQL shard at
// once (src/shard).
#pragma once

#include <exception>
#include <optional>
#include <span>

#include "nexdb/connection.hpp"

namespace nexdb::detail {

/// One statement to run on one connection, and how it ended: rows or error.
struct ConcurrentRun {
  Connection* connection = nullptr;
  const Statement* statement = nullptr;
  std::optional<Rows> rows{};
  std::exception_ptr error{};
};

/// True when execute_concurrently() can leave `connection`'s statement running on the server
/// while it starts the others: a PostgreSQL connection, observed or not. Statements on other
/// connections (SQLite) run one after the other on the calling thread.
bool sends_without_waiting(Connection& connection) noexcept;

/// Runs each run's statement on its connection (all distinct), at the same time where it can:
/// every PostgreSQL statement already prepared on its connection (the statement cache), outside
/// a transaction, is sent without waiting for its answer; the others then run one after the
/// other through Connection::execute() (which prepares them for next time) while the sent ones
/// run on their servers; then the thread waits on the sent ones' sockets with poll() and
/// decodes each result as it arrives. Each run ends with its rows or its error (as execute()
/// would throw it); nothing is thrown. Observers of observed connections see every statement.
void execute_concurrently(std::span<ConcurrentRun> runs);

}  // namespace nexdb::detail
