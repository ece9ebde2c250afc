// `nexdb demo`'s optimizer step, `nexdb explain` and `nexdb index ...` on the embedded default.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

constexpr const char* kSeedSql =
    "'SELECT o.id FROM orders o JOIN users u ON o.user_id = u.id WHERE u.id = ? "
    "ORDER BY o.created_at DESC LIMIT 100' --param 42";

/// A directory whose embedded database holds the demo's world (20,000 orders, the oldest archived)
/// with the index the demo created dropped again.
class CliIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    demo_ = run_cli("--format json demo", dir_.path());
    ASSERT_EQ(demo_.exit_code, 0) << demo_.output;
    ASSERT_EQ(run_cli("index drop orders_user_id_created_at_idx", dir_.path()).exit_code, 0);
  }
  CommandResult cli(const std::string& arguments) { return run_cli(arguments, dir_.path()); }
  nlohmann::json json(const std::string& arguments) {
    const auto result = cli("--format json " + arguments);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return nlohmann::json::parse(result.output);
  }

  TempDir dir_;
  CommandResult demo_;
};

TEST_F(CliIndex, DemoFindsTheScanSuggestsTheSeedIndexAndUsesIt) {
  const auto report = nlohmann::json::parse(demo_.output)["optimizer"];
  ASSERT_FALSE(report["findings_before"].empty()) << report.dump(2);
  EXPECT_EQ(report["findings_before"][0]["kind"], "sequential_scan");
  EXPECT_EQ(report["findings_before"][0]["table"], "orders");
  ASSERT_FALSE(report["suggestions"].empty());
  EXPECT_EQ(report["suggestions"][0]["table"], "orders");
  EXPECT_EQ(report["suggestions"][0]["columns"], (nlohmann::json{"user_id", "created_at"}));
  EXPECT_NE(report["created"].get<std::string>().find("orders_user_id_created_at_idx"),
            std::string::npos);
  EXPECT_TRUE(report["findings_after"].empty());
  EXPECT_NE(
      report["plan_after"].get<std::string>().find("USING INDEX orders_user_id_created_at_idx"),
      std::string::npos);
  EXPECT_GT(report["mean_us_before"].get<double>(), report["mean_us_after"].get<double>());
}

TEST_F(CliIndex, ExplainShowsThePlanAndItsFindings) {
  const auto text = cli(std::string("explain ") + kSeedSql);
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("SCAN o"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("finding: full scan of orders ("), std::string::npos) << text.output;
  const auto json = this->json(std::string("explain ") + kSeedSql);
  EXPECT_EQ(json["plan"]["dialect"], "sqlite");
  EXPECT_EQ(json["findings"][0]["kind"], "sequential_scan");
  EXPECT_EQ(cli("explain 'SELECT nope FROM orders'").exit_code, 1);
}

TEST_F(CliIndex, SuggestCreateListDrop) {
  const auto suggestions = json(std::string("index suggest ") + kSeedSql);
  ASSERT_EQ(suggestions.size(), 1u) << suggestions.dump(2);
  EXPECT_EQ(suggestions[0]["columns"], (nlohmann::json{"user_id", "created_at"}));
  EXPECT_GE(suggestions[0]["reduction"].get<double>(), 0.5);

  const auto created = json("index create orders user_id created_at");
  EXPECT_EQ(created[0]["action"], "created");
  EXPECT_EQ(json("index create orders user_id created_at")[0]["action"], "already present");
  bool listed = false;
  for (const auto& index : json("index list --table orders")) {
    listed |= index["name"] == "orders_user_id_created_at_idx" &&
              index["columns"] == nlohmann::json{"user_id", "created_at"};
  }
  EXPECT_TRUE(listed);
  EXPECT_TRUE(json(std::string("index suggest ") + kSeedSql).empty());  // served now
  EXPECT_EQ(json("index drop orders_user_id_created_at_idx")[0]["action"], "dropped");
  EXPECT_EQ(json("index drop orders_user_id_created_at_idx")[0]["action"], "absent");
}

TEST_F(CliIndex, DuplicatesAndInvalid) {
  ASSERT_EQ(cli("index create orders user_id").exit_code, 0);
  ASSERT_EQ(cli("index create orders user_id created_at").exit_code, 0);
  const auto duplicates = json("index duplicates");
  ASSERT_EQ(duplicates.size(), 1u);
  EXPECT_EQ(duplicates[0]["unneeded"]["name"], "orders_user_id_idx");
  EXPECT_EQ(duplicates[0]["covering"]["name"], "orders_user_id_created_at_idx");
  EXPECT_TRUE(json("index invalid").empty());
}

TEST_F(CliIndex, UsageErrorsExitWithTwo) {
  EXPECT_EQ(cli("index unused").exit_code, 2);   // SQLite keeps no usage statistics
  EXPECT_EQ(cli("index suggest").exit_code, 2);  // nothing to advise on without pg_stat_statements
  EXPECT_EQ(cli("index create orders user_id --type gin").exit_code, 2);
  EXPECT_EQ(cli("index create orders user_id --type nonsense").exit_code, 2);
  EXPECT_EQ(cli("index create orders").exit_code, 2);
  EXPECT_EQ(cli("index create orders user_id --where '1; DROP TABLE orders'").exit_code, 2);
  EXPECT_EQ(cli("index list --cluster nope").exit_code, 2);
}

}  // namespace
}  // namespace nexdb::test
