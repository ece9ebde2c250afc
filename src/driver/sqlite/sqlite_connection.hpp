// The SQLite driver: one sqlite3 handle behind nexdb::Connection.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "driver/column_names.hpp"
#include "driver/schema_epoch.hpp"
#include "driver/statement_cache.hpp"
#include "nexdb/connection.hpp"

namespace nexdb::detail {

/// A SQLite connection's page cache since the previous reading (reading resets SQLite's
/// counters, so no access is counted twice).
struct SqliteCacheCounts {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const ConnectOptions& options);
  ~SqliteConnection() override;

  Dialect dialect() const noexcept override { return Dialect::sqlite; }
  const std::string& description() const noexcept override { return description_; }
  Rows execute(const Statement& statement) override;
  void execute_script(std::string_view sql) override;
  void prepare(std::string_view name, std::string_view sql) override;
  Rows execute_prepared(std::string_view name, std::span<const Value> params) override;
  bool ping() noexcept override;
  bool is_broken() const noexcept override { return db_ == nullptr; }
  TransactionStatus transaction_status() const noexcept override;
  /// Makes the statement running on this connection (on another thread) fail with SQLITE_INTERRUPT,
  /// reported as a TimeoutError; a no-op when none runs. Safe to call from any thread while the
  /// connection is open (the async layer's per-call deadlines).
  void interrupt() noexcept { sqlite3_interrupt(db_); }

  /// Virtual-machine steps of the last statement run: SQLite's own measure of the work a
  /// statement did (the index advisor compares it with and without a candidate index).
  std::uint64_t last_vm_steps() const noexcept { return last_vm_steps_; }
  /// Page cache hits and misses since the previous call (sqlite3_db_status, reset on read).
  std::optional<SqliteCacheCounts> take_cache_counts() noexcept;

 private:
  struct StatementDeleter {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
  };
  using StatementPtr = std::shared_ptr<sqlite3_stmt>;
  struct Compiled {
    StatementPtr statement;
    ColumnCache columns{};    // names and types of the last result, shared by the next ones
    SchemaChange changes{};   // what running it may change (driver/schema_epoch.hpp)
  };

  StatementPtr compile(std::string_view sql, bool persistent);
  Rows run(sqlite3_stmt* stmt, std::span<const Value> params, std::string_view sql,
           ColumnCache& columns);
  void bind(sqlite3_stmt* stmt, std::span<const Value> params, std::string_view sql);
  Value column_value(sqlite3_stmt* stmt, int column, ColumnType declared) const;
  [[noreturn]] void throw_error(int code, std::string_view sql);
  void arm_deadline();
  void enable_wal(std::chrono::milliseconds busy_timeout);

  sqlite3* db_ = nullptr;
  std::string description_;
  std::chrono::milliseconds statement_timeout_;
  std::chrono::steady_clock::time_point deadline_{};
  StatementCache<Compiled> cache_;
  std::unordered_map<std::string, Compiled> named_;
  std::uint64_t last_vm_steps_ = 0;
};

/// last_vm_steps() of a SQLite connection (seen through an observing decorator too); nullopt
/// for other backends.
std::optional<std::uint64_t> sqlite_last_vm_steps(Connection& connection) noexcept;

/// The page cache counts of a SQLite connection (seen through an observing decorator too);
/// nullopt for other backends.
std::optional<SqliteCacheCounts> sqlite_take_cache_counts(Connection& connection) noexcept;

/// The file a "sqlite:..." URI names (":memory:" for an in-memory database).
std::string sqlite_path_of(std::string_view uri);

}  // namespace nexdb::detail
