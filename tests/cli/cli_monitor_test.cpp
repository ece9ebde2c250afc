// The monitoring commands as an operator runs them: the demo's monitoring step, `nexdb monitor`
// on the embedded default, `nexdb monitor rules` (checked by promtool) and `nexdb serve`'s
// configuration errors.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/monitor.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using Json = nlohmann::json;

TEST(CliMonitor, DemoShowsMetricsAndAnAlertThatFiresAndResolves) {
  TempDir dir;
  const auto result = run_cli("--format json demo --users 60 --orders 900", dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Json monitoring = Json::parse(result.output)["monitoring"];
  ASSERT_EQ(monitoring["alerts"].size(), 2u) << monitoring.dump();
  EXPECT_EQ(monitoring["alerts"][0]["name"], "NexdbQueryDurationHigh");
  EXPECT_EQ(monitoring["alerts"][0]["state"], "firing");
  EXPECT_EQ(monitoring["alerts"][1]["state"], "resolved");
  const std::string fingerprint = monitoring["seed_query_fingerprint"];
  ASSERT_EQ(fingerprint.size(), 16u);
  bool seed_count = false;
  for (const auto& line : monitoring["metrics"]) {
    const std::string text = line;
    if (text.starts_with("nexdb_query_duration_seconds_count") &&
        text.find(fingerprint) != std::string::npos) {
      seed_count = text.ends_with(" 50");
    }
  }
  EXPECT_TRUE(seed_count) << monitoring.dump(2);
}

TEST(CliMonitor, OneSnapshotOfTheEmbeddedDefault) {
  TempDir dir;
  ASSERT_EQ(run_cli("demo --users 5 --orders 10", dir.path()).exit_code, 0);
  const auto text = run_cli("monitor --once --interval-ms 100", dir.path());
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("nexdb-data/nexdb.db  sqlite"), std::string::npos) << text.output;
  const auto json = run_cli("--format json monitor --interval-ms 100", dir.path());
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const Json snapshot = Json::parse(json.output);
  EXPECT_EQ(snapshot["hosts"][0]["role"], "sqlite");
  EXPECT_EQ(snapshot["hosts"][0]["up"], true);
}

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// On a terminal (a pseudo-terminal from script(1)) the view redraws every interval until
// SIGINT, then exits 0.
TEST(CliMonitor, OnATerminalTheViewRefreshesUntilInterrupted) {
  TempDir dir;
  ASSERT_EQ(run_cli("demo --users 5 --orders 10", dir.path()).exit_code, 0);
  const auto result =
      run_cli_command("script -qfec \"timeout --preserve-status -s INT 4 '" NEXDB_CLI_PATH
                      "' monitor --interval-ms 300\" /dev/null",
                      dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_GE(count(result.output, "\033[H\033[2J"), 3u) << result.output;
  EXPECT_GE(count(result.output, "nexdb-data/nexdb.db"), 3u) << result.output;
  EXPECT_NE(result.output.find("every 300 ms, Ctrl-C to stop"), std::string::npos);
}

// --url shows the monitor an application serves: its pools and its own statements, which a
// monitor in the nexdb process could never see.
TEST(CliMonitor, UrlShowsTheApplicationsPoolsAndStatements) {
  TempDir dir;
  metrics::Registry registry;
  Database db = Database::open("sqlite:" + dir.path() + "/app.db");
  DBMonitor monitor(
      db,
      {.sinks = {callback_sink([](const Alert&) {})}, .registry = &registry, .background = false});
  MetricsCollector collector({.listen = "127.0.0.1:0", .registry = &registry});
  monitor.serve_on(collector);
  db.execute("CREATE TABLE app_orders (id INTEGER PRIMARY KEY, total REAL)");
  for (int i = 0; i < 7; ++i) db.execute("INSERT INTO app_orders (total) VALUES (?)", i * 1.5);
  monitor.sample();
  const auto text = run_cli("monitor --once --url " + collector.url(), dir.path());
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find(collector.url()), std::string::npos) << text.output;
  const auto pools = text.output.find("\npools\n");
  ASSERT_NE(pools, std::string::npos) << text.output;
  EXPECT_NE(text.output.find(dir.path() + "/app.db", pools), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("INSERT INTO app_orders (total) VALUES (?)"), std::string::npos)
      << text.output;
  const auto json = run_cli("--format json monitor --once --url " + collector.url(), dir.path());
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const Json snapshot = Json::parse(json.output);
  EXPECT_EQ(snapshot["hosts"][0]["pool"]["acquired"], db.pool().stats().acquired);
  const auto unreachable =
      run_cli(fmt::format("monitor --once --url http://127.0.0.1:{}", closed_port()), dir.path());
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable.output;
}

TEST(CliMonitor, ADownHostExitsWithOne) {
  TempDir dir;
  std::ofstream(dir.path() + "/nexdb.toml")
      << "[clusters.gone]\nprimary = \"postgresql://nexdb@127.0.0.1:" << closed_port()
      << "/nexdb\"\n";
  const auto result = run_cli("monitor --once --interval-ms 100", dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("DOWN"), std::string::npos) << result.output;
}

TEST(CliMonitor, RulesFilePassesPromtool) {
  TempDir dir;
  std::ofstream(dir.path() + "/nexdb.toml") << R"(
[monitor]
interval_ms = 5000
for_ms = 30000
watch = ["query_duration", "replication_lag", "cache_hit_ratio"]

[monitor.alerts.replication_lag_ms]
recover_at = 1000
recover_for_ms = 60000
severity = "critical"
)";
  const auto written = run_cli("monitor rules --output rules.yml", dir.path());
  ASSERT_EQ(written.exit_code, 0) << written.output;
  const auto checked = run_cli_command("promtool check rules rules.yml", dir.path());
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("SUCCESS: 4 rules found"), std::string::npos) << checked.output;
  const auto printed = run_cli("monitor rules", dir.path());
  EXPECT_NE(printed.output.find("keep_firing_for: 60s"), std::string::npos) << printed.output;
  EXPECT_NE(printed.output.find("severity: critical"), std::string::npos);
  EXPECT_NE(printed.output.find("for: 30s"), std::string::npos);
}

TEST(CliMonitor, ServeConfigurationErrorsExitWithTwo) {
  TempDir dir;
  EXPECT_EQ(run_cli("serve --listen nonsense", dir.path()).exit_code, 2);
  std::ofstream(dir.path() + "/nexdb.toml") << "[metrics]\nlisten = \"\"\n";
  const auto result = run_cli("serve", dir.path());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("--listen"), std::string::npos) << result.output;
  EXPECT_EQ(run_cli("monitor --cluster nope --once", dir.path()).exit_code, 2);
}

}  // namespace
}  // namespace nexdb::test
