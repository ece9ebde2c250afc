// Each read preference picks the right hosts; statements and transactions go where they must.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "nexdb/error.hpp"
#include "nexdb/query.hpp"
#include "replica_test_support.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;
using test::pg_base_port;
using test::read_ports;

class Routing : public ::testing::Test {
 protected:
  Routing() : manager_(settings()) { manager_.refresh(); }
  // These tests are about which hosts a preference may use; on a loaded machine the three
  // servers' RTTs drift apart by more than the default 15 ms window, so widen it here. The
  // window's exclusion of far hosts is tested on fixed RTTs in selection_test.cpp.
  static ReplicaSettings settings() {
    auto settings = test::cluster_settings(pg_base_port(), ReadPreference::nearest);
    settings.latency_window = 10s;
    return settings;
  }
  int primary_ = pg_base_port();
  int replica1_ = pg_base_port() + 1;
  int replica2_ = pg_base_port() + 2;
  ReplicaManager manager_;
};

TEST_F(Routing, DiscoversRolesAndMeasuresRtt) {
  auto hosts = manager_.hosts();
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[0].role, HostRole::primary);
  EXPECT_EQ(hosts[1].role, HostRole::replica);
  EXPECT_EQ(hosts[2].role, HostRole::replica);
  for (const auto& host : hosts) {
    EXPECT_TRUE(host.healthy) << host.host << ": " << host.last_error;
    EXPECT_TRUE(host.probed);
    EXPECT_GT(host.rtt.count(), 0) << host.host;
    EXPECT_GT(host.wal_lsn, 0u) << host.host;
  }
}

TEST_F(Routing, PrimaryPreferenceReadsOnlyThePrimary) {
  auto ports = read_ports(manager_, ReadPreference::primary, 20);
  EXPECT_EQ(ports.count(primary_), 20u);
}

TEST_F(Routing, PrimaryPreferredReadsThePrimaryWhenItIsUp) {
  auto ports = read_ports(manager_, ReadPreference::primary_preferred, 20);
  EXPECT_EQ(ports.count(primary_), 20u);
}

TEST_F(Routing, ReplicaPreferenceSpreadsOverBothReplicasOnly) {
  auto ports = read_ports(manager_, ReadPreference::replica, 60);
  EXPECT_EQ(ports.count(primary_), 0u);
  EXPECT_GT(ports.count(replica1_), 0u);
  EXPECT_GT(ports.count(replica2_), 0u);
}

TEST_F(Routing, ReplicaPreferredReadsReplicasWhenTheyAreUsable) {
  auto ports = read_ports(manager_, ReadPreference::replica_preferred, 40);
  EXPECT_EQ(ports.count(primary_), 0u);
  EXPECT_EQ(ports.count(replica1_) + ports.count(replica2_), 40u);
}

// A configured primary that is down (a closed port): primary_preferred reads from the replicas,
// primary reads fail with a clear error.
TEST(RoutingFallback, PrimaryPreferredReadsReplicasWhenThePrimaryIsDown) {
  auto settings = test::cluster_settings(pg_base_port(), ReadPreference::primary_preferred);
  settings.primary = fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", test::closed_port());
  ReplicaManager manager(settings);
  manager.refresh();
  EXPECT_FALSE(manager.hosts()[0].healthy);
  auto ports = read_ports(manager, ReadPreference::primary_preferred, 30);
  EXPECT_EQ(ports.count(pg_base_port() + 1) + ports.count(pg_base_port() + 2), 30u);
  EXPECT_THROW((void)manager.read(ReadPreference::primary), ConnectionError);
  EXPECT_THROW((void)manager.write(), ConnectionError);
}

