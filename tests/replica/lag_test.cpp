// A replica whose replay is paused falls behind the primary and is skipped under the lag limit.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <thread>

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

// The seconds limit alone (byte limit off): a paused replica that has not replayed a commit
// for longer than max_replication_lag is skipped; once it catches up its lag is 0 again.
TEST(ReplicaLag, TheSecondsLimitAloneSkipsAReplicaThatFellBehindInTime) {
  test::PgSchema schema;
  auto settings = test::cluster_settings(test::pg_base_port(), ReadPreference::replica);
  settings.max_replication_lag_bytes = 0;
  settings.max_replication_lag = 300ms;
  ReplicaManager manager(settings);
  auto primary = connect(test::pg_primary_uri());
  primary->execute_script(fmt::format("CREATE TABLE \"{}\".tick (v int)", schema.name()));
  {
    test::ReplayPause pause(test::pg_replica_uri(1));
    // A commit replica1 does not replay; then let more than the limit pass.
    primary->execute_script(fmt::format("INSERT INTO \"{}\".tick VALUES (1)", schema.name()));
    test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(2));
    std::this_thread::sleep_for(500ms);
    manager.refresh();
    auto hosts = manager.hosts();
    EXPECT_GT(hosts[1].lag, settings.max_replication_lag);
    EXPECT_GT(hosts[1].lag_bytes, 0u);
    auto ports = test::read_ports(manager, ReadPreference::replica, 30);
    EXPECT_EQ(ports.count(test::pg_base_port() + 2), 30u) << "only the replica within the limit";
  }
  test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(1));
  manager.refresh();
  // Caught up with an idle primary: no seconds lag, however old its last commit is. (Another
  // test may be writing right now, so only a replica at the primary's head must read 0.)
  const auto hosts = manager.hosts();
  if (hosts[1].lag_bytes == 0) {
    EXPECT_EQ(hosts[1].lag.count(), 0);
  }
  EXPECT_LE(hosts[1].lag, settings.max_replication_lag);
}

}  // namespace
}  // namespace nexdb
