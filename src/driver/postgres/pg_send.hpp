// One statement in flight on a PgConnection, sent with libpq's plain asynchronous protocol
// (PQsendQueryPrepared, then PQconsumeInput / PQgetResult when its socket is readable), so that
// one thread can have statements running on several connections at once
// (driver/concurrent_execute.cpp). Only the fast case goes this way: a statement already in the
// connection's cache, on a connection outside a transaction; everything else runs through
// execute(), which knows how to prepare, re-prepare and guard.
#pragma once

#include <optional>

#include "driver/postgres/pg_connection.hpp"

namespace nexdb::detail {

class PgSend {
 public:
  /// Sends `statement` (which must outlive this object) as the connection's cached prepared
  /// statement; nullopt, having sent nothing, when execute() must run it instead. Throws
  /// ConnectionLost when the send fails.
  static std::optional<PgSend> start(PgConnection& connection, const Statement& statement);

  int socket() const noexcept { return PQsocket(connection_->conn_); }
  /// Takes in what the server sent: true once the whole result is here (or the connection
  /// broke), so finish() will not block.
  bool ready() noexcept;
  /// The statement's rows, as execute() would return them; throws as execute() would. A plan
  /// made stale by another session's DDL is re-prepared and run once more (blocking).
  Rows finish();

 private:
  PgSend(PgConnection& connection, const Statement& statement, PgConnection::PreparedPtr prepared)
      : connection_(&connection), statement_(&statement), prepared_(std::move(prepared)) {}

  PgConnection* connection_;
  const Statement* statement_;
  PgConnection::PreparedPtr prepared_;  // shared: valid even if the cache evicts it meanwhile
};

}  // namespace nexdb::detail
