// Helpers shared by the replica tests.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "nexdb/replica.hpp"

namespace nexdb::test {

/// Settings for the cluster whose primary listens on `base_port` (replicas on +1, +2), with
/// quick health checks and small pools.
ReplicaSettings cluster_settings(int base_port, ReadPreference preference);
/// The port of the server behind `lease`.
int server_port(Lease& lease);
/// Ports that `count` leases taken by `manager.read(preference)` landed on.
std::multiset<int> read_ports(ReplicaManager& manager, ReadPreference preference, int count);
/// Waits until replica `port`'s replay position reaches the primary's current one.
void wait_replayed(const std::string& primary_uri, const std::string& replica_uri);

}  // namespace nexdb::test

namespace nexdb::test {

/// Pauses WAL replay on a replica for the guard's lifetime (resumed even when a test fails, so
/// the shared cluster is never left paused).
class ReplayPause {
 public:
  explicit ReplayPause(const std::string& replica_uri);
  ~ReplayPause();
  ReplayPause(const ReplayPause&) = delete;
  ReplayPause& operator=(const ReplayPause&) = delete;

 private:
  std::unique_ptr<Connection> connection_;
};

}  // namespace nexdb::test
