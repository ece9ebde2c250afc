#include "driver/postgres/pg_connection.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "driver/column_names.hpp"
#include "driver/postgres/pg_codec.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

std::string describe(PGconn* conn) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* db = PQdb(conn);
  return fmt::format("{}:{}/{}", host ? host : "?", port ? port : "?", db ? db : "?");
}

/// libpq's multi-line message, flattened to one line for logs and exceptions.
std::string one_line(const char* text) {
  std::string out = text ? text : "";
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\t', ' ');
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

[[noreturn]] void throw_connect_error(PGconn* conn, const ConnectOptions& options) {
  const std::string host = describe(conn);
  const std::string reason = redact_password(one_line(PQerrorMessage(conn)));
  Error::Details details{.host = host};
  if (reason.find("password authentication failed") != std::string::npos ||
      reason.find("no password supplied") != std::string::npos ||
      reason.find("authentication failed") != std::string::npos) {
    throw AuthenticationError(
        fmt::format("could not authenticate to {}: {}. Check the user name and password in the "
                    "connection URI (or PGUSER/PGPASSWORD/~/.pgpass)",
                    host, reason),
        details);
  }
  if (reason.find("timeout expired") != std::string::npos) {
    throw ConnectTimeout(
        fmt::format("could not connect to {} within {} ms: {}. Check that the host is reachable "
                    "and raise connect_timeout if the network is slow",
                    host, options.connect_timeout.count(), reason),
        details);
  }
  throw ConnectionError(
      fmt::format("could not connect to {}: {}. Check the host, port and database name in the "
                  "connection URI and that the server is running",
                  host, reason),
      details);
}

bool is_stale_plan_error(const SqlError& e) { return pg_is_stale_plan(e.sqlstate(), e.message()); }

/// Only a statement with a result type can meet "cached plan must not change result type".
template <class Prepared>
bool returns_rows(const Prepared& prepared) {
  return prepared.shape.columns.names != nullptr && !prepared.shape.columns.names->empty();
}

void log_notice(void*, const char* message) {
  spdlog::debug("postgres notice: {}", one_line(message));
}

}  // namespace