// Replicas that are down: replica_preferred reads from the primary, replica reads fail.
TEST(RoutingFallback, ReplicaPreferredReadsThePrimaryWhenNoReplicaIsUp) {
  auto settings = test::cluster_settings(pg_base_port(), ReadPreference::replica_preferred);
  settings.replicas = {fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", test::closed_port())};
  ReplicaManager manager(settings);
  manager.refresh();
  EXPECT_FALSE(manager.hosts()[1].healthy);
  auto ports = read_ports(manager, ReadPreference::replica_preferred, 20);
  EXPECT_EQ(ports.count(pg_base_port()), 20u);
  EXPECT_THROW((void)manager.read(ReadPreference::replica), ConnectionError);
  EXPECT_EQ(manager.execute_read(Statement{"SELECT 1", {}}).scalar<std::int64_t>(), 1);
}

// All three hosts are on loopback, within the 15 ms window of each other: reads spread.
TEST_F(Routing, NearestSpreadsOverHostsWithinTheLatencyWindow) {
  auto ports = read_ports(manager_, ReadPreference::nearest, 150);
  std::set<int> distinct(ports.begin(), ports.end());
  EXPECT_GE(distinct.size(), 2u);
  for (int port : distinct) EXPECT_TRUE(port >= primary_ && port <= replica2_) << port;
}

TEST_F(Routing, WritesGoToThePrimary) {
  Lease lease = manager_.write();
  EXPECT_EQ(test::server_port(lease), primary_);
  EXPECT_EQ(manager_.hosts()[0].writes, 1u);
}

TEST_F(Routing, ExecuteRoutesRawSqlByWhatItDoes) {
  ReplicaManager manager(test::cluster_settings(pg_base_port(), ReadPreference::replica));
  manager.refresh();
  for (int i = 0; i < 10; ++i) {
    Rows read = manager.execute("SELECT inet_server_port()");
    EXPECT_NE(read.front().get<std::int64_t>(0), primary_);
    // set_config has a side effect: classified as a write, so it runs on the primary.
    Rows write = manager.execute("SELECT inet_server_port(), set_config('nexdb.x', 'y', false)");
    EXPECT_EQ(write.front().get<std::int64_t>(0), primary_);
    Rows locked = manager.execute("SELECT inet_server_port(), pg_try_advisory_xact_lock(42)");
    EXPECT_EQ(locked.front().get<std::int64_t>(0), primary_);
  }
}

struct Probe : Table<Probe> {
  static constexpr std::string_view table_name = "pg_class";
  Column<std::string> relname{this, "relname"};
};
inline const Probe ProbeTable;

TEST_F(Routing, BuilderSelectsAreReads) {
  ReplicaManager manager(test::cluster_settings(pg_base_port(), ReadPreference::replica));
  manager.refresh();
  manager.execute(select(ProbeTable.relname).from(ProbeTable).limit(1));
  auto hosts = manager.hosts();
  EXPECT_EQ(hosts[0].reads + hosts[0].writes, 0u);
  EXPECT_EQ(hosts[1].reads + hosts[2].reads, 1u);
}

TEST_F(Routing, ReadOnlyTransactionsGoToReplicasAndReadWriteOnesToThePrimary) {
  ReplicaManager manager(test::cluster_settings(pg_base_port(), ReadPreference::replica));
  manager.refresh();
  auto port_in = [](TransactionBase& tx) {
    Rows rows = tx.execute("SELECT inet_server_port()");
    return rows.front().get<std::int64_t>(0);
  };
  EXPECT_NE(manager.read_transaction([&](ReadOnlyTransaction& tx) { return port_in(tx); }),
            primary_);
  EXPECT_EQ(manager.transaction([&](Transaction& tx) { return port_in(tx); }), primary_);
}

TEST(RoutingConfig, FromConfigTakesTheClusterSettings) {
  ClusterConfig cluster{.name = "main",
                        .primary = test::pg_primary_uri(),
                        .replicas = {test::pg_replica_uri(1), test::pg_replica_uri(2)},
                        .read_preference = ReadPreference::replica};
  ReplicaManager manager = ReplicaManager::from_config(cluster);
  EXPECT_EQ(manager.settings().read_preference, ReadPreference::replica);
  EXPECT_EQ(manager.settings().replicas.size(), 2u);
  manager.refresh();
  Lease lease = manager.read();
  EXPECT_NE(test::server_port(lease), pg_base_port());
}

TEST(RoutingConfig, AnEmptyPrimaryIsAConfigError) {
  EXPECT_THROW(ReplicaManager(ReplicaSettings{}), ConfigError);
}

TEST(RoutingConfig, SqliteHostsAreAConfigError) {
  EXPECT_THROW(ReplicaManager(ReplicaSettings{.primary = "sqlite::memory:"}), ConfigError);
  EXPECT_THROW(ReplicaManager(
                   ReplicaSettings{.primary = test::pg_primary_uri(), .replicas = {"sqlite:x.db"}}),
               ConfigError);
}

}  // namespace
}  // namespace nexdb
