#include "driver/sqlite/sqlite_connection.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <thread>

#include "driver/column_names.hpp"
#include "driver/observed_connection.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

// SQLite's result codes mapped onto the SQLSTATEs PostgreSQL would report, so that callers
// handle one set of error types whatever the backend.
std::string_view sqlstate_of(int extended_code, std::string_view message) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return "23505";
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return "23503";
    case SQLITE_CONSTRAINT_NOTNULL:
      return "23502";
    case SQLITE_CONSTRAINT_CHECK:
      return "23514";
    case SQLITE_BUSY_SNAPSHOT:
      return "40001";  // a read transaction can't become a writer
    case SQLITE_INTERRUPT:
      return "57014";  // our statement_timeout
    default:
      break;
  }
  switch (extended_code & 0xff) {
    case SQLITE_CONSTRAINT:
      return "23000";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "55P03";  // lock_not_available, after busy_timeout
    case SQLITE_READONLY:
      return "25006";
    case SQLITE_IOERR:
      return "58030";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "XX001";
    case SQLITE_FULL:
      return "53100";
    case SQLITE_TOOBIG:
      return "54000";
    case SQLITE_MISMATCH:
      return "42804";
    case SQLITE_RANGE:
      return "08P01";
    default:
      break;
  }
  if (message.find("syntax error") != std::string_view::npos ||
      message.find("incomplete input") != std::string_view::npos)
    return "42601";
  if (message.find("no such table") != std::string_view::npos) return "42P01";
  if (message.find("no such column") != std::string_view::npos) return "42703";
  if (message.find("already exists") != std::string_view::npos) return "42P07";
  return "";
}

std::string format_sqlite_timestamp(Timestamp ts) {
  // Same shape as CURRENT_TIMESTAMP ("YYYY-MM-DD HH:MM:SS") so text comparisons order correctly.
  std::string text = format_timestamp(ts);  // "YYYY-MM-DD HH:MM:SS.ffffff+00"
  text.resize(text.size() - 3);             // drop "+00": SQLite times are UTC
  if (text.ends_with(".000000")) text.resize(19);
  return text;
}

