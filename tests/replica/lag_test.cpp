// A replica whose replay is paused falls behind the primary and is skipped under the lag limit.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "replica_test_support.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;

TEST(ReplicaLag, APausedReplicaIsSkippedOnceItLagsAndUsedAgainWhenItCatchesUp) {
  test::PgSchema schema;
  auto settings = test::cluster_settings(test::pg_base_port(), ReadPreference::replica);
  settings.max_replication_lag_bytes = 64 * 1024;
  ReplicaManager manager(settings);
  auto primary = connect(test::pg_primary_uri());
  {
    test::ReplayPause pause(test::pg_replica_uri(1));
    // About 1 MB of WAL that replica1 does not replay.
    primary->execute_script(
        fmt::format("CREATE TABLE \"{0}\".filler AS SELECT g, repeat('x', 100) AS pad "
                    "FROM generate_series(1, 10000) g",
                    schema.name()));
    test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(2));
    manager.refresh();
    auto hosts = manager.hosts();
    EXPECT_GT(hosts[1].lag_bytes, settings.max_replication_lag_bytes);
    EXPECT_LE(hosts[2].lag_bytes, settings.max_replication_lag_bytes);
    auto ports = test::read_ports(manager, ReadPreference::replica, 40);
    EXPECT_EQ(ports.count(test::pg_base_port() + 2), 40u) << "only the caught-up replica";
  }
  test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(1));
  manager.refresh();
  EXPECT_LE(manager.hosts()[1].lag_bytes, settings.max_replication_lag_bytes);
  auto ports = test::read_ports(manager, ReadPreference::replica, 60);
  EXPECT_GT(ports.count(test::pg_base_port() + 1), 0u) << "replica1 is back in rotation";
}

TEST(ReplicaLag, AnIdleCaughtUpReplicaHasNoSecondsLag) {
  auto settings = test::cluster_settings(test::pg_base_port(), ReadPreference::replica);
  ReplicaManager manager(settings);
  test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(1));
  manager.refresh();
  auto hosts = manager.hosts();
  // Another test may be writing right now; only a replica at the primary's head must read 0.
  if (hosts[1].lag_bytes == 0) {
    EXPECT_EQ(hosts[1].lag.count(), 0);
  }
}

}  // namespace
}  // namespace nexdb
