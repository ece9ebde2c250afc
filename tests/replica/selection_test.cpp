// Host selection by read preference, on hand-made health-check views (no server): fallbacks when
// the primary or the replicas are unusable, both lag limits, and nearest's latency window.
#include <gtest/gtest.h>

#include <map>

#include "cluster/replica_state.hpp"

namespace nexdb::detail {
namespace {

using namespace std::chrono_literals;

class HostSelection : public ::testing::Test {
 protected:
  HostSelection() {
    add(HostRole::primary, 300);  // 0: primary
    add(HostRole::replica, 200);  // 1
    add(HostRole::replica, 205);  // 2
    settings_.max_replication_lag_bytes = 1024;
    settings_.max_replication_lag = 1000ms;
    settings_.latency_window = 15ms;
  }
  void add(HostRole role, double rtt_us) {
    auto host = std::make_unique<ReplicaHost>();
    host->index = hosts_.size();
    host->stats.role = role;
    host->stats.healthy = true;
    host->rtt_us = rtt_us;
    hosts_.push_back(std::move(host));
  }
  ReplicaHost& host(std::size_t i) { return *hosts_[i]; }
  /// How often each host index is picked in `n` reads; -1 counts "no host".
  std::map<int, int> picks(ReadPreference preference, int n = 400,
                           const ReplicaHost* avoid = nullptr) {
    std::map<int, int> seen;
    for (int i = 0; i < n; ++i) {
      ReplicaHost* h = pick_read_host(hosts_, preference, settings_, avoid, random_);
      ++seen[h == nullptr ? -1 : static_cast<int>(h->index)];
    }
    return seen;
  }

  HostList hosts_;
  ReplicaSettings settings_;
  std::minstd_rand random_{7};
};

TEST_F(HostSelection, PrimaryGoesToThePrimaryOnlyAndToNobodyWhenItIsDown) {
  EXPECT_EQ(picks(ReadPreference::primary), (std::map<int, int>{{0, 400}}));
  host(0).stats.healthy = false;
  EXPECT_EQ(picks(ReadPreference::primary), (std::map<int, int>{{-1, 400}}));
}

TEST_F(HostSelection, PrimaryPreferredFallsBackToTheReplicasWhenThePrimaryIsDown) {
  EXPECT_EQ(picks(ReadPreference::primary_preferred), (std::map<int, int>{{0, 400}}));
  host(0).stats.healthy = false;
  const auto seen = picks(ReadPreference::primary_preferred);
  EXPECT_EQ(seen.count(0), 0u);
  EXPECT_GT(seen.at(1), 0);
  EXPECT_GT(seen.at(2), 0);
  host(1).stats.healthy = host(2).stats.healthy = false;
  EXPECT_EQ(picks(ReadPreference::primary_preferred), (std::map<int, int>{{-1, 400}}));
}

TEST_F(HostSelection, ReplicaUsesReplicasOnlyAndNobodyWhenAllLag) {
  const auto seen = picks(ReadPreference::replica);
  EXPECT_EQ(seen.count(0), 0u);
  EXPECT_EQ(seen.at(1) + seen.at(2), 400);
  host(1).stats.lag_bytes = 2048;  // beyond the byte limit
  host(2).stats.lag = 1500ms;      // beyond the seconds limit
  EXPECT_EQ(picks(ReadPreference::replica), (std::map<int, int>{{-1, 400}}));
}

TEST_F(HostSelection, ReplicaPreferredFallsBackToThePrimaryWhenNoReplicaIsUsable) {
  host(1).stats.lag_bytes = 2048;
  EXPECT_EQ(picks(ReadPreference::replica_preferred), (std::map<int, int>{{2, 400}}));
  host(2).stats.healthy = false;
  EXPECT_EQ(picks(ReadPreference::replica_preferred), (std::map<int, int>{{0, 400}}));
}

TEST_F(HostSelection, EachLagLimitAloneTakesAReplicaOut) {
  host(1).stats.lag_bytes = 1025;
  EXPECT_FALSE(readable_replica(host(1), settings_));
  host(1).stats.lag_bytes = 1024;
  EXPECT_TRUE(readable_replica(host(1), settings_));
  host(1).stats.lag = 1001ms;
  EXPECT_FALSE(readable_replica(host(1), settings_));
  settings_.max_replication_lag = 0ms;  // 0 turns a limit off
  settings_.max_replication_lag_bytes = 0;
  host(1).stats.lag_bytes = 1 << 30;
  EXPECT_TRUE(readable_replica(host(1), settings_));
  EXPECT_FALSE(readable_replica(host(0), settings_)) << "the primary is not a replica";
}

TEST_F(HostSelection, NearestSpreadsWithinTheWindowAndNeverPicksAFarHost) {
  host(0).rtt_us = 20000;  // 20 ms: outside a 15 ms window above the best (200 us)
  auto seen = picks(ReadPreference::nearest, 1000);
  EXPECT_EQ(seen.count(0), 0u);
  EXPECT_GT(seen.at(1), 300) << "hosts within the window share the load";
  EXPECT_GT(seen.at(2), 300);
  host(0).rtt_us = 210;  // now within the window: the primary takes part
  seen = picks(ReadPreference::nearest, 1000);
  EXPECT_GT(seen.at(0), 200);
  settings_.latency_window = 0ms;  // only the very nearest
  EXPECT_EQ(picks(ReadPreference::nearest), (std::map<int, int>{{1, 400}}));
}

TEST_F(HostSelection, AnAvoidedHostIsNotPickedAgain) {
  const auto seen = picks(ReadPreference::replica, 400, &host(1));
  EXPECT_EQ(seen, (std::map<int, int>{{2, 400}}));
  EXPECT_EQ(picks(ReadPreference::primary, 10, &host(0)), (std::map<int, int>{{-1, 10}}));
}

TEST_F(HostSelection, TheMostRecentlyPromotedOfTwoPrimariesWins) {
  host(2).stats.role = HostRole::primary;
  host(2).promoted_seq = 5;
  EXPECT_EQ(current_primary(hosts_), &host(2));
  host(2).stats.healthy = false;
  EXPECT_EQ(current_primary(hosts_), &host(0));
}

}  // namespace
}  // namespace nexdb::detail
