// A replica whose replay is paused falls behind the primary and is skipped under the lag limit.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <thread>
#include <vector>

#include "replica_test_support.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;

// Other tests write to the same primary at the same time, so a replica's lag moves under a
// test's feet for a moment while their WAL is in flight: refresh until the hosts read as the
// test needs (or 5 s pass) and then judge what was read.
template <typename Predicate>
std::vector<HostStats> refresh_until(ReplicaManager& manager, Predicate wanted) {
  auto hosts = manager.hosts();
  for (int attempt = 0; attempt < 100; ++attempt) {
    manager.refresh();
    hosts = manager.hosts();
    if (wanted(hosts)) break;
    std::this_thread::sleep_for(50ms);
  }
  return hosts;
}

TEST(ReplicaLag, APausedReplicaIsSkippedOnceItLagsAndUsedAgainWhenItCatchesUp) {
  test::PgSchema schema;
  auto settings = test::cluster_settings(test::pg_base_port(), ReadPreference::replica);
  // Well above what concurrent tests keep in flight, well below what the pause holds back.
  settings.max_replication_lag_bytes = 512 * 1024;
  const auto limit = settings.max_replication_lag_bytes;
  ReplicaManager manager(settings);
  auto primary = connect(test::pg_primary_uri());
  {
    test::ReplayPause pause(test::pg_replica_uri(1));
    // About 4 MB of WAL that replica1 does not replay.
    primary->execute_script(
        fmt::format("CREATE TABLE \"{0}\".filler AS SELECT g, repeat('x', 100) AS pad "
                    "FROM generate_series(1, 40000) g",
                    schema.name()));
    test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(2));
    auto hosts = refresh_until(manager, [&](const auto& h) { return h[2].lag_bytes <= limit; });
    EXPECT_GT(hosts[1].lag_bytes, limit);
    EXPECT_LE(hosts[2].lag_bytes, limit);
    auto ports = test::read_ports(manager, ReadPreference::replica, 40);
    EXPECT_EQ(ports.count(test::pg_base_port() + 2), 40u) << "only the caught-up replica";
  }
  test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(1));
  auto hosts = refresh_until(manager, [&](const auto& h) { return h[1].lag_bytes <= limit; });
  EXPECT_LE(hosts[1].lag_bytes, limit);
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
    const auto limit = settings.max_replication_lag;
    auto hosts = refresh_until(manager, [&](const auto& h) { return h[2].lag <= limit; });
    EXPECT_GT(hosts[1].lag, settings.max_replication_lag);
    EXPECT_GT(hosts[1].lag_bytes, 0u);
    auto ports = test::read_ports(manager, ReadPreference::replica, 30);
    EXPECT_EQ(ports.count(test::pg_base_port() + 2), 30u) << "only the replica within the limit";
  }
  test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(1));
  // Caught up: no seconds lag, however old the last replayed commit is. Another test may be
  // writing to the primary right now, and while its WAL is in flight the replica is behind in
  // bytes and its seconds lag counts from that old commit; so judge the first refresh that
  // finds the replica at the primary's head.
  auto hosts = refresh_until(manager, [](const auto& h) { return h[1].lag_bytes == 0; });
  ASSERT_EQ(hosts[1].lag_bytes, 0u) << "replica1 never reached the primary's head within 5 s";
  EXPECT_EQ(hosts[1].lag.count(), 0);
}

}  // namespace
}  // namespace nexdb
