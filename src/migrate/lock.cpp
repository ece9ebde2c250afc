#include "migrate/lock.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "nexdb/error.hpp"
#include "nexdb/migrate.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb::detail {
namespace {

// First half of the two-int advisory lock key: "nxdb", so our locks are easy to spot in
// pg_locks (classid) and unlikely to collide with an application's own advisory locks.
constexpr std::int32_t kLockClass = 0x6E786462;

[[noreturn]] void lock_timed_out(const Error& cause, std::chrono::milliseconds timeout) {
  throw MigrationError(
      fmt::format("timed out after {} ms waiting for the migration lock: another runner is "
                  "applying migrations to this database (raise lock_timeout to wait longer)",
                  timeout.count()),
      {}, {}, {.sqlstate = cause.sqlstate(), .host = cause.host(), .statement = cause.statement()},
      true);
}

}  // namespace

RunLock::RunLock(Connection& connection, std::string_view history_table,
                 std::chrono::milliseconds timeout)
    : connection_(connection) {
  try {
    if (connection.dialect() == Dialect::postgres) {
      lock_postgres(history_table, timeout);
    } else {
      lock_sqlite(timeout);
    }
  } catch (const TimeoutError& e) {
    lock_timed_out(e, timeout);
  }
}

void RunLock::lock_postgres(std::string_view history_table, std::chrono::milliseconds timeout) {
  // The key is computed once: a migration that changes search_path must not make us unlock a
  // different key than the one we hold.
  key_ = connection_
             .execute("SELECT hashtext(coalesce(current_schema(), '') || '.' || $1)",
                      std::string(history_table))
             .scalar<std::int32_t>();
  // A session-level lock taken inside a transaction survives its commit, while SET LOCAL bounds
  // this one wait without touching the pooled connection's settings.
  Transaction tx(connection_);
  connection_.execute_script(
      fmt::format("SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = 0",
                  std::max<std::int64_t>(timeout.count(), 1)));
  tx.execute(fmt::format("SELECT pg_advisory_lock({}, {})", kLockClass, key_));
  tx.commit();
  postgres_locked_ = true;
}

void RunLock::lock_sqlite(std::chrono::milliseconds timeout) {
  const std::string file =
      connection_.execute("SELECT file FROM pragma_database_list WHERE name = 'main'")
          .scalar<std::string>();
  if (file.empty()) return;  // in memory: no other connection can see this database
  // One lock per database file, whichever path (symlink, relative) led to it.
  std::error_code ec;
  std::filesystem::path path = std::filesystem::canonical(file, ec);
  if (ec) path = file;
  sqlite_lock_ = connect(ConnectOptions{.uri = "sqlite:" + path.string() + "-migrate-lock",
                                        .busy_timeout = timeout,
                                        .sqlite_wal = false,
                                        .statement_cache_size = 0});
  // SQLite's own file lock: exclusive across connections, threads and processes, and dropped
  // by the OS if this process dies. The file stays empty; waiting is the busy handler's.
  sqlite_lock_->execute_script("BEGIN EXCLUSIVE");
}

RunLock::~RunLock() {
  if (postgres_locked_ && !connection_.is_broken()) {
    try {
      connection_.execute(fmt::format("SELECT pg_advisory_unlock({}, {})", kLockClass, key_));
    } catch (const std::exception& e) {
      // The connection goes back to the pool: it must not keep the lock.
      spdlog::warn("releasing the migration lock on {} failed ({}); releasing all advisory locks",
                   connection_.description(), e.what());
      try {
        connection_.execute_script("SELECT pg_advisory_unlock_all()");
      } catch (const std::exception&) {
        // Nothing more to do: a broken connection is discarded and the server drops its locks.
      }
    }
  }
  // Closing the sidecar connection ends its transaction and so releases the SQLite lock.
  sqlite_lock_.reset();
}

}  // namespace nexdb::detail
