// Host selection: which host serves a read under each ReadPreference, and which is the primary.
#include <fmt/format.h>

#include <algorithm>

#include "cluster/replica_state.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {

namespace {

void validate(const ReplicaSettings& s) {
  if (s.primary.empty()) throw ConfigError("ReplicaManager: no primary URI");
  // Roles, replay positions and promotion are PostgreSQL streaming replication concepts.
  auto require_postgres = [](const std::string& uri) {
    if (dialect_of(uri) != Dialect::postgres) {
      throw ConfigError("ReplicaManager: only PostgreSQL hosts can be routed: " +
                        redact_password(uri));
    }
  };
  require_postgres(s.primary);
  for (const auto& uri : s.replicas) require_postgres(uri);
  if (s.health_check_interval.count() <= 0) {
    throw ConfigError("ReplicaManager: health_check_interval must be positive");
  }
  if (s.latency_window.count() < 0 || s.max_replication_lag.count() < 0 || s.ryw_wait.count() < 0) {
    throw ConfigError("ReplicaManager: durations must not be negative");
  }
}

std::unique_ptr<ReplicaHost> make_host(const ReplicaSettings& s, std::size_t index,
                                       const std::string& uri, HostRole role) {
  auto host = std::make_unique<ReplicaHost>();
  host->index = index;
  host->options = s.connection;
  host->options.uri = uri;
  PoolSettings pool = s.pool;
  pool.name =
      fmt::format("{}/{}", s.pool.name, index == 0 ? "primary" : fmt::format("replica{}", index));
  host->pool = std::make_unique<ConnectionPool>(host->options, pool);
  host->stats.host = host->pool->description();
  host->stats.role = role;
  host->stats.healthy = true;  // until a probe says otherwise: route by the configuration
  return host;
}

}  // namespace

ReplicaState::ReplicaState(ReplicaSettings settings)
    : settings_(std::move(settings)), observers_(std::make_shared<StatementObserverHub>()) {
  validate(settings_);
  // Every host's connections report to one hub, so a monitor can attach later.
  if (settings_.connection.observer != nullptr) {
    configured_observer_ = StatementObserverHub::attach(observers_, settings_.connection.observer);
  }
  settings_.connection.observer = observers_;
  hosts_.push_back(make_host(settings_, 0, settings_.primary, HostRole::primary));
  for (const auto& uri : settings_.replicas) {
    hosts_.push_back(make_host(settings_, hosts_.size(), uri, HostRole::replica));
  }
  for (auto& host : hosts_) {
    host->checker = std::thread([this, h = host.get()] { run_checker(*h); });
  }
}

ReplicaState::~ReplicaState() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& host : hosts_) {
    if (host->checker.joinable()) host->checker.join();
  }
  for (auto& host : hosts_) host->pool->close(std::chrono::milliseconds{5000});
}

// Several hosts may claim to be primary (a promoted replica while the old primary still runs):
// the one seen becoming primary most recently wins, then the configured order.
ReplicaHost* ReplicaState::primary_locked() {
  ReplicaHost* best = nullptr;
  for (auto& host : hosts_) {
    if (host->stats.role != HostRole::primary || !host->stats.healthy) continue;
    if (best == nullptr || host->promoted_seq > best->promoted_seq) best = host.get();
  }
  return best;
}

bool ReplicaState::readable_replica(const ReplicaHost& host) const {
  const HostStats& s = host.stats;
  if (s.role != HostRole::replica || !s.healthy) return false;
  if (settings_.max_replication_lag_bytes > 0 &&
      s.lag_bytes > settings_.max_replication_lag_bytes) {
    return false;
  }
  return settings_.max_replication_lag.count() == 0 || s.lag <= settings_.max_replication_lag;
}

// MongoDB's rule: the lowest smoothed RTT, then a random host among those within the window.
ReplicaHost* ReplicaState::nearest_locked(const std::vector<ReplicaHost*>& candidates) {
  if (candidates.empty()) return nullptr;
  double best = (*std::min_element(candidates.begin(), candidates.end(), [](auto* a, auto* b) {
                  return a->rtt_us < b->rtt_us;
                }))->rtt_us;
  double window = static_cast<double>(
      std::chrono::duration_cast<std::chrono::microseconds>(settings_.latency_window).count());
  std::vector<ReplicaHost*> near;
  for (auto* host : candidates) {
    if (host->rtt_us <= best + window) near.push_back(host);
  }
  std::uniform_int_distribution<std::size_t> pick(0, near.size() - 1);
  return near[pick(random_)];
}

ReplicaHost* ReplicaState::pick_locked(ReadPreference preference, const ReplicaHost* avoid) {
  ReplicaHost* primary = primary_locked();
  if (primary == avoid) primary = nullptr;
  std::vector<ReplicaHost*> replicas;
  for (auto& host : hosts_) {
    if (host.get() != avoid && readable_replica(*host)) replicas.push_back(host.get());
  }
  switch (preference) {
    case ReadPreference::primary:
      return primary;
    case ReadPreference::primary_preferred:
      return primary != nullptr ? primary : nearest_locked(replicas);
    case ReadPreference::replica:
      return nearest_locked(replicas);
    case ReadPreference::replica_preferred:
      return replicas.empty() ? primary : nearest_locked(replicas);
    case ReadPreference::nearest:
      if (primary != nullptr) replicas.push_back(primary);
      return nearest_locked(replicas);
  }
  return nullptr;
}

ReplicaHost& ReplicaState::choose_read(ReadPreference preference, const ReplicaHost* avoid) {
  std::lock_guard lock(mutex_);
  ReplicaHost* host = pick_locked(preference, avoid);
  if (host == nullptr) {
    throw ConnectionError(
        fmt::format("no host is eligible for reads with preference {} "
                    "(down, or lagging beyond the configured limits)",
                    to_string(preference)));
  }
  return *host;
}

ReplicaHost& ReplicaState::choose_write() {
  std::lock_guard lock(mutex_);
  ReplicaHost* host = primary_locked();
  if (host == nullptr) {
    throw ConnectionError("no primary is available (every host is down or in recovery)");
  }
  return *host;
}

Lease ReplicaState::lease(ReplicaHost& host, bool write) {
  Lease lease = host.pool->acquire();
  std::lock_guard lock(mutex_);
  ++(write ? host.stats.writes : host.stats.reads);
  return lease;
}

}  // namespace nexdb::detail