PgConnection::PgConnection(const ConnectOptions& options)
    : result_format_(options.result_format), cache_(options.statement_cache_size) {
  // libpq rounds timeouts below 2 s up to 2 s; give it whole seconds, at least one.
  const auto timeout_s = std::max<long long>(1, (options.connect_timeout.count() + 999) / 1000);
  const std::string timeout = std::to_string(timeout_s);
  // Our defaults come first so that values in the URI (expanded from dbname) override them.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), options.application_name.c_str(), options.uri.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (conn_ == nullptr)
    throw ConnectionError("libpq could not allocate a connection (out of memory)");
  description_ = describe(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    try {
      throw_connect_error(conn_, options);
    } catch (...) {
      PQfinish(conn_);
      conn_ = nullptr;
      throw;
    }
  }
  PQsetNoticeProcessor(conn_, log_notice, nullptr);
  if (options.statement_timeout.count() > 0) {
    execute_script(fmt::format("SET statement_timeout = {}", options.statement_timeout.count()));
  }
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Rows PgConnection::execute(const Statement& statement) {
  note_transaction_boundary();
  Rows rows = cache_.enabled() ? execute_cached(statement) : execute_uncached(statement);
  if (schema_change_pending_) [[unlikely]]
    settle_schema_change();
  return rows;
}

Rows PgConnection::execute_cached(const Statement& statement) {
  if (PreparedPtr* cached = cache_.find(statement.sql)) {
    Prepared& prepared = **cached;  // shared: stays valid when drop_cached erases the entry
    if (prepared.epoch != schema_epoch()) [[unlikely]] {
      drop_cached(statement.sql);  // DDL ran in this process since it was prepared
    } else if (prepared.ran_in != transaction_serial_ && returns_rows(prepared) &&
               PQtransactionStatus(conn_) == PQTRANS_INTRANS) [[unlikely]] {
      // First use in this transaction of a statement with a result type: another session may
      // have altered its tables since it was prepared, and PostgreSQL would abort the whole
      // transaction for it. A savepoint around this one run (same round trip) lets us re-prepare.
      if (auto rows = run_guarded(prepared, statement)) {
        prepared.ran_in = transaction_serial_;
        note_schema_change(prepared.changes);
        return std::move(*rows);
      }
      drop_cached(statement.sql);
    } else {
      try {
        Rows rows = run_prepared(prepared, statement.params, statement.sql);
        prepared.ran_in = transaction_serial_;
        note_schema_change(prepared.changes);
        return rows;
      } catch (const SqlError& e) {
        // After DDL by another process a cached plan may no longer fit: outside a transaction it
        // is safe to prepare afresh and run once more. In a transaction a statement that ran in
        // it holds locks on its tables, so this is not expected there; if it happens anyway the
        // server has aborted the transaction.
        if (!is_stale_plan_error(e)) throw;
        drop_cached(statement.sql);
        if (transaction_status() != TransactionStatus::idle) {
          throw RetryableError(
              "the result type of a prepared statement changed since it was prepared (the table "
              "was altered by another process); the server aborted the transaction. Run the "
              "transaction again: the statement is re-prepared on its next use",
              {.sqlstate = e.sqlstate(), .host = description_, .statement = statement.sql});
        }
      }
    }
  }
  PreparedPtr fresh = prepare_described(next_statement_name(), statement.sql);
  Prepared& prepared = *fresh;
  if (auto evicted = cache_.insert(statement.sql, std::move(fresh))) deallocate(**evicted);
  Rows rows = run_prepared(prepared, statement.params, statement.sql);
  prepared.ran_in = transaction_serial_;
  note_schema_change(prepared.changes);
  return rows;
}

std::optional<Rows> PgConnection::run_guarded(Prepared& prepared, const Statement& statement) {
  static constexpr const char* kSavepoint = "SAVEPOINT nexdb_reprepare";
  static constexpr const char* kRelease = "RELEASE SAVEPOINT nexdb_reprepare";
  const PgParams params(statement.params);
  if (PQenterPipelineMode(conn_) != 1) throw_result_error(nullptr, statement.sql);
  const bool sent =
      PQsendQueryParams(conn_, kSavepoint, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
      PQsendQueryPrepared(conn_, prepared.name.c_str(), params.count(), params.values(),
                          params.lengths(), params.formats(), prepared.result_format) == 1 &&
      PQsendQueryParams(conn_, kRelease, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
      PQpipelineSync(conn_) == 1;
  std::vector<ResultPtr> results;
  if (sent) results = pipeline_results();
  PQexitPipelineMode(conn_);
  if (results.size() != 3) throw_result_error(nullptr, statement.sql);
  const auto ok = [](const ResultPtr& r) {
    const ExecStatusType status = PQresultStatus(r.get());
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  };
  if (!ok(results[0])) throw_result_error(results[0].get(), kSavepoint);
  if (ok(results[1])) {
    if (!ok(results[2])) throw_result_error(results[2].get(), kRelease);
    return to_rows(results[1].get(), prepared.shape);
  }
  // Any other error leaves the transaction failed, as it would have been without the savepoint.
  if (!pg_is_stale_plan(results[1].get())) throw_result_error(results[1].get(), statement.sql);
  check(PQexec(conn_, "ROLLBACK TO SAVEPOINT nexdb_reprepare; RELEASE SAVEPOINT nexdb_reprepare"),
        "ROLLBACK TO SAVEPOINT nexdb_reprepare");
  spdlog::debug("re-preparing a statement whose table another session altered, in a transaction");
  return std::nullopt;
}

std::vector<PgConnection::ResultPtr> PgConnection::pipeline_results() {
  // One result per query (null after each), then PGRES_PIPELINE_SYNC; a query after a failed one
  // reports PGRES_PIPELINE_ABORTED.
  std::vector<ResultPtr> results;
  for (int nulls = 0; nulls < 8;) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (PQstatus(conn_) != CONNECTION_OK) break;
      ++nulls;
      continue;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    results.emplace_back(r, &PQclear);
  }
  return results;
}

void PgConnection::drop_cached(std::string_view sql) noexcept {
  if (auto stale = cache_.erase(sql)) deallocate(**stale);
}

Rows PgConnection::execute_uncached(const Statement& statement) {
  const PgParams params(statement.params);
  ResultPtr result =
      check(PQexecParams(conn_, statement.sql.c_str(), params.count(), params.types(),
                         params.values(), params.lengths(), params.formats(), 0),
            statement.sql);
  PgResultShape shape;
  Rows rows = to_rows(result.get(), shape);
  note_schema_change(classify_schema_change(statement.sql));
  return rows;
}

void PgConnection::note_schema_change(SchemaChange change) noexcept {
  if (!change.plans) [[likely]]
    return;
  note(change);
  if (change.result_types && transaction_status() != TransactionStatus::idle)
    schema_change_pending_ = true;
}

void PgConnection::settle_schema_change() noexcept {
  if (transaction_status() != TransactionStatus::idle) return;
  schema_change_pending_ = false;
  note({.plans = true, .result_types = true});
}

void PgConnection::execute_script(std::string_view sql) {
  note_transaction_boundary();
  check(PQexec(conn_, std::string(sql).c_str()), sql);
  note_schema_change(classify_schema_change(sql));
  if (schema_change_pending_) settle_schema_change();
}

void PgConnection::prepare(std::string_view name, std::string_view sql) {
  std::string key(name);
  if (auto it = named_.find(key); it != named_.end()) {
    deallocate(*it->second);
    named_.erase(it);
  }
  named_.emplace(key, prepare_described(key, sql));
}

Rows PgConnection::execute_prepared(std::string_view name, std::span<const Value> params) {
  auto it = named_.find(std::string(name));
  if (it == named_.end()) {
    throw UsageError(fmt::format("no statement prepared under the name '{}' on this connection; "
                                 "call prepare() first",
                                 name),
                     {.host = description_});
  }
  return run_prepared(*it->second, params, name);
}

PgConnection::PreparedPtr PgConnection::prepare_described(std::string name, std::string_view sql) {
  check(PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr), sql);
  auto prepared = std::make_shared<Prepared>(Prepared{
      .name = std::move(name), .epoch = schema_epoch(), .changes = classify_schema_change(sql)});
  if (result_format_ == ResultFormat::binary) {
    // Binary results only when every column has a binary decoder; text is always exact.
    ResultPtr description = check(PQdescribePrepared(conn_, prepared->name.c_str()), sql);
    prepared->result_format = pg_binary_decodable(description.get()) ? 1 : 0;
  }
  return prepared;
}

Rows PgConnection::run_prepared(Prepared& prepared, std::span<const Value> values,
                                std::string_view sql) {
  const PgParams params(values);
  ResultPtr result =
      check(PQexecPrepared(conn_, prepared.name.c_str(), params.count(), params.values(),
                           params.lengths(), params.formats(), prepared.result_format),
            sql);
  return to_rows(result.get(), prepared.shape);
}

PgConnection::ResultPtr PgConnection::check(PGresult* raw, std::string_view sql) {
  ResultPtr result(raw, &PQclear);
  const ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (pg_succeeded(status)) {
    return result;
  }
  throw_result_error(raw, sql);
}

void PgConnection::throw_result_error(const PGresult* result, std::string_view sql) {
  Error::Details details{.host = description_, .statement = std::string(sql)};
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    details.sqlstate = state ? state : "08006";
    throw ConnectionLost(
        fmt::format("connection to {} was lost while running a statement: {}. Whether the "
                    "statement took effect is unknown; retry only if it is idempotent",
                    description_, one_line(PQerrorMessage(conn_))),
        details);
  }
  details.sqlstate = state;
  std::string message = one_line(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
  // A constraint violation's DETAIL echoes the row's values, which may be secret: name the
  // constraint instead.
  if (details.sqlstate.starts_with("23")) {
    const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    if (constraint != nullptr && message.find(constraint) == std::string::npos) {
      message += fmt::format(" (constraint {})", constraint);
    }
  } else if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += fmt::format(". {}", one_line(detail));
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    message += fmt::format(". Hint: {}", one_line(hint));
  }
  throw_sql_error(std::move(message), std::move(details));
}

