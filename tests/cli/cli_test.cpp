#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

TEST(Cli, DemoOnTheEmbeddedDefaultRunsTheSeedQuery) {
  TempDir dir;
  const auto result = run_cli("--format json demo --users 60 --orders 900", dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto report = nlohmann::json::parse(result.output);
  EXPECT_EQ(report["dialect"], "sqlite");
  EXPECT_EQ(report["inserted"]["users"], 60);
  EXPECT_EQ(report["inserted"]["orders"], 900);

  // Recompute get_user_orders(42) by hand on the database the demo left behind (the demo ran
  // the query before it archived the oldest orders).
  auto conn = connect("sqlite:" + dir.path() + "/nexdb-data/nexdb.db");
  const Rows expected = conn->execute(
      "SELECT o.id FROM (SELECT * FROM orders UNION ALL SELECT * FROM orders_archive) o "
      "JOIN users u ON o.user_id = u.id WHERE u.id = 42 "
      "ORDER BY o.created_at DESC LIMIT 100");
  ASSERT_GT(expected.size(), 0u);
  ASSERT_EQ(report["seed_query"]["rows"], expected.size());
  const auto& shown = report["seed_query"]["first_rows"];
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(shown[i]["id"].get<std::int64_t>(), expected[i].get<std::int64_t>(0)) << "row " << i;
  }
  EXPECT_NE(report["seed_query"]["sql"].get<std::string>().find("LIMIT ?"), std::string::npos);

  // The failing transaction left nothing behind.
  EXPECT_EQ(report["failing_transaction"]["users_before"], report["failing_transaction"]["users_after"]);
  EXPECT_NE(report["failing_transaction"]["error"].get<std::string>().find("23505"), std::string::npos);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM users WHERE email = 'new@example.com'").scalar<std::int64_t>(), 0);

  // The async step: the same rows as the blocking API; the pipeline failed at the duplicate
  // insert (index 1) and its update was undone.
  const auto& async = report["async"];
  EXPECT_EQ(async["coroutines"], 60);
  EXPECT_EQ(async["rows"], async["blocking_rows"]);
  EXPECT_GT(async["rows"].get<std::int64_t>(), 0);
  EXPECT_EQ(async["pipeline_failed_index"], 1);
  EXPECT_EQ(async["pipeline_error"], "23505");
  EXPECT_EQ(async["status_before"], async["status_after"]);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM users WHERE status = 'async'").scalar<std::int64_t>(), 0);

  std::int64_t orders = 0;
  for (const auto& [status, count] : report["orders_by_status"].items()) orders += count.get<std::int64_t>();
  EXPECT_EQ(orders, 900);
}

TEST(Cli, DemoRunsTwiceOnTheSameDirectory) {
  TempDir dir;
  ASSERT_EQ(run_cli("demo --users 5 --orders 10", dir.path()).exit_code, 0);
  const auto second = run_cli("demo --users 5 --orders 10", dir.path());
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("get_user_orders"), std::string::npos);
}

TEST(Cli, BadUsageExitsWithTwo) {
  EXPECT_EQ(run_cli("demo --users 0").exit_code, 2);
  EXPECT_EQ(run_cli("no-such-command").exit_code, 2);
  EXPECT_EQ(run_cli("--format xml demo").exit_code, 2);
  EXPECT_EQ(run_cli("--version").exit_code, 0);
}

TEST(Cli, DemoPostgresWithNoServerSaysHowToStartOne) {
  TempDir dir;
  const auto result = run_cli("demo --postgres", dir.path(),
                              "NEXDB_PG_PRIMARY= NEXDB_PG_PORT=" + std::to_string(closed_port()));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("scripts/pg-cluster start"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace nexdb::test
