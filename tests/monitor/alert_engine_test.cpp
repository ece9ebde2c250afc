// The alert state machine with a hand-driven clock: for, hysteresis, recover_for, severity,
// rules below a threshold, and series that were not sampled.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "monitor/rules.hpp"
#include "nexdb/error.hpp"

namespace nexdb::monitor_detail {
namespace {

using namespace std::chrono_literals;
using Clock = AlertEngine::Clock;

Observation at(std::string metric, double value, std::string host = "db1") {
  return {.metric = std::move(metric),
          .labels = {{"cluster", "main"}, {"host", std::move(host)}},
          .value = value};
}

class Engine : public ::testing::Test {
 protected:
  std::vector<Alert> feed(AlertEngine& engine, std::vector<Observation> observations) {
    now_ += 10s;
    return engine.evaluate(observations, now_);
  }
  Clock::time_point now_ = Clock::time_point{} + 1000h;
};

TEST_F(Engine, FiresAtOnceWithoutForAndResolvesWhenBack) {
  AlertEngine engine({{.metric = "connection_count", .threshold = 100, .name = "Conns"}},
                     {{"env", "test"}});
  EXPECT_TRUE(feed(engine, {at("connection_count", 100)}).empty());  // at the threshold: fine
  auto changes = feed(engine, {at("connection_count", 101)});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertState::firing);
  EXPECT_EQ(changes[0].name, "Conns");
  EXPECT_EQ(changes[0].value, 101);
  EXPECT_EQ(changes[0].labels.at("env"), "test");
  EXPECT_EQ(changes[0].labels.at("alertname"), "Conns");
  EXPECT_EQ(changes[0].labels.at("severity"), "warning");
  EXPECT_EQ(changes[0].labels.at("host"), "db1");
  EXPECT_THAT(changes[0].summary, ::testing::HasSubstr("server connections 101 > 100 on main db1"));
  EXPECT_TRUE(feed(engine, {at("connection_count", 150)}).empty());  // still firing: no news
  EXPECT_EQ(engine.firing().size(), 1u);
  changes = feed(engine, {at("connection_count", 90)});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertState::resolved);
  EXPECT_EQ(changes[0].resolved_at, now_);
  EXPECT_TRUE(engine.active().empty());
}

TEST_F(Engine, ForKeepsItPendingAndABriefSpikeNeverFires) {
  AlertEngine engine(
      {{.metric = "lock_wait_ms", .threshold = 1000, .for_duration = 25s, .name = "Locks"}}, {});
  EXPECT_TRUE(feed(engine, {at("lock_wait_ms", 2000)}).empty());
  ASSERT_EQ(engine.active().size(), 1u);
  EXPECT_EQ(engine.active()[0].state, AlertState::pending);
  EXPECT_TRUE(feed(engine, {at("lock_wait_ms", 0)}).empty());  // spike over: dropped silently
  EXPECT_TRUE(engine.active().empty());
  const auto start = now_ + 10s;
  EXPECT_TRUE(feed(engine, {at("lock_wait_ms", 2000)}).empty());  // pending since `start`
  EXPECT_TRUE(feed(engine, {at("lock_wait_ms", 3000)}).empty());  // 10 s
  EXPECT_TRUE(feed(engine, {at("lock_wait_ms", 3000)}).empty());  // 20 s
  auto changes = feed(engine, {at("lock_wait_ms", 3000)});        // 30 s >= 25 s
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertState::firing);
  EXPECT_EQ(changes[0].active_at, start);
  EXPECT_EQ(changes[0].fired_at, now_);
}

TEST_F(Engine, HysteresisHoldsUntilTheRecoveryLine) {
  AlertEngine engine(
      {{.metric = "replication_lag_ms", .threshold = 5000, .recover_at = 1000, .name = "Lag"}}, {});
  ASSERT_EQ(feed(engine, {at("replication_lag_ms", 6000)}).size(), 1u);
  EXPECT_TRUE(
      feed(engine, {at("replication_lag_ms", 4000)}).empty());  // below threshold, above 1000
  EXPECT_TRUE(feed(engine, {at("replication_lag_ms", 1500)}).empty());
  EXPECT_EQ(engine.firing().size(), 1u);
  auto changes = feed(engine, {at("replication_lag_ms", 900)});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertState::resolved);
}

TEST_F(Engine, RecoverForNeedsTheValueToStayRecovered) {
  AlertEngine engine(
      {{.metric = "deadlock_count", .threshold = 0, .recover_for = 15s, .name = "Dl"}}, {});
  ASSERT_EQ(feed(engine, {at("deadlock_count", 1)}).size(), 1u);
  EXPECT_TRUE(feed(engine, {at("deadlock_count", 0)}).empty());  // recovering since now
  EXPECT_TRUE(feed(engine, {at("deadlock_count", 2)}).empty());  // breached again: start over
  EXPECT_TRUE(feed(engine, {at("deadlock_count", 0)}).empty());
  EXPECT_TRUE(feed(engine, {at("deadlock_count", 0)}).empty());  // 10 s
  auto changes = feed(engine, {at("deadlock_count", 0)});        // 20 s >= 15 s
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, AlertState::resolved);
}

