#include "driver/postgres/pg_send.hpp"

#include "driver/postgres/pg_codec.hpp"
#include "driver/schema_epoch.hpp"

namespace nexdb::detail {

std::optional<PgSend> PgSend::start(PgConnection& connection, const Statement& statement) {
  PGconn* conn = connection.conn_;
  if (!connection.cache_.enabled() || connection.is_broken() ||
      PQtransactionStatus(conn) != PQTRANS_IDLE || PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
    return std::nullopt;
  }
  PgConnection::PreparedPtr* cached = connection.cache_.find(statement.sql);
  // Not prepared yet, or prepared before DDL ran in this process: execute() prepares it.
  if (cached == nullptr || (*cached)->epoch != schema_epoch()) return std::nullopt;
  PgConnection::PreparedPtr prepared = *cached;
  connection.note_transaction_boundary();
  const PgParams params(statement.params);
  if (PQsendQueryPrepared(conn, prepared->name.c_str(), params.count(), params.values(),
                          params.lengths(), params.formats(), prepared->result_format) != 1) {
    connection.throw_result_error(nullptr, statement.sql);
  }
  return PgSend(connection, statement, std::move(prepared));
}

bool PgSend::ready() noexcept {
  PGconn* conn = connection_->conn_;
  if (PQconsumeInput(conn) == 0) return true;  // broken: finish() reports it
  return PQisBusy(conn) == 0;
}

Rows PgSend::finish() {
  PgConnection& connection = *connection_;
  PgConnection::ResultPtr result(PQgetResult(connection.conn_), &PQclear);
  while (PGresult* extra = PQgetResult(connection.conn_)) PQclear(extra);  // up to the null
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (pg_succeeded(status)) {
    Rows rows = PgConnection::to_rows(result.get(), prepared_->shape);
    prepared_->ran_in = connection.transaction_serial_;
    connection.note_schema_change(prepared_->changes);
    if (connection.schema_change_pending_) connection.settle_schema_change();
    return rows;
  }
  if (pg_is_stale_plan(result.get()) && PQtransactionStatus(connection.conn_) == PQTRANS_IDLE) {
    // Another session altered a table since it was prepared; outside a transaction (as every
    // send starts) it is safe to prepare afresh and run once more, as execute() does.
    connection.drop_cached(statement_->sql);
    return connection.execute(*statement_);
  }
  connection.throw_result_error(result.get(), statement_->sql);
}

}  // namespace nexdb::detail