bool contains_ignoring_case(const char* text, std::string_view needle) {
  const std::size_t n = std::strlen(text);
  for (std::size_t i = 0; i + needle.size() <= n; ++i) {
    std::size_t j = 0;
    while (j < needle.size() && std::toupper(static_cast<unsigned char>(text[i + j])) == needle[j])
      ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

// A column's declared type: booleans and timestamps as nexdb reads them back, then SQLite's
// affinity rules (https://sqlite.org/datatype3.html#determination_of_column_affinity). NUMERIC
// and BLOB affinity say nothing about the kind of the values, and expressions declare nothing.
ColumnType declared_type(sqlite3_stmt* stmt, int column) {
  const char* declared = sqlite3_column_decltype(stmt, column);
  if (declared == nullptr) return ColumnType::unknown;
  if (contains_ignoring_case(declared, "BOOL")) return ColumnType::boolean;
  if (contains_ignoring_case(declared, "TIMESTAMP") ||
      contains_ignoring_case(declared, "DATETIME")) {
    return ColumnType::timestamp;
  }
  if (contains_ignoring_case(declared, "INT")) return ColumnType::integer;
  if (contains_ignoring_case(declared, "CHAR") || contains_ignoring_case(declared, "CLOB") ||
      contains_ignoring_case(declared, "TEXT")) {
    return ColumnType::text;
  }
  if (contains_ignoring_case(declared, "BLOB") || *declared == '\0') return ColumnType::unknown;
  if (contains_ignoring_case(declared, "REAL") || contains_ignoring_case(declared, "FLOA") ||
      contains_ignoring_case(declared, "DOUB")) {
    return ColumnType::real;
  }
  return ColumnType::unknown;
}

int on_progress(void* self) {
  const auto& deadline = *static_cast<std::chrono::steady_clock::time_point*>(self);
  return std::chrono::steady_clock::now() > deadline ? 1 : 0;
}

}  // namespace

std::string sqlite_path_of(std::string_view uri) {
  std::string_view rest = uri.substr(uri.find(':') + 1);
  if (rest.starts_with("//")) rest.remove_prefix(2);  // sqlite:///abs/path -> /abs/path
  if (rest.empty())
    throw ConfigError("sqlite URI names no file; use sqlite:path/to/app.db or sqlite::memory:");
  return std::string(rest);
}

SqliteConnection::SqliteConnection(const ConnectOptions& options)
    : description_(sqlite_path_of(options.uri)),
      statement_timeout_(options.statement_timeout),
      cache_(options.statement_cache_size) {
  const bool memory = description_ == ":memory:";
  if (!memory) {
    auto parent = std::filesystem::path(description_).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(description_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw ConnectionError(fmt::format("could not open SQLite database '{}': {}. Check that the "
                                      "directory exists and is writable",
                                      description_, reason),
                          {.host = description_});
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
  // Foreign keys are off by default in SQLite; users of a relational database expect them on.
  execute_script("PRAGMA foreign_keys = ON");
  if (!memory && options.sqlite_wal) enable_wal(options.busy_timeout);
  if (statement_timeout_.count() > 0) sqlite3_progress_handler(db_, 1000, on_progress, &deadline_);
}

// WAL: readers don't block the writer; synchronous=NORMAL is the documented safe pairing.
// Switching a new file to WAL needs an exclusive lock and SQLite may answer SQLITE_BUSY without
// calling the busy handler when two connections open the same new file at once, so retry
// within busy_timeout. WAL is a property of the file: later opens find it already set.
void SqliteConnection::enable_wal(std::chrono::milliseconds busy_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  for (;;) {
    try {
      execute_script("PRAGMA journal_mode = WAL");
      break;
    } catch (const TimeoutError&) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  execute_script("PRAGMA synchronous = NORMAL");
}

SqliteConnection::~SqliteConnection() {
  cache_.clear();
  named_.clear();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

SqliteConnection::StatementPtr SqliteConnection::compile(std::string_view sql, bool persistent) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, &tail);
  if (rc != SQLITE_OK) throw_error(rc, sql);
  StatementPtr stmt(raw, StatementDeleter{});
  for (; tail != nullptr && *tail != '\0'; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') {
      throw UsageError("execute() runs one statement; use execute_script() for several",
                       {.host = description_, .statement = std::string(sql)});
    }
  }
  if (stmt == nullptr) throw UsageError("empty SQL statement", {.host = description_});
  return stmt;
}

Rows SqliteConnection::execute(const Statement& statement) {
  if (!cache_.enabled()) {
    ColumnCache columns;
    Rows rows = run(compile(statement.sql, false).get(), statement.params, statement.sql, columns);
    note(classify_schema_change(statement.sql));
    return rows;
  }
  Compiled* cached = cache_.find(statement.sql);
  if (cached == nullptr) {
    cache_.insert(statement.sql, Compiled{.statement = compile(statement.sql, true),
                                          .columns = {},
                                          .changes = classify_schema_change(statement.sql)});
    cached = cache_.find(statement.sql);
  }
  Rows rows = run(cached->statement.get(), statement.params, statement.sql, cached->columns);
  note(cached->changes);
  return rows;
}

void SqliteConnection::execute_script(std::string_view sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) throw_error(rc, sql);
  note(classify_schema_change(sql));
}

void SqliteConnection::prepare(std::string_view name, std::string_view sql) {
  named_[std::string(name)] = Compiled{.statement = compile(sql, true), .columns = {}};
}

Rows SqliteConnection::execute_prepared(std::string_view name, std::span<const Value> params) {
  auto it = named_.find(std::string(name));
  if (it == named_.end()) {
    throw UsageError(fmt::format("no statement prepared under the name '{}' on this connection; "
                                 "call prepare() first",
                                 name),
                     {.host = description_});
  }
  sqlite3_stmt* stmt = it->second.statement.get();
  return run(stmt, params, sqlite3_sql(stmt), it->second.columns);
}

void SqliteConnection::bind(sqlite3_stmt* stmt, std::span<const Value> params,
                            std::string_view sql) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (expected != static_cast<int>(params.size())) {
    throw UsageError(fmt::format("statement has {} parameters but {} values were bound", expected,
                                 params.size()),
                     {.host = description_, .statement = std::string(sql)});
  }
  for (int i = 0; i < expected; ++i) {
    const int slot = i + 1;
    const Value& v = params[static_cast<std::size_t>(i)];
    int rc = SQLITE_OK;
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, Null>)
            rc = sqlite3_bind_null(stmt, slot);
          else if constexpr (std::is_same_v<T, bool>)
            rc = sqlite3_bind_int(stmt, slot, x ? 1 : 0);
          else if constexpr (std::is_same_v<T, std::int64_t>)
            rc = sqlite3_bind_int64(stmt, slot, x);
          else if constexpr (std::is_same_v<T, double>)
            rc = sqlite3_bind_double(stmt, slot, x);
          else if constexpr (std::is_same_v<T, std::string>)
            rc = sqlite3_bind_text64(stmt, slot, x.data(), x.size(), SQLITE_STATIC, SQLITE_UTF8);
          else if constexpr (std::is_same_v<T, Bytes>)
            rc = sqlite3_bind_blob64(stmt, slot, x.data(), x.size(), SQLITE_STATIC);
          else if constexpr (std::is_same_v<T, Timestamp>)
            rc =
                sqlite3_bind_text64(stmt, slot, format_sqlite_timestamp(x).c_str(),
                                    static_cast<sqlite3_uint64>(-1), SQLITE_TRANSIENT, SQLITE_UTF8);
        },
        v.storage());
    if (rc != SQLITE_OK) throw_error(rc, sql);
  }
}

