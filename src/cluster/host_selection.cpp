// Which host serves a read or a write, from the last health checks' view of each host.
#include <algorithm>

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

ReplicaHost* nearest_host(const std::vector<ReplicaHost*>& candidates,
                          std::chrono::milliseconds window, std::minstd_rand& random) {
  if (candidates.empty()) return nullptr;
  const double best =
      (*std::min_element(candidates.begin(), candidates.end(), [](auto* a, auto* b) {
        return a->rtt_us < b->rtt_us;
      }))->rtt_us;
  const auto window_us =
      static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(window).count());
  std::vector<ReplicaHost*> near;
  for (auto* host : candidates) {
    if (host->rtt_us <= best + window_us) near.push_back(host);
  }
  std::uniform_int_distribution<std::size_t> pick(0, near.size() - 1);
  return near[pick(random)];
}

ReplicaHost* pick_read_host(const HostList& hosts, ReadPreference preference,
                            const ReplicaSettings& settings, const ReplicaHost* avoid,
                            std::minstd_rand& random) {
  ReplicaHost* primary = current_primary(hosts);
  if (primary == avoid) primary = nullptr;
  std::vector<ReplicaHost*> replicas;
  for (const auto& host : hosts) {
    if (host.get() != avoid && readable_replica(*host, settings)) replicas.push_back(host.get());
  }
  const auto window = settings.latency_window;
  switch (preference) {
    case ReadPreference::primary:
      return primary;
    case ReadPreference::primary_preferred:
      return primary != nullptr ? primary : nearest_host(replicas, window, random);
    case ReadPreference::replica:
      return nearest_host(replicas, window, random);
    case ReadPreference::replica_preferred:
      return replicas.empty() ? primary : nearest_host(replicas, window, random);
    case ReadPreference::nearest:
      if (primary != nullptr) replicas.push_back(primary);
      return nearest_host(replicas, window, random);
  }
  return nullptr;
}

}  // namespace nexdb::detail
