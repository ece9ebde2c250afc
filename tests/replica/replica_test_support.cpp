#include "replica_test_support.hpp"

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace nexdb::test {

using namespace std::chrono_literals;

ReplicaSettings cluster_settings(int base_port, ReadPreference preference) {
  auto uri = [](int port) { return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", port); };
  return ReplicaSettings{
      .primary = uri(base_port),
      .replicas = {uri(base_port + 1), uri(base_port + 2)},
      .read_preference = preference,
      .health_check_interval = 100ms,
      .pool = PoolSettings{.min_idle = 0,
                           .max_size = 4,
                           .acquire_timeout = 5000ms,
                           .validation_threshold = 0ms,
                           .name = "replica-test"},
      .connection = ConnectOptions{.connect_timeout = 2000ms},
  };
}

int server_port(Lease& lease) {
  Rows rows = lease->execute("SELECT inet_server_port()");
  return static_cast<int>(rows.front().get<std::int64_t>(0));
}

std::multiset<int> read_ports(ReplicaManager& manager, ReadPreference preference, int count) {
  std::multiset<int> ports;
  for (int i = 0; i < count; ++i) {
    Lease lease = manager.read(preference);
    ports.insert(server_port(lease));
  }
  return ports;
}

void wait_replayed(const std::string& primary_uri, const std::string& replica_uri) {
  auto primary = connect(primary_uri);
  auto replica = connect(replica_uri);
  Rows head_rows = primary->execute("SELECT pg_current_wal_insert_lsn()::text");
  std::string head = head_rows.front().get<std::string>(0);
  auto replayed = [&] {
    Rows rows = replica->execute("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", head);
    return rows.front().get<bool>(0);
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!replayed()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("replica did not catch up");
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace nexdb::test

namespace nexdb::test {

ReplayPause::ReplayPause(const std::string& replica_uri) : connection_(connect(replica_uri)) {
  connection_->execute("SELECT pg_wal_replay_pause()");
}

ReplayPause::~ReplayPause() {
  try {
    connection_->execute("SELECT pg_wal_replay_resume()");
  } catch (...) {
    // Nothing more to do in a destructor; the cluster's next start recreates the replicas.
  }
}

}  // namespace nexdb::test
