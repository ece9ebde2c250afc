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

ReplicaHost& ReplicaState::choose_read(ReadPreference preference, const ReplicaHost* avoid) {
  std::lock_guard lock(mutex_);
  ReplicaHost* host = pick_read_host(hosts_, preference, settings_, avoid, random_);
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
  ReplicaHost* host = current_primary(hosts_);
  if (host == nullptr) {
    throw ConnectionError("no primary is available (every host is down or in recovery)");
  }
  return *host;
}

Lease ReplicaState::lease(ReplicaHost& host, bool write) {
  Lease lease = host.pool->acquire();
  count_use(host, write);
  return lease;
}

void ReplicaState::count_use(ReplicaHost& host, bool write) {
  std::lock_guard lock(mutex_);
  ++(write ? host.stats.writes : host.stats.reads);
}

}  // namespace nexdb::detail