void SqliteConnection::arm_deadline() {
  if (statement_timeout_.count() > 0)
    deadline_ = std::chrono::steady_clock::now() + statement_timeout_;
}

Rows SqliteConnection::run(sqlite3_stmt* stmt, std::span<const Value> params, std::string_view sql,
                           ColumnCache& columns) {
  struct Reset {  // leaves the (cached) statement ready for its next use, whatever happens
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{stmt};
  bind(stmt, params, sql);
  arm_deadline();
  int rc = sqlite3_step(stmt);
  // Columns are read after the first step: a statement re-prepared after a schema change may
  // have a different shape than when it was compiled.
  const int ncols = sqlite3_column_count(stmt);
  Rows::Columns names =
      reuse(columns.names, ncols, [&](int c) { return sqlite3_column_name(stmt, c); });
  Rows::ColumnTypes types =
      reuse(columns.types, ncols, [&](int c) { return declared_type(stmt, c); });
  std::vector<Value> values;
  std::int64_t rows = 0;
  for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
    ++rows;
    for (int c = 0; c < ncols; ++c)
      values.push_back(column_value(stmt, c, (*types)[static_cast<std::size_t>(c)]));
  }
  last_vm_steps_ =
      static_cast<std::uint64_t>(sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_VM_STEP, 1));
  if (rc != SQLITE_DONE) throw_error(rc, sql);
  const std::int64_t affected = sqlite3_stmt_readonly(stmt) ? rows : sqlite3_changes64(db_);
  return Rows(std::move(names), std::move(types), std::move(values), affected);
}

Value SqliteConnection::column_value(sqlite3_stmt* stmt, int column, ColumnType declared) const {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_NULL:
      return Value();
    case SQLITE_INTEGER: {
      const auto v = sqlite3_column_int64(stmt, column);
      if ((v == 0 || v == 1) && declared == ColumnType::boolean) return Value(v == 1);
      return Value(v);
    }
    case SQLITE_FLOAT:
      return Value(sqlite3_column_double(stmt, column));
    case SQLITE_BLOB: {
      const auto* data = static_cast<const std::byte*>(sqlite3_column_blob(stmt, column));
      return Value(Bytes(data, data + sqlite3_column_bytes(stmt, column)));
    }
    default: {
      std::string text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
      // Declared timestamps come back typed, as they do from PostgreSQL.
      if (declared == ColumnType::timestamp) {
        if (auto ts = parse_timestamp(text)) return Value(*ts);
      }
      return Value(std::move(text));
    }
  }
}

void SqliteConnection::throw_error(int code, std::string_view sql) {
  const int extended = db_ ? sqlite3_extended_errcode(db_) : code;
  std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  const std::string_view state = sqlstate_of(extended, message);
  if (state == "57014") {
    message = fmt::format("statement cancelled after statement_timeout of {} ms",
                          statement_timeout_.count());
  } else if (state == "55P03") {
    message +=
        ": another connection holds the lock; raise busy_timeout or shorten write transactions";
  }
  throw_sql_error(
      std::move(message),
      {.sqlstate = std::string(state), .host = description_, .statement = std::string(sql)});
}

bool SqliteConnection::ping() noexcept {
  if (db_ == nullptr) return false;
  return sqlite3_exec(db_, "SELECT 1", nullptr, nullptr, nullptr) == SQLITE_OK;
}

std::optional<SqliteCacheCounts> SqliteConnection::take_cache_counts() noexcept {
  if (db_ == nullptr) return std::nullopt;
  int hits = 0, misses = 0, highwater = 0;
  if (sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_HIT, &hits, &highwater, 1) != SQLITE_OK ||
      sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_MISS, &misses, &highwater, 1) != SQLITE_OK) {
    return std::nullopt;
  }
  return SqliteCacheCounts{.hits = static_cast<std::uint64_t>(hits),
                           .misses = static_cast<std::uint64_t>(misses)};
}

TransactionStatus SqliteConnection::transaction_status() const noexcept {
  if (db_ == nullptr) return TransactionStatus::unknown;
  return sqlite3_get_autocommit(db_) ? TransactionStatus::idle : TransactionStatus::in_transaction;
}

std::optional<std::uint64_t> sqlite_last_vm_steps(Connection& connection) noexcept {
  auto* sqlite = dynamic_cast<SqliteConnection*>(&unwrap_observed(connection));
  if (sqlite == nullptr) return std::nullopt;
  return sqlite->last_vm_steps();
}

std::optional<SqliteCacheCounts> sqlite_take_cache_counts(Connection& connection) noexcept {
  auto* sqlite = dynamic_cast<SqliteConnection*>(&unwrap_observed(connection));
  if (sqlite == nullptr) return std::nullopt;
  return sqlite->take_cache_counts();
}

}  // namespace nexdb::detail
