// Which host serves a read or a write, from the last health checks' view of each host.
#include <algorithm>
#include <limits>

#include "cluster/replica_state.hpp"

namespace nexdb::detail {

ReplicaHost* current_primary(const HostList& hosts) {
  ReplicaHost* best = nullptr;
  for (const auto& host : hosts) {
    if (host->stats.role != HostRole::primary || !host->stats.healthy) continue;
    if (best == nullptr || host->promoted_seq > best->promoted_seq) best = host.get();
  }
  return best;
}

bool readable_replica(const ReplicaHost& host, const ReplicaSettings& settings) {
  const HostStats& s = host.stats;
  if (s.role != HostRole::replica || !s.healthy) return false;
  if (settings.max_replication_lag_bytes > 0 && s.lag_bytes > settings.max_replication_lag_bytes) {
    return false;
  }
  return settings.max_replication_lag.count() == 0 || s.lag <= settings.max_replication_lag;
}

namespace {

// MongoDB's rule over the hosts `eligible` accepts: the lowest smoothed RTT, then a random host
// among those within `window` of it. Three passes over a handful of hosts, no allocation.
template <class Eligible>
ReplicaHost* nearest_host(const HostList& hosts, Eligible&& eligible,
                          std::chrono::milliseconds window, std::minstd_rand& random) {
  double best = std::numeric_limits<double>::infinity();
  for (const auto& host : hosts) {
    if (eligible(*host)) best = std::min(best, host->rtt_us);
  }
  if (best == std::numeric_limits<double>::infinity()) return nullptr;
  const double limit =
      best +
      static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(window).count());
  const auto near = [&](const ReplicaHost& host) { return eligible(host) && host.rtt_us <= limit; };
  std::size_t count = 0;
  for (const auto& host : hosts) count += near(*host) ? 1 : 0;
  std::size_t pick =
      count == 1 ? 0 : std::uniform_int_distribution<std::size_t>(0, count - 1)(random);
  for (const auto& host : hosts) {
    if (near(*host) && pick-- == 0) return host.get();
  }
  return nullptr;
}

}  // namespace

ReplicaHost* pick_read_host(const HostList& hosts, ReadPreference preference,
                            const ReplicaSettings& settings, const ReplicaHost* avoid,
                            std::minstd_rand& random) {
  ReplicaHost* primary = current_primary(hosts);
  if (primary == avoid) primary = nullptr;
  const auto replica = [&](const ReplicaHost& host) {
    return &host != avoid && readable_replica(host, settings);
  };
  const auto replica_or_primary = [&](const ReplicaHost& host) {
    return &host == primary || replica(host);
  };
  const auto window = settings.latency_window;
  switch (preference) {
    case ReadPreference::primary:
      return primary;
    case ReadPreference::primary_preferred:
      return primary != nullptr ? primary : nearest_host(hosts, replica, window, random);
    case ReadPreference::replica:
      return nearest_host(hosts, replica, window, random);
    case ReadPreference::replica_preferred: {
      ReplicaHost* host = nearest_host(hosts, replica, window, random);
      return host != nullptr ? host : primary;
    }
    case ReadPreference::nearest:
      return nearest_host(hosts, replica_or_primary, window, random);
  }
  return nullptr;
}

}  // namespace nexdb::detail
