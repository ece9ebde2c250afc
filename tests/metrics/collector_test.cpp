// MetricsCollector over HTTP: /metrics with content negotiation, /healthz, pages, and a real
// Prometheus Pushgateway.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nexdb/error.hpp"
#include "nexdb/metrics.hpp"
#include "support/service.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using test::http_get;
using ::testing::HasSubstr;
using ::testing::Not;

MetricsSettings local(metrics::Registry& registry) {
  return {.labels = {{"environment", "test"}}, .listen = "127.0.0.1:0", .registry = &registry};
}

TEST(MetricsCollector, ServesMetricsWithConstantLabels) {
  metrics::Registry registry;
  registry.counter("app_requests_total", "Requests", {"route"}).with({"/a"}).inc(2);
  MetricsCollector collector(local(registry));
  ASSERT_GT(collector.port(), 0);
  EXPECT_EQ(collector.url(), "http://127.0.0.1:" + std::to_string(collector.port()));
  const auto reply = http_get("127.0.0.1", collector.port(), "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.content_type, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(reply.body, HasSubstr("app_requests_total{environment=\"test\",route=\"/a\"} 2\n"));
  EXPECT_EQ(collector.scrape(), reply.body);
}

TEST(MetricsCollector, OpenMetricsWhenAsked) {
  metrics::Registry registry;
  registry.counter("app_jobs_total", "Jobs").with({}).inc();
  MetricsCollector collector(local(registry));
  const auto reply = http_get("127.0.0.1", collector.port(), "/metrics",
                              "application/openmetrics-text;version=1.0.0,text/plain;q=0.5");
  EXPECT_THAT(reply.content_type, HasSubstr("application/openmetrics-text"));
  EXPECT_THAT(reply.body, HasSubstr("# TYPE app_jobs counter\n"));
  EXPECT_TRUE(reply.body.ends_with("# EOF\n"));
}

TEST(MetricsCollector, HealthzReportsTheHealthCheck) {
  metrics::Registry registry;
  MetricsCollector collector(local(registry));
  auto reply = http_get("127.0.0.1", collector.port(), "/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr(R"("status":"ok")"));
  collector.set_health_check(
      [] { return HealthReport{.healthy = false, .body = R"({"status":"db down"})"}; });
  reply = http_get("127.0.0.1", collector.port(), "/healthz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_THAT(reply.body, HasSubstr("db down"));
}

TEST(MetricsCollector, PagesIndexAndNotFound) {
  metrics::Registry registry;
  MetricsCollector collector(local(registry));
  EXPECT_THAT(http_get("127.0.0.1", collector.port(), "/").body, HasSubstr("/metrics"));
  collector.add_page("/", "text/plain", [] { return std::string("dashboard"); });
  EXPECT_EQ(http_get("127.0.0.1", collector.port(), "/").body, "dashboard");
  EXPECT_EQ(http_get("127.0.0.1", collector.port(), "/nope").status, 404);
}

TEST(MetricsCollector, BadSettingsAndTakenPorts) {
  metrics::Registry registry;
  auto settings = local(registry);
  settings.storage = "influxdb";
  EXPECT_THROW(MetricsCollector{settings}, ConfigError);
  settings = local(registry);
  settings.labels = {{"bad-name", "x"}};
  EXPECT_THROW(MetricsCollector{settings}, ConfigError);
  settings = local(registry);
  settings.listen = "localhost";
  EXPECT_THROW(MetricsCollector{settings}, ConfigError);
  settings = local(registry);
  settings.pushgateway = "ftp://gateway";
  EXPECT_THROW(MetricsCollector{settings}, ConfigError);
  MetricsCollector first(local(registry));
  settings = local(registry);
  settings.listen = "127.0.0.1:" + std::to_string(first.port());
  EXPECT_THROW(MetricsCollector{settings}, ConnectionError);
}

TEST(MetricsCollector, NotServingMeansNoPortAndPushNeedsAGateway) {
  metrics::Registry registry;
  MetricsCollector collector({.listen = "", .registry = &registry});
  EXPECT_EQ(collector.port(), 0);
  EXPECT_EQ(collector.url(), "");
  EXPECT_THROW(collector.push(), UsageError);
}

class Pushgateway : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = test::free_port();
    gateway_ = std::make_unique<test::ChildProcess>(
        std::vector<std::string>{"prometheus-pushgateway",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
        dir_.path() + "/pushgateway.log");
    ASSERT_TRUE(test::wait_until_ready("127.0.0.1", port_, "/-/ready")) << gateway_->log_tail();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string gateway_metrics() const { return http_get("127.0.0.1", port_, "/metrics").body; }

  test::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<test::ChildProcess> gateway_;
};

TEST_F(Pushgateway, PushPutsTheRegistryUnderItsGroupingKey) {
  metrics::Registry registry;
  registry.counter("app_pushed_total", "Pushed").with({}).inc(5);
  MetricsCollector collector({.labels = {{"environment", "test"}, {"instance", "ignored"}},
                              .listen = "",
                              .pushgateway = url(),
                              .job = "nexdb_test",
                              .grouping = {{"instance", "batch/7"}},
                              .registry = &registry});
  collector.push();
  const std::string text = gateway_metrics();
  EXPECT_THAT(
      text,
      HasSubstr(R"(app_pushed_total{environment="test",instance="batch/7",job="nexdb_test"} 5)"));
}

TEST_F(Pushgateway, PushesEveryExportIntervalAndOnceMoreAtShutdown) {
  metrics::Registry registry;
  auto& counter = registry.counter("app_ticks_total", "Ticks").with({});
  {
    MetricsCollector collector({.export_interval = std::chrono::milliseconds(100),
                                .listen = "",
                                .pushgateway = url(),
                                .job = "ticker",
                                .registry = &registry});
    counter.inc();
    EXPECT_TRUE(test::eventually([&] {
      return gateway_metrics().find("app_ticks_total{instance=\"\",job=\"ticker\"} 1") !=
             std::string::npos;
    })) << gateway_metrics();
    counter.inc(41);
  }
  EXPECT_THAT(gateway_metrics(), HasSubstr("app_ticks_total{instance=\"\",job=\"ticker\"} 42"));
}

TEST_F(Pushgateway, AnUnreachableGatewayIsAConnectionError) {
  metrics::Registry registry;
  registry.gauge("g", "G").with({}).set(1);
  MetricsCollector collector(
      {.listen = "",
       .pushgateway = "http://127.0.0.1:" + std::to_string(test::free_port()),
       .registry = &registry});
  EXPECT_THROW(collector.push(), ConnectionError);
}

}  // namespace
}  // namespace nexdb
