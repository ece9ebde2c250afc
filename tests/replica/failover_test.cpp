// Stopped hosts and promotions, each on a private cluster (the shared fixture is never touched).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "nexdb/error.hpp"
#include "private_cluster.hpp"
#include "replica_test_support.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(ReplicaFailover, AStoppedReplicaIsSkippedAndReadsKeepSucceeding) {
  test::PrivateCluster cluster;
  ReplicaManager manager(test::cluster_settings(cluster.port(), ReadPreference::replica));
  manager.refresh();
  // Warm both replicas' pools so the dead one holds connections that break on use.
  test::read_ports(manager, ReadPreference::replica, 20);
  cluster.kill("replica2");
  int failures = 0;
  std::multiset<int> ports;
  auto end = Clock::now() + 1500ms;
  while (Clock::now() < end) {
    try {
      Rows rows = manager.execute("SELECT inet_server_port()");
      ports.insert(static_cast<int>(rows.front().get<std::int64_t>(0)));
    } catch (const Error& e) {
      ++failures;
      ADD_FAILURE() << e.what();
    }
  }
  EXPECT_EQ(failures, 0);
  manager.refresh();
  EXPECT_FALSE(manager.hosts()[2].healthy);
  EXPECT_FALSE(manager.hosts()[2].last_error.empty());
  auto after = test::read_ports(manager, ReadPreference::replica, 20);
  EXPECT_EQ(after.count(cluster.port() + 1), 20u);
}

// Promote replica1, then crash the old primary (the scenario), with the default 500 ms
// health-check interval: writes must land on the new primary within 2 s of the promotion.
TEST(ReplicaFailover, WritesResumeOnAPromotedReplicaWithinTwoSeconds) {
  test::PrivateCluster cluster;
  auto settings = test::cluster_settings(cluster.port(), ReadPreference::replica);
  settings.health_check_interval = ReplicaSettings{}.health_check_interval;
  ReplicaManager manager(settings);
  manager.execute("CREATE TABLE events (id serial PRIMARY KEY, at_port int)");
  test::wait_replayed(cluster.uri(0), cluster.uri(1));
  manager.refresh();
  ASSERT_EQ(manager.hosts()[0].role, HostRole::primary);

  auto promote = connect(cluster.uri(1));
  promote->execute("SELECT pg_promote()");  // waits until the promotion has finished
  auto promoted = Clock::now();
  cluster.kill("primary");

  std::int64_t port = 0;
  int errors = 0;
  while (port != cluster.port() + 1 && Clock::now() - promoted < 10s) {
    try {
      Rows rows = manager.execute(
          "INSERT INTO events (at_port) VALUES (inet_server_port()) RETURNING at_port");
      port = rows.front().get<std::int64_t>(0);
    } catch (const ConnectionError&) {
      ++errors;  // no primary yet, or a connection to the dead one: the caller retries
      std::this_thread::sleep_for(20ms);
    }
  }
  auto elapsed = Clock::now() - promoted;
  std::cout << "writes resumed on the promoted replica "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms after the promotion (" << errors << " failed attempts)\n";
  EXPECT_EQ(port, cluster.port() + 1) << "the write landed on the promoted replica";
  EXPECT_LT(elapsed, 2s);
  manager.refresh();
  auto hosts = manager.hosts();
  EXPECT_FALSE(hosts[0].healthy);
  EXPECT_EQ(hosts[1].role, HostRole::primary);
  EXPECT_EQ(hosts[2].role, HostRole::replica);
}

// The new primary is found while the old one still runs (split brain): the host seen becoming
// primary most recently wins.
TEST(ReplicaFailover, APromotedReplicaOutranksTheOldPrimaryThatStillRuns) {
  test::PrivateCluster cluster;
  ReplicaManager manager(test::cluster_settings(cluster.port(), ReadPreference::primary));
  manager.refresh();
  auto promote = connect(cluster.uri(2));
  promote->execute("SELECT pg_promote()");
  manager.refresh();
  Lease lease = manager.write();
  EXPECT_EQ(test::server_port(lease), cluster.port() + 2);
}

TEST(ReplicaFailover, AWriteInFlightWhenThePrimaryDiesIsConnectionLost) {
  test::PrivateCluster cluster;
  ReplicaManager manager(test::cluster_settings(cluster.port(), ReadPreference::replica));
  manager.refresh();
  std::thread killer([&] {
    std::this_thread::sleep_for(300ms);
    cluster.kill("primary");
  });
  try {
    manager.execute("SELECT pg_sleep(5), set_config('a.b', 'c', false)");  // a write
    ADD_FAILURE() << "the write should have failed";
  } catch (const ConnectionLost& e) {
    EXPECT_TRUE(e.retryable());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ConnectionLost, got " << e.what();
  }
  killer.join();
}

}  // namespace
}  // namespace nexdb
