// `nexdb explain` and `nexdb index suggest` on PostgreSQL: generic plans for statements known only
// with placeholders, and advice from pg_stat_statements.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

class CliIndexPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/nexdb.toml")
        << "[clusters.main]\nprimary = \"" << schema_.uri() << "\"\n";
    Database db = Database::open(schema_.uri());
    db.execute("CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL)");
    db.execute(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status TEXT, "
        "total FLOAT8, created_at TIMESTAMPTZ NOT NULL)");
    db.execute("INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 500) g");
    db.execute(
        "INSERT INTO orders SELECT g, 1 + g % 500, 'paid', g, now() - g * interval '1 minute' "
        "FROM generate_series(1, 20000) g");
    Lease lease = db.connection();
    lease->execute_script("ANALYZE users");
    lease->execute_script("ANALYZE orders");
  }
  nlohmann::json json(const std::string& arguments) {
    const auto result = run_cli("--format json " + arguments, dir_.path());
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return nlohmann::json::parse(result.output);
  }

  PgSchema schema_;
  TempDir dir_;
};

constexpr const char* kSeedSql =
    "'SELECT o.id FROM orders o JOIN users u ON o.user_id = u.id WHERE u.id = $1 "
    "ORDER BY o.created_at DESC LIMIT 100'";

TEST_F(CliIndexPostgres, ExplainPlansAStatementWithoutValuesGenerically) {
  const auto report = json(std::string("explain ") + kSeedSql);
  EXPECT_EQ(report["plan"]["dialect"], "postgres");
  EXPECT_GT(report["plan"]["total_cost"].get<double>(), 0);
  EXPECT_NE(report["plan"]["text"].get<std::string>().find("Seq Scan on orders"), std::string::npos)
      << report.dump(2);
  EXPECT_EQ(report["findings"][0]["kind"], "sequential_scan");
  EXPECT_EQ(json(std::string("explain ") + kSeedSql + " --param 7")["findings"][0]["table"],
            "orders");
}

TEST_F(CliIndexPostgres, SuggestFromPgStatStatements) {
  Database db = Database::open(schema_.uri());
  for (int i = 1; i <= 100; ++i) {
    (void)db.execute(
        "SELECT o.id FROM orders o JOIN users u ON o.user_id = u.id WHERE u.id = $1 "
        "ORDER BY o.created_at DESC LIMIT 100",
        i);
  }
  const auto suggestions = json("index suggest --top 200");
  bool found = false;
  for (const auto& s : suggestions) {
    found |= s["table"] == "orders" && s["columns"] == nlohmann::json{"user_id", "created_at"};
    EXPECT_LE(s["cost_after"].get<double>(), s["cost_before"].get<double>() * 0.5) << s.dump(2);
  }
  EXPECT_TRUE(found) << suggestions.dump(2);
  EXPECT_TRUE(json(std::string("index suggest ") + kSeedSql).size() == 1);
}

}  // namespace
}  // namespace nexdb::test