std::exception_ptr PgConnection::result_error(const PGresult* result,
                                              std::string_view sql) noexcept {
  try {
    throw_result_error(result, sql);
  } catch (...) {
    return std::current_exception();
  }
}

Rows PgConnection::to_rows(const PGresult* result, PgResultShape& shape) {
  const int nrows = PQntuples(result);
  const int ncols = PQnfields(result);
  // The format is the caller's choice per run, for all columns at once (a pipeline's first run
  // of a statement asks for text, later ones for binary): column 0 tells whether it changed.
  const bool same_shape = shape.columns.names &&
                          shape.codecs.size() == static_cast<std::size_t>(ncols) &&
                          (ncols == 0 || (PQfformat(result, 0) == 1) == shape.codecs[0].binary);
  if (!same_shape) {
    shape.codecs.resize(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c)
      shape.codecs[static_cast<std::size_t>(c)] = pg_column_codec(result, c);
    reuse(shape.columns.names, ncols, [&](int c) { return PQfname(result, c); });
    reuse(shape.columns.types, ncols,
          [&](int c) { return pg_column_type(shape.codecs[static_cast<std::size_t>(c)].type); });
  }
  const PgColumnCodec* codecs = shape.codecs.data();
  std::vector<Value> values;
  values.reserve(static_cast<std::size_t>(nrows) * static_cast<std::size_t>(ncols));
  for (int r = 0; r < nrows; ++r) {
    for (int c = 0; c < ncols; ++c) values.push_back(pg_decode(result, r, c, codecs[c]));
  }
  return Rows(shape.columns.names, shape.columns.types, std::move(values),
              pg_affected_rows(result));
}

void PgConnection::deallocate(const Prepared& prepared) noexcept {
  if (is_broken()) return;
  // Inside a failed transaction DEALLOCATE would fail too; the statement dies with the session.
  if (transaction_status() == TransactionStatus::failed) return;
  PGresult* r = PQexec(conn_, fmt::format("DEALLOCATE \"{}\"", prepared.name).c_str());
  PQclear(r);
}

bool PgConnection::ping() noexcept {
  if (is_broken()) return false;
  PGresult* r = PQexec(conn_, "");
  const bool ok = r != nullptr && PQresultStatus(r) == PGRES_EMPTY_QUERY;
  PQclear(r);
  return ok && PQstatus(conn_) == CONNECTION_OK;
}

bool PgConnection::is_broken() const noexcept {
  return poisoned_ || conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
}

TransactionStatus PgConnection::transaction_status() const noexcept {
  return pg_transaction_status(conn_);
}

}  // namespace nexdb::detail
