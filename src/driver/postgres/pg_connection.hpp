// The PostgreSQL driver: one libpq connection behind nexdb::Connection.
#pragma once

#include <libpq-fe.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/column_names.hpp"
#include "driver/postgres/pg_codec.hpp"
#include "driver/schema_epoch.hpp"
#include "driver/statement_cache.hpp"
#include "nexdb/connection.hpp"

namespace nexdb::detail {

/// What every result of one prepared statement shares: its column names, types and decoders.
/// PostgreSQL refuses to run a prepared statement whose result columns (names, types) would
/// differ from those it was prepared with ("cached plan must not change result type"), so
/// once read from a result they hold for the later ones and are not read again, unless the
/// result format (text or binary, chosen per run) differs.
struct PgResultShape {
  ColumnCache columns{};
  std::vector<PgColumnCodec> codecs{};
};

class PgConnection final : public Connection {
 public:
  explicit PgConnection(const ConnectOptions& options);
  ~PgConnection() override;

  Dialect dialect() const noexcept override { return Dialect::postgres; }
  const std::string& description() const noexcept override { return description_; }
  Rows execute(const Statement& statement) override;
  void execute_script(std::string_view sql) override;
  void prepare(std::string_view name, std::string_view sql) override;
  Rows execute_prepared(std::string_view name, std::span<const Value> params) override;
  bool ping() noexcept override;
  bool is_broken() const noexcept override;
  TransactionStatus transaction_status() const noexcept override;

  /// The raw handle, for nexdb's own modules that need libpq directly (async, replicas).
  PGconn* native_handle() const noexcept { return conn_; }
  /// Marks the connection unusable although libpq still thinks it is fine (a pipeline lost
  /// track of its results, or a cancelled statement did not end in time): the pool discards it.
  void poison() noexcept { poisoned_ = true; }

 private:
  friend class PgPipeline;  // the non-blocking, pipelined use of this connection (async)
  friend class PgSend;      // one cached statement sent without waiting (execute_concurrently)
  struct Prepared {
    std::string name{};
    int result_format = 0;    // 1 = binary
    PgResultShape shape{};    // its results' names, types and decoders, read once
    std::uint64_t epoch = 0;  // schema epoch when prepared (driver/schema_epoch.hpp)
    SchemaChange changes{};   // what running it may change
    // Pipelined use: the parse error that later runs sent before it was known should report.
    std::exception_ptr parse_error{};
    /// The transaction (transaction_serial_) in which it last ran: PostgreSQL then holds locks
    /// on its tables, so no other session can alter them until that transaction ends.
    std::uint64_t ran_in = 0;
  };
  // Shared: statements in flight in a pipeline keep their entry even after it is evicted.
  using PreparedPtr = std::shared_ptr<Prepared>;
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

  PreparedPtr prepare_described(std::string name, std::string_view sql);
  Rows execute_cached(const Statement& statement);
  Rows execute_uncached(const Statement& statement);
  void drop_cached(std::string_view sql) noexcept;
  void note_schema_change(SchemaChange change) noexcept;
  void settle_schema_change() noexcept;
  Rows run_prepared(Prepared& prepared, std::span<const Value> params, std::string_view sql);
  /// In a transaction: runs `prepared` between SAVEPOINT and RELEASE in one pipelined round
  /// trip; nullopt when its plan went stale (the savepoint rolled back, the transaction intact).
  std::optional<Rows> run_guarded(Prepared& prepared, const Statement& statement);
  std::vector<ResultPtr> pipeline_results();
  void note_transaction_boundary() noexcept {
    if (PQtransactionStatus(conn_) == PQTRANS_IDLE) ++transaction_serial_;
  }
  ResultPtr check(PGresult* raw, std::string_view sql);
  /// The result as Rows; `shape` is filled from the first result and reused after it (a fresh
  /// PgResultShape for a statement that is not prepared).
  static Rows to_rows(const PGresult* result, PgResultShape& shape);
  void deallocate(const Prepared& prepared) noexcept;
  [[noreturn]] void throw_result_error(const PGresult* result, std::string_view sql);
  std::exception_ptr result_error(const PGresult* result, std::string_view sql) noexcept;
  std::string next_statement_name() { return "nexdb_s" + std::to_string(next_statement_id_++); }

  PGconn* conn_ = nullptr;
  std::string description_;
  ResultFormat result_format_;
  StatementCache<PreparedPtr> cache_;
  std::unordered_map<std::string, PreparedPtr> named_;
  std::uint64_t next_statement_id_ = 0;
  // DDL ran inside a transaction: bump the schema epoch again when it ends, so that statements
  // other connections re-prepared meanwhile (seeing the old schema) are re-prepared once more.
  bool schema_change_pending_ = false;
  bool poisoned_ = false;
  // Counts statements issued outside a transaction, so each transaction (begun by one of them)
  // has a number of its own: a cached statement not yet run in this one may meet a table
  // another session altered since it was prepared.
  std::uint64_t transaction_serial_ = 1;
};

}  // namespace nexdb::detail
