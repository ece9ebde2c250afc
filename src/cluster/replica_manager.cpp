// ReplicaManager and Session: the public facade over ReplicaState.
#include <thread>

#include "cluster/replica_state.hpp"
#include "nexdb/error.hpp"

namespace nexdb {

using detail::ReplicaHost;

ReplicaManager::ReplicaManager(ReplicaSettings settings)
    : state_(std::make_unique<detail::ReplicaState>(std::move(settings))) {}

ReplicaManager ReplicaManager::from_config(const ClusterConfig& cluster) {
  return ReplicaManager(ReplicaSettings{
      .primary = cluster.primary,
      .replicas = cluster.replicas,
      .read_preference = cluster.read_preference,
      .max_replication_lag_bytes = cluster.max_replication_lag_bytes,
      .max_replication_lag = cluster.max_replication_lag,
      .latency_window = cluster.latency_window,
      .health_check_interval = cluster.health_check_interval,
      .ryw_wait = cluster.read_your_writes_wait,
      .pool = cluster.pool,
      .connection = cluster.connection,
  });
}

ReplicaManager::~ReplicaManager() = default;
ReplicaManager::ReplicaManager(ReplicaManager&&) noexcept = default;
ReplicaManager& ReplicaManager::operator=(ReplicaManager&&) noexcept = default;

Lease ReplicaManager::read() { return read(state_->settings().read_preference); }

// A host whose pool cannot connect is taken out and the next eligible host is tried.
Lease ReplicaManager::read(ReadPreference preference) {
  for (std::size_t attempt = 1;; ++attempt) {
    ReplicaHost& host = state_->choose_read(preference);
    try {
      return state_->lease(host, false);
    } catch (const ConnectionError& e) {
      state_->report_failure(host, e.what());
      if (attempt >= state_->host_count()) throw;
    }
  }
}

Lease ReplicaManager::write() {
  ReplicaHost& host = state_->choose_write();
  try {
    return state_->lease(host, true);
  } catch (const ConnectionError& e) {
    state_->report_failure(host, e.what());
    throw;
  }
}

Rows ReplicaManager::execute(const Statement& statement) {
  if (classify_sql(statement.sql) == StatementKind::read) return execute_read(statement);
  return execute_write(statement);
}

Rows ReplicaManager::execute_read(const Statement& statement) {
  return execute_read(statement, state_->settings().read_preference);
}

// Reads have no side effects, so one that lost its connection runs again on another host.
Rows ReplicaManager::execute_read(const Statement& statement, ReadPreference preference) {
  for (std::size_t attempt = 1;; ++attempt) {
    ReplicaHost& host = state_->choose_read(preference);
    try {
      Lease lease = state_->lease(host, false);
      return lease->execute(statement);
    } catch (const ConnectionError& e) {
      state_->report_failure(host, e.what());
      if (attempt >= state_->host_count()) throw;
    }
  }
}

// Never retried: the statement may have run before the connection broke (ConnectionLost).
Rows ReplicaManager::execute_write(const Statement& statement) {
  ReplicaHost& host = state_->choose_write();
  try {
    Lease lease = state_->lease(host, true);
    return lease->execute(statement);
  } catch (const ConnectionError& e) {
    state_->report_failure(host, e.what());
    throw;
  }
}

Session ReplicaManager::session(ConsistencyToken token) { return Session(*this, token); }

std::vector<HostStats> ReplicaManager::hosts() const { return state_->snapshot(); }

StatementObserverHub::Attachment ReplicaManager::attach_observer(std::shared_ptr<StatementObserver> observer) {
  return StatementObserverHub::attach(state_->observers(), std::move(observer));
}

void ReplicaManager::refresh(std::chrono::milliseconds timeout) { state_->refresh(timeout); }

const ReplicaSettings& ReplicaManager::settings() const noexcept { return state_->settings(); }

// --- Session ----------------------------------------------------------------------------------

namespace {

// Checked on the connection that will run the read, so the answer cannot go stale between the
// check and the query (replay only moves forward). A primary has everything it wrote.
bool caught_up(Connection& connection, ConsistencyToken token) {
  Rows rows = connection.execute(detail::kCaughtUpSql, token.to_string());
  return rows.front().get<bool>(0);
}

bool wait_caught_up(Connection& connection, ConsistencyToken token,
                    std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (!caught_up(connection, token)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
  return true;
}

}  // namespace

Rows Session::write(const Statement& statement) {
  Lease lease = manager_->write();
  Rows rows = lease->execute(statement);
  record(*lease);
  return rows;
}

ReadPreference Session::read_preference() const noexcept {
  return preference_.value_or(manager_->settings().read_preference);
}

Rows Session::read(const Statement& statement) { return read(statement, read_preference()); }

Rows Session::read(const Statement& statement, ReadPreference preference) {
  if (token_.empty()) return manager_->execute_read(statement, preference);
  Lease lease = read_lease(preference);
  return lease->execute(statement);
}

Lease Session::read_lease() { return read_lease(read_preference()); }

Lease Session::read_lease(ReadPreference preference) {
  Lease lease = manager_->read(preference);
  if (token_.empty() || wait_caught_up(*lease, token_, manager_->settings().ryw_wait)) {
    return lease;
  }
  lease.release();
  return manager_->state_->lease(manager_->state_->choose_write(), false);
}

// The insert position is at or past the end of the commit record just written, whatever
// synchronous_commit says (the flush position may still be behind it).
void Session::record(Connection& primary_connection) {
  Rows rows = primary_connection.execute(detail::kInsertLsnSql);
  token_.merge(ConsistencyToken::parse(rows.front().get<std::string>(0)));
}

}  // namespace nexdb
