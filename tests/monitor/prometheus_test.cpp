// A real Prometheus scrapes `nexdb serve` (1 s interval) and loads the rules file that
// `nexdb monitor rules` writes; its HTTP API then returns our series with their labels.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/service.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using Json = nlohmann::json;

class PrometheusScrape : public ::testing::Test {
 protected:
  void SetUp() override {
    serve_port_ = test::free_port();
    prometheus_port_ = test::free_port();
    std::ofstream(path("nexdb.toml")) << fmt::format(
        R"(
[clusters.main]
primary = "{}"
replicas = ["{}", "{}"]

[monitor]
interval_ms = 1000

[metrics]
listen = "127.0.0.1:{}"

[metrics.labels]
environment = "test"
service = "scrape-test"
)",
        test::pg_primary_uri(), test::pg_replica_uri(1), test::pg_replica_uri(2), serve_port_);
    const std::string nexdb = NEXDB_CLI_PATH;
    ASSERT_EQ(std::system(fmt::format("'{}' --config '{}' monitor rules --output '{}'", nexdb,
                                      path("nexdb.toml"), path("rules.yml"))
                              .c_str()),
              0);
    serve_ = std::make_unique<test::ChildProcess>(
        std::vector<std::string>{nexdb, "--config", path("nexdb.toml"), "serve"},
        path("serve.log"));
    ASSERT_TRUE(test::wait_until_ready("127.0.0.1", serve_port_, "/healthz")) << serve_->log_tail();
    std::ofstream(path("prometheus.yml")) << fmt::format(R"(global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - '{}'
scrape_configs:
  - job_name: nexdb
    static_configs:
      - targets: ['127.0.0.1:{}']
)",
                                                         path("rules.yml"), serve_port_);
    prometheus_ = std::make_unique<test::ChildProcess>(
        std::vector<std::string>{
            "prometheus", "--config.file=" + path("prometheus.yml"),
            "--storage.tsdb.path=" + path("data"),
            fmt::format("--web.listen-address=127.0.0.1:{}", prometheus_port_)},
        path("prometheus.log"));
    ASSERT_TRUE(test::wait_until_ready("127.0.0.1", prometheus_port_, "/-/ready"))
        << prometheus_->log_tail();
  }
  std::string path(std::string_view name) const { return fmt::format("{}/{}", dir_.path(), name); }
  Json api(const std::string& path_and_query) const {
    const auto reply = test::http_get("127.0.0.1", prometheus_port_, path_and_query);
    return reply.status == 200 ? Json::parse(reply.body) : Json();
  }

  test::TempDir dir_;
  int serve_port_ = 0;
  int prometheus_port_ = 0;
  std::unique_ptr<test::ChildProcess> serve_;
  std::unique_ptr<test::ChildProcess> prometheus_;
};

TEST_F(PrometheusScrape, PrometheusStoresOurSeriesWithTheirLabels) {
  Json result;
  ASSERT_TRUE(test::eventually([&] {
    result = api("/api/v1/query?query=nexdb_up");
    return result.contains("data") && result["data"]["result"].size() == 3;
  })) << result.dump()
      << "\n"
      << prometheus_->log_tail() << "\n"
      << serve_->log_tail();
  std::set<std::string> hosts;
  for (const Json& series : result["data"]["result"]) {
    const Json& labels = series["metric"];
    EXPECT_EQ(labels["job"], "nexdb");
    EXPECT_EQ(labels["cluster"], "main");
    EXPECT_EQ(labels["environment"], "test");
    EXPECT_EQ(labels["service"], "scrape-test");
    EXPECT_EQ(series["value"][1], "1");
    hosts.insert(labels["host"].get<std::string>());
  }
  EXPECT_TRUE(hosts.contains(fmt::format("127.0.0.1:{}/nexdb", test::pg_base_port())));
  const Json primary = api("/api/v1/query?query=nexdb_host_is_primary%3D%3D1");
  ASSERT_EQ(primary["data"]["result"].size(), 1u) << primary.dump();
  EXPECT_EQ(primary["data"]["result"][0]["metric"]["host"],
            fmt::format("127.0.0.1:{}/nexdb", test::pg_base_port()));
  const Json lag = api("/api/v1/query?query=nexdb_replication_lag_bytes");
  EXPECT_EQ(lag["data"]["result"].size(), 2u) << lag.dump();
  // Prometheus asks for OpenMetrics first, and parsed what we answered: it files a counter's
  // metadata under the family name without `_total` (the 0.0.4 text format keeps the suffix).
  const Json metadata = api("/api/v1/metadata?metric=nexdb_server_transactions");
  ASSERT_TRUE(metadata["data"].contains("nexdb_server_transactions")) << metadata.dump();
  EXPECT_EQ(metadata["data"]["nexdb_server_transactions"][0]["type"], "counter");
  const Json commits =
      api("/api/v1/query?query=nexdb_server_transactions_total%7Boutcome%3D%22commit%22%7D");
  EXPECT_EQ(commits["data"]["result"].size(), 3u) << commits.dump();
  const Json targets = api("/api/v1/targets");
  ASSERT_EQ(targets["data"]["activeTargets"].size(), 1u) << targets.dump();
  EXPECT_EQ(targets["data"]["activeTargets"][0]["health"], "up") << targets.dump();
  EXPECT_EQ(targets["data"]["activeTargets"][0]["lastError"], "") << targets.dump();
  // The rules file loaded and evaluates.
  Json rules;
  EXPECT_TRUE(test::eventually([&] {
    rules = api("/api/v1/rules");
    if (!rules.contains("data") || rules["data"]["groups"].empty()) return false;
    const Json& group = rules["data"]["groups"][0];
    return group["rules"].size() == 8 && group["rules"][0]["health"] == "ok";
  })) << rules.dump();
  // And /healthz says the cluster is up.
  const auto health = test::http_get("127.0.0.1", serve_port_, "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(Json::parse(health.body)["status"], "ok");
  EXPECT_NE(test::http_get("127.0.0.1", serve_port_, "/").body.find("127.0.0.1"),
            std::string::npos);
}

}  // namespace
}  // namespace nexdb