TEST_F(Engine, LowerIsWorseForTheCacheHitRatio) {
  AlertEngine engine({{.metric = "cache_hit_ratio",
                       .threshold = 0.99,
                       .recover_at = 0.995,
                       .severity = Severity::critical,
                       .name = "Cache"}},
                     {});
  EXPECT_TRUE(feed(engine, {at("cache_hit_ratio", 0.999)}).empty());
  auto changes = feed(engine, {at("cache_hit_ratio", 0.9)});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].labels.at("severity"), "critical");
  EXPECT_THAT(changes[0].summary, ::testing::HasSubstr("0.9 < 0.99"));
  EXPECT_TRUE(feed(engine, {at("cache_hit_ratio", 0.993)}).empty());
  EXPECT_EQ(feed(engine, {at("cache_hit_ratio", 0.996)}).size(), 1u);
}

TEST_F(Engine, EachSeriesIsItsOwnAlertAndUnsampledSeriesKeepTheirState) {
  AlertEngine engine({{.metric = "connection_count", .threshold = 10, .name = "Conns"}}, {});
  auto changes =
      feed(engine, {at("connection_count", 20, "db1"), at("connection_count", 30, "db2")});
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_TRUE(feed(engine, {at("connection_count", 20, "db1")}).empty());  // db2 not sampled
  EXPECT_EQ(engine.firing().size(), 2u);
  changes = feed(engine, {at("connection_count", 1, "db2")});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].labels.at("host"), "db2");
}

TEST_F(Engine, SeveralRulesOnOneMetric) {
  AlertEngine engine({{.metric = "query_duration_ms", .threshold = 100, .name = "Slow"},
                      {.metric = "query_duration_ms",
                       .threshold = 1000,
                       .severity = Severity::critical,
                       .name = "VerySlow"}},
                     {});
  EXPECT_EQ(feed(engine, {at("query_duration_ms", 500)}).size(), 1u);
  auto changes = feed(engine, {at("query_duration_ms", 5000)});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].name, "VerySlow");
  EXPECT_EQ(engine.firing().size(), 2u);
}

TEST(Rules, DefaultsFollowTheWatchedGroupsAndOverrides) {
  MonitorSettings settings{
      .watch_metrics = {"query_duration", "connection_count", "cache_hit_ratio", "deadlock_count"},
      .alert_thresholds = {{"query_duration", 1000},
                           {"connection_count", 100},
                           {"deadlock_count", 5}},
      .alert_for = std::chrono::seconds(30)};
  const auto rules = effective_rules(settings);
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0].metric, "query_duration_ms");
  EXPECT_EQ(rules[0].name, "NexdbQueryDurationHigh");
  EXPECT_EQ(rules[0].for_duration, std::chrono::seconds(30));
  EXPECT_EQ(rules[3].metric, "cache_hit_ratio");
  EXPECT_DOUBLE_EQ(rules[3].threshold, 0.99);
  settings.alerts = {{.metric = "deadlock_count", .threshold = 0, .severity = Severity::critical}};
  const auto replaced = effective_rules(settings);
  ASSERT_EQ(replaced.size(), 4u);
  EXPECT_EQ(replaced.back().metric, "deadlock_count");
  EXPECT_EQ(replaced.back().severity, Severity::critical);
  EXPECT_EQ(replaced.back().name, "NexdbDeadlocks");
}

TEST(Rules, MistakesAreConfigErrors) {
  EXPECT_THROW(effective_rules({.watch_metrics = {"query_durations"}}), ConfigError);
  EXPECT_THROW(effective_rules({.alert_thresholds = {{"query_time", 1}}}), ConfigError);
  EXPECT_THROW(effective_rules({.watch_metrics = {"query_duration"},
                                .alert_thresholds = {{"deadlock_count", 1}}}),
               ConfigError);
  EXPECT_THROW(effective_rules(
                   {.alerts = {{.metric = "connection_count", .threshold = 10, .recover_at = 20}}}),
               ConfigError);
  EXPECT_THROW(
      effective_rules(
          {.alerts = {{.metric = "cache_hit_ratio", .threshold = 0.9, .recover_at = 0.8}}}),
      ConfigError);
  EXPECT_THROW(effective_rules({.alerts = {{.metric = "connection_count", .threshold = -1}}}),
               ConfigError);
}

TEST(Rules, PrometheusRulesFile) {
  const std::vector<AlertRule> rules{
      {.metric = "query_duration_ms",
       .threshold = 1000,
       .for_duration = std::chrono::seconds(30),
       .name = "NexdbQueryDurationHigh"},
      {.metric = "replication_lag_ms",
       .threshold = 5000,
       .recover_at = 1000,
       .recover_for = std::chrono::seconds(60),
       .severity = Severity::critical,
       .name = "NexdbReplicationLagHigh"},
      {.metric = "deadlock_count", .threshold = 5, .name = "NexdbDeadlocks"}};
  const std::string yaml = prometheus_rules(rules, std::chrono::seconds(10));
  EXPECT_THAT(yaml, ::testing::HasSubstr("      - alert: NexdbQueryDurationHigh\n"
                                         "        expr: 'nexdb_query_duration_max_seconds > 1'\n"
                                         "        for: 30s\n"));
  EXPECT_THAT(
      yaml,
      ::testing::HasSubstr(
          "expr: '(nexdb_replication_lag_seconds > 5) or ((nexdb_replication_lag_seconds > 1) and "
          "on(cluster, host) ALERTS{alertname=\"NexdbReplicationLagHigh\", alertstate=\"firing\", "
          "severity=\"critical\"})'\n"
          "        keep_firing_for: 60s\n        labels:\n          severity: critical\n"));
  EXPECT_THAT(yaml, ::testing::HasSubstr("increase(nexdb_server_deadlocks_total[60s]) > 5"));
}

}  // namespace
}  // namespace nexdb::monitor_detail
