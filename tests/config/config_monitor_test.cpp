// [monitor] and [metrics] keys added with monitoring: alerts with for/hysteresis/severity, the
// watched groups, sink URLs and the Pushgateway; their errors and environment variables.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace nexdb::test {
namespace {

using std::chrono::milliseconds;

TEST(ConfigMonitor, DefaultsWatchEverythingWithoutSinks) {
  const Config config = Config::defaults();
  EXPECT_EQ(config.monitor.watch.size(), known_watch_metrics().size());
  EXPECT_EQ(config.monitor.alert_for, milliseconds(0));
  EXPECT_TRUE(config.monitor.alerts.empty());
  EXPECT_EQ(config.monitor.max_fingerprints, 500u);
  EXPECT_EQ(config.monitor.alertmanager_url, "");
  EXPECT_EQ(config.metrics.pushgateway_url, "");
  EXPECT_EQ(config.metrics.job, "nexdb");
}

TEST(ConfigMonitor, AlertsAndSinks) {
  const Config config = Config::parse(R"(
[monitor]
for_ms = 15000
watch = ["query_duration", "replication_lag"]
max_fingerprints = 50
slow_statements = 0
alertmanager_url = "http://alertmanager:9093"
webhook_url = "https://hooks.example.com/nexdb"

[monitor.alert_thresholds]
replication_lag_ms = 8000

[monitor.alerts.replication_lag_ms]
recover_at = 2000
recover_for_ms = 30000
severity = "critical"

[metrics]
pushgateway_url = "http://pushgateway:9091"
job = "billing-batch"
)");
  EXPECT_EQ(config.monitor.alert_for, milliseconds(15000));
  EXPECT_EQ(config.monitor.watch, (std::vector<std::string>{"query_duration", "replication_lag"}));
  EXPECT_EQ(config.monitor.max_fingerprints, 50u);
  EXPECT_EQ(config.monitor.slow_statements, 0u);
  const AlertSettings& lag = config.monitor.alerts.at("replication_lag_ms");
  EXPECT_EQ(lag.recover_at, 2000);
  EXPECT_EQ(lag.recover_for, milliseconds(30000));
  EXPECT_EQ(lag.severity, Severity::critical);
  EXPECT_FALSE(lag.for_duration.has_value());
  EXPECT_EQ(config.metrics.pushgateway_url, "http://pushgateway:9091");
  EXPECT_EQ(config.metrics.job, "billing-batch");
}

TEST(ConfigMonitor, MistakesNameTheKey) {
  EXPECT_CONTAINS(parse_error("[monitor]\nwatch = [\"deadlocks\"]\n"),
                  "x.toml:2: monitor.watch: unknown metric group 'deadlocks'");
  EXPECT_CONTAINS(parse_error("[monitor.alerts.query_time]\nseverity = \"critical\"\n"),
                  "monitor.alerts.query_time: unknown key");
  EXPECT_CONTAINS(parse_error("[monitor.alerts.deadlock_count]\nseverity = \"page\"\n"),
                  "monitor.alerts.deadlock_count.severity: unknown severity 'page'");
  EXPECT_CONTAINS(parse_error("[monitor.alerts.connection_count]\nrecover_at = 150\n"),
                  "recover_at: 150 is past the threshold 100");
  EXPECT_CONTAINS(parse_error("[monitor.alerts.cache_hit_ratio]\nrecover_at = 0.5\n"),
                  "recover_at must be at or above the threshold");
  EXPECT_CONTAINS(
      parse_error("[monitor]\nalertmanager_url = \"alertmanager:9093\"\n"),
      "monitor.alertmanager_url: 'alertmanager:9093' is not an http:// or https:// URL");
  const std::string secret = parse_error("[metrics]\npushgateway_url = \"ftp://u:hunter2@gw\"\n");
  EXPECT_CONTAINS(secret, "metrics.pushgateway_url");
  EXPECT_NOT_CONTAINS(secret, "hunter2");
  EXPECT_CONTAINS(parse_error("[metrics]\njob = \"\"\n"), "metrics.job: must not be empty");
  EXPECT_CONTAINS(parse_error("[monitor]\nmax_fingerprints = 0\n"),
                  "monitor.max_fingerprints: must be at least 1");
}

TEST(ConfigMonitor, EnvironmentVariablesReachTheNewKeys) {
  TempDir dir;
  const std::string path = write_file(dir, "nexdb.toml", "[monitor]\ninterval_ms = 1000\n");
  ScopedEnv severity("NEXDB_MONITOR_ALERTS_QUERY_DURATION_MS_SEVERITY", "critical");
  ScopedEnv for_ms("NEXDB_MONITOR_ALERTS_QUERY_DURATION_MS_FOR_MS", "5000");
  ScopedEnv watch("NEXDB_MONITOR_WATCH", "query_duration, pool");
  ScopedEnv gateway("NEXDB_METRICS_PUSHGATEWAY_URL", "http://gw:9091");
  const Config config = Config::load(path);
  EXPECT_EQ(config.monitor.alerts.at("query_duration_ms").severity, Severity::critical);
  EXPECT_EQ(config.monitor.alerts.at("query_duration_ms").for_duration, milliseconds(5000));
  EXPECT_EQ(config.monitor.watch, (std::vector<std::string>{"query_duration", "pool"}));
  EXPECT_EQ(config.metrics.pushgateway_url, "http://gw:9091");
  EXPECT_EQ(config.origins.at("monitor.alerts.query_duration_ms.severity"),
            "env NEXDB_MONITOR_ALERTS_QUERY_DURATION_MS_SEVERITY");
}

TEST(ConfigMonitor, DescribeMasksSinkPasswords) {
  const Config config =
      Config::parse("[monitor]\nwebhook_url = \"https://bot:s3cret@hooks.example.com/x\"\n");
  const std::string text = config.describe().to_text();
  EXPECT_CONTAINS(text, "monitor.webhook_url = \"https://bot:***@hooks.example.com/x\"");
  EXPECT_NOT_CONTAINS(text, "s3cret");
}

}  // namespace
}  // namespace nexdb::test
