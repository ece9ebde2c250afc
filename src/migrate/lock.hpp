// The run-wide lock that makes concurrent runners apply each migration exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "nexdb/connection.hpp"

namespace nexdb::detail {

/// Held for a whole run; released by the destructor (and by the server or the OS if the process
/// dies, so a crashed runner never leaves a stale lock behind).
///  - PostgreSQL: a session-level pg_advisory_lock on `connection`, keyed by the history
///    table's schema and name, so databases and schemas do not block each other.
///  - SQLite: an exclusive transaction on a sidecar file `<database>-migrate-lock` beside the
///    database file, on a connection of its own (see docs/migrations.md for why not a row).
///  - SQLite in memory: nothing (one connection is the whole database).
class RunLock {
 public:
  RunLock(Connection& connection, std::string_view history_table,
          std::chrono::milliseconds timeout);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  void lock_postgres(std::string_view history_table, std::chrono::milliseconds timeout);
  void lock_sqlite(std::chrono::milliseconds timeout);

  Connection& connection_;
  bool postgres_locked_ = false;
  std::int32_t key_ = 0;
  std::unique_ptr<Connection> sqlite_lock_;
};

}  // namespace nexdb::detail
