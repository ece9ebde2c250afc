// Health checks: one thread per host probes it every interval (with exponential backoff while it
// is down) and records its role, WAL position and round-trip time. Roles come from the servers,
// not the configuration, which is what lets a promoted replica take over writes.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "cluster/replica_state.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {

namespace {

using std::chrono::milliseconds;

// On a replica the replay position, on a primary the current write position; the age of the
// last replayed commit only means something on a replica (see update_lags()).
constexpr std::string_view probe_sql =
    "SELECT pg_is_in_recovery(), "
    "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_lsn() END)::text, "
    "COALESCE(EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8";

constexpr milliseconds first_backoff{100};
constexpr milliseconds max_backoff{5000};
constexpr double rtt_alpha = 0.2;  // MongoDB drivers' EWMA weight for a new sample

// A probe must not hang on a dead host longer than this, or failover detection slows down.
ConnectOptions probe_options(ConnectOptions options) {
  options.connect_timeout = std::min(options.connect_timeout, milliseconds{2000});
  options.statement_timeout = milliseconds{2000};
  options.application_name = "nexdb-health";
  options.observer = nullptr;  // probes are not the application's statements
  return options;
}

}  // namespace

ProbeResult probe(Connection& connection) {
  auto start = SteadyClock::now();
  Rows rows = connection.execute(probe_sql);
  auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
  auto row = rows.front();
  auto lsn_text = row.get<std::optional<std::string>>(1);
  std::uint64_t lsn = lsn_text ? parse_lsn(*lsn_text).value_or(0) : 0;
  double age_s = std::max(0.0, row.get<double>(2));
  return ProbeResult{.in_recovery = row.get<bool>(0),
                     .lsn = lsn,
                     .replay_age = milliseconds{static_cast<std::int64_t>(age_s * 1000)},
                     .rtt = rtt};
}

void ReplicaState::run_checker(ReplicaHost& host) {
  ConnectOptions options = probe_options(host.options);
  std::unique_ptr<Connection> connection;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_until(lock, host.next_probe, [&] {
      return stopping_ || host.refresh_wanted > host.probes_done ||
             SteadyClock::now() >= host.next_probe;
    });
    if (stopping_) break;
    host.probing = true;
    lock.unlock();
    std::optional<ProbeResult> result;
    std::string error;
    try {
      if (!connection || connection->is_broken()) connection = connect(options);
      result = probe(*connection);
    } catch (const std::exception& e) {
      connection.reset();
      error = e.what();
    }
    lock.lock();
    if (result) {
      apply_probe(host, *result);
    } else {
      apply_failure(host, error);
    }
    host.probing = false;
    ++host.probes_done;
    probed_.notify_all();
  }
}

void ReplicaState::apply_probe(ReplicaHost& host, const ProbeResult& result) {
  HostStats& s = host.stats;
  HostRole role = result.in_recovery ? HostRole::replica : HostRole::primary;
  // A host seen turning into a primary (a promotion) outranks older primaries.
  // An old primary coming back keeps its old rank, so it does not take writes back.
  if (role == HostRole::primary && s.role != HostRole::primary) {
    host.promoted_seq = ++role_changes_;
  }
  if (s.probed && s.role != role) {
    spdlog::info("nexdb replica: {} is now {}", s.host, to_string(role));
  }
  double sample = static_cast<double>(result.rtt.count());
  host.rtt_us = s.probed && s.healthy ? rtt_alpha * sample + (1 - rtt_alpha) * host.rtt_us : sample;
  s.rtt = std::chrono::microseconds{static_cast<std::int64_t>(host.rtt_us)};
  s.role = role;
  s.healthy = true;
  s.probed = true;
  s.wal_lsn = result.lsn;
  host.replay_age = result.replay_age;
  host.backoff = milliseconds{0};
  host.next_probe = SteadyClock::now() + settings_.health_check_interval;
  update_lags();
}

void ReplicaState::apply_failure(ReplicaHost& host, const std::string& error) {
  HostStats& s = host.stats;
  if (s.healthy) spdlog::warn("nexdb replica: {} is down: {}", s.host, error);
  s.healthy = false;
  s.probed = true;
  s.last_error = error;
  ++s.failures;
  // Circuit breaker: retry a dead host ever more rarely instead of hammering it.
  host.backoff =
      host.backoff.count() == 0 ? first_backoff : std::min(host.backoff * 2, max_backoff);
  host.next_probe = SteadyClock::now() + host.backoff;
}

void ReplicaState::report_failure(ReplicaHost& host, const std::string& error) {
  std::lock_guard lock(mutex_);
  if (host.stats.healthy)
    spdlog::warn("nexdb replica: {} failed a statement: {}", host.stats.host, error);
  host.stats.healthy = false;
  host.stats.last_error = error;
  host.next_probe = SteadyClock::now();  // confirm (or clear) at once
  wake_.notify_all();
}

// Byte lag is exact. Seconds lag is now() - last replayed commit, which grows without bound on
// an idle primary, so a replica that has replayed everything the primary has written counts as
// 0 s behind whatever its last commit's age.
void ReplicaState::update_lags() {
  ReplicaHost* primary = current_primary(hosts_);
  for (auto& host : hosts_) {
    HostStats& s = host->stats;
    if (s.role != HostRole::replica) {
      s.lag_bytes = 0;
      s.lag = milliseconds{0};
      continue;
    }
    std::uint64_t head = primary != nullptr ? primary->stats.wal_lsn : s.wal_lsn;
    s.lag_bytes = head > s.wal_lsn ? head - s.wal_lsn : 0;
    s.lag = s.lag_bytes == 0 ? milliseconds{0} : host->replay_age;
  }
}

std::vector<HostStats> ReplicaState::snapshot() const {
  std::vector<HostStats> result;
  {
    std::lock_guard lock(mutex_);
    for (const auto& host : hosts_) result.push_back(host->stats);
  }
  // Outside the routing lock: the pools have their own (hosts_ never changes after start).
  for (std::size_t i = 0; i < hosts_.size(); ++i) result[i].pool = hosts_[i]->pool->stats();
  return result;
}

void ReplicaState::refresh(milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::vector<std::uint64_t> targets;
  for (auto& host : hosts_) {
    // A probe already under way may have read the state from before this call.
    host->refresh_wanted = host->probes_done + (host->probing ? 2 : 1);
    targets.push_back(host->refresh_wanted);
  }
  wake_.notify_all();
  probed_.wait_for(lock, timeout, [&] {
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      if (hosts_[i]->probes_done < targets[i]) return false;
    }
    return true;
  });
}

}  // namespace nexdb::detail
