#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

TEST(CliPostgres, DemoRunsOnTheLocalCluster) {
  TempDir dir;
  const auto result = run_cli("--format json demo --postgres --users 50 --orders 700", dir.path(),
                              "NEXDB_PG_PRIMARY='" + pg_primary_uri() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto report = nlohmann::json::parse(result.output);
  EXPECT_EQ(report["dialect"], "postgres");
  auto conn = connect(pg_primary_uri());
  const Rows expected = conn->execute(
      "SELECT o.id FROM orders o JOIN users u ON o.user_id = u.id WHERE u.id = 42 "
      "ORDER BY o.created_at DESC LIMIT 100");
  ASSERT_EQ(report["seed_query"]["rows"], expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(report["seed_query"]["first_rows"][i]["id"].get<std::int64_t>(), expected[i].get<std::int64_t>(0));
  }
  EXPECT_NE(report["seed_query"]["sql"].get<std::string>().find("LIMIT $2"), std::string::npos);
  EXPECT_EQ(report["failing_transaction"]["users_before"], report["failing_transaction"]["users_after"]);
}

}  // namespace
}  // namespace nexdb::test
