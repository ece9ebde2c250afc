#include "async/session.hpp"

#include "async/engine.hpp"
#include "async/pg_session.hpp"
#include "async/sqlite_session.hpp"
#include "driver/observed_connection.hpp"
#include "driver/postgres/pg_connection.hpp"
#include "driver/sqlite/sqlite_connection.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {

AsyncSession::AsyncSession(std::shared_ptr<AsyncEngine> engine, Lease lease)
    : engine_(std::move(engine)),
      lease_(std::move(lease)),
      dialect_(lease_->dialect()),
      description_(lease_->description()) {}

void AsyncSession::close() {
  closing_ = true;
  check_idle();
}

void AsyncSession::check_idle() {
  if (released_ || !idle()) return;
  if (!closing_) {
    engine_->session_idle(*this);
    return;
  }
  // A transaction left open is rolled back here, without blocking anyone's thread; the pool
  // would otherwise do it synchronously on the thread that returns the connection.
  const bool in_transaction =
      status_ == TransactionStatus::in_transaction || status_ == TransactionStatus::failed;
  if (in_transaction && !broken() && !cleanup_sent_) {
    cleanup_sent_ = true;
    JobPtr rollback = make_job(end_statements(dialect_, true, /*commit=*/false), {});
    rollback->cached = false;
    rollback->internal = true;
    submit(std::move(rollback));
    return;
  }
  released_ = true;
  release();
}

std::vector<Statement> end_statements(Dialect dialect, bool read_only, bool commit) {
  std::vector<Statement> statements;
  const bool sqlite_read_only = dialect == Dialect::sqlite && read_only;
  if (commit) {
    if (sqlite_read_only) statements.push_back({"PRAGMA query_only = OFF", {}});
    statements.push_back({"COMMIT", {}});
  } else {
    statements.push_back({"ROLLBACK", {}});
    if (sqlite_read_only) statements.push_back({"PRAGMA query_only = OFF", {}});
  }
  return statements;
}

std::shared_ptr<AsyncSession> make_session(std::shared_ptr<AsyncEngine> engine, Lease lease) {
  Connection& backend = unwrap_observed(*lease);
  if (auto* pg = dynamic_cast<PgConnection*>(&backend)) {
    auto observer = observer_of(*lease);
    return std::make_shared<PgSession>(std::move(engine), std::move(lease), *pg,
                                       std::move(observer));
  }
  if (auto* sqlite = dynamic_cast<SqliteConnection*>(&backend)) {
    return std::make_shared<SqliteSession>(std::move(engine), std::move(lease), *sqlite);
  }
  throw UsageError(
      "the async API needs connections from nexdb's PostgreSQL or SQLite driver; "
      "this pool's factory makes another kind");
}

}  // namespace nexdb::detail
