// Config::describe() and ConfigReport: what `nexdb config check` prints.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config_test_support.hpp"

namespace nexdb::test {
namespace {

const ConfigEntry& entry(const ConfigReport& report, std::string_view key) {
  for (const auto& e : report.entries) {
    if (e.key == key) return e;
  }
  throw std::runtime_error("no entry " + std::string(key));
}

constexpr const char* file_text = R"([pool]
max_size = 12

[clusters.main]
primary = "postgresql://app:topsecret@127.0.0.1:54320/app"
replicas = ["postgresql://app:topsecret@127.0.0.1:54321/app"]

[clusters.main.pool]
min_idle = 3

[metrics.labels]
environment = "production"
)";

TEST(ConfigReport, EveryEntryHasItsValueAndOrigin) {
  TempDir dir;
  const std::string path = write_file(dir, "nexdb.toml", file_text);
  ScopedEnv env("NEXDB_CLUSTERS_MAIN_POOL_ACQUIRE_TIMEOUT_MS", "750");
  const ConfigReport report = Config::load(path).describe();
  EXPECT_EQ(report.source, path);
  EXPECT_EQ(report.environment,
            std::vector<std::string>{"NEXDB_CLUSTERS_MAIN_POOL_ACQUIRE_TIMEOUT_MS"});
  EXPECT_EQ(entry(report, "clusters.main.pool.min_idle").origin, path + ":9");
  EXPECT_EQ(entry(report, "clusters.main.pool.max_size").origin, path + ":2 (pool.max_size)");
  EXPECT_EQ(std::get<std::int64_t>(entry(report, "clusters.main.pool.max_size").value), 12);
  EXPECT_EQ(entry(report, "clusters.main.pool.acquire_timeout_ms").origin,
            "env NEXDB_CLUSTERS_MAIN_POOL_ACQUIRE_TIMEOUT_MS");
  EXPECT_EQ(entry(report, "clusters.main.pool.idle_timeout_ms").origin, "default");
  EXPECT_EQ(entry(report, "clusters.main.read_preference").value_text(), "\"primary\"");
  EXPECT_EQ(entry(report, "metrics.labels.environment").value_text(), "\"production\"");
  EXPECT_EQ(entry(report, "migrations.allow_out_of_order").value_text(), "false");
  EXPECT_EQ(entry(report, "monitor.alert_thresholds.cache_hit_ratio").value_text(), "0.99");
  EXPECT_EQ(entry(report, "shards.count").value_text(), "0");
}

TEST(ConfigReport, PasswordsAreMaskedInEveryForm) {
  const ConfigReport report = Config::parse(file_text).describe();
  EXPECT_EQ(entry(report, "clusters.main.primary").value_text(),
            "\"postgresql://app:***@127.0.0.1:54320/app\"");
  EXPECT_EQ(entry(report, "clusters.main.replicas").value_text(),
            "[\"postgresql://app:***@127.0.0.1:54321/app\"]");
  EXPECT_NOT_CONTAINS(report.to_text(), "topsecret");
  EXPECT_NOT_CONTAINS(report.to_json(), "topsecret");
}

TEST(ConfigReport, JsonIsNestedByKeyWithOrigins) {
  TempDir dir;
  const std::string path = write_file(dir, "nexdb.toml", std::string(file_text) + R"(
[shards]
key = "user_id"
function = "range"
range_starts = [0, 100]
[shards.map]
0 = "main"
1 = "main"
)");
  const auto json = nlohmann::json::parse(Config::load(path).describe().to_json());
  EXPECT_EQ(json["source"], path);
  EXPECT_EQ(json["config"]["clusters"]["main"]["pool"]["max_size"], 12);
  EXPECT_EQ(json["config"]["clusters"]["main"]["pool"]["min_idle"], 3);
  EXPECT_EQ(json["config"]["clusters"]["main"]["connection"]["sqlite_wal"], true);
  EXPECT_EQ(json["config"]["clusters"]["main"]["replicas"].size(), 1u);
  EXPECT_EQ(json["config"]["shards"]["map"]["1"], "main");
  EXPECT_EQ(json["config"]["shards"]["range_starts"], nlohmann::json::array({0, 100}));
  EXPECT_EQ(json["config"]["monitor"]["alert_thresholds"]["cache_hit_ratio"], 0.99);
  EXPECT_EQ(json["origins"]["clusters.main.pool.min_idle"], path + ":9");
  EXPECT_TRUE(json["warnings"].empty());
}

TEST(ConfigReport, TextListsSourcesWarningsAndOneLinePerKey) {
  const Config config = Config::parse("[metrics]\nlisten = \"0.0.0.0:9477\"\n", "prod.toml");
  const std::string text = config.describe().to_text();
  EXPECT_CONTAINS(text, "# nexdb configuration: prod.toml\n");
  EXPECT_CONTAINS(
      text,
      "# warning: metrics.listen = \"0.0.0.0:9477\" serves metrics on every network interface");
  EXPECT_CONTAINS(text, "clusters.default.primary = \"sqlite:nexdb-data/nexdb.db\"");
  EXPECT_CONTAINS(text, "metrics.listen = \"0.0.0.0:9477\"");
  EXPECT_CONTAINS(text, "# prod.toml:2\n");
  const std::string defaults = Config::defaults().describe().to_text();
  EXPECT_CONTAINS(defaults, "# nexdb configuration: built-in defaults (no file)");
  EXPECT_CONTAINS(defaults, "# default\n");
}

TEST(ConfigReport, StringsAreEscaped) {
  const Config config = Config::parse("[connection]\napplication_name = 'say \"hi\" \\ bye'\n");
  const ConfigReport report = config.describe();
  EXPECT_EQ(entry(report, "clusters.default.connection.application_name").value_text(),
            R"("say \"hi\" \\ bye")");
  const auto json = nlohmann::json::parse(report.to_json());
  EXPECT_EQ(json["config"]["clusters"]["default"]["connection"]["application_name"],
            "say \"hi\" \\ bye");
}

}  // namespace
}  // namespace nexdb::test
