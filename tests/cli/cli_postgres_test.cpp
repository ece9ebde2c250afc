#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
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
      "SELECT o.id FROM (SELECT * FROM orders UNION ALL SELECT * FROM orders_archive) o "
      "JOIN users u ON o.user_id = u.id WHERE u.id = 42 "
      "ORDER BY o.created_at DESC LIMIT 100");
  ASSERT_EQ(report["seed_query"]["rows"], expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(report["seed_query"]["first_rows"][i]["id"].get<std::int64_t>(), expected[i].get<std::int64_t>(0));
  }
  EXPECT_NE(report["seed_query"]["sql"].get<std::string>().find("LIMIT $2"), std::string::npos);
  EXPECT_EQ(report["failing_transaction"]["users_before"], report["failing_transaction"]["users_after"]);

  // Reads went to the replicas only, and the session read its own write.
  std::int64_t replica_reads = 0;
  for (const auto& host : report["replicas"]["hosts"]) {
    if (host["role"] == "primary") {
      EXPECT_EQ(host["reads"], 0) << host;
    } else {
      replica_reads += host["reads"].get<std::int64_t>();
    }
  }
  EXPECT_EQ(replica_reads, 300);
  EXPECT_EQ(report["replicas"]["read_your_writes"], "vip");
  EXPECT_EQ(conn->execute("SELECT status FROM users WHERE id = 42").scalar<std::string>(), "vip");
}

}  // namespace
}  // namespace nexdb::test

namespace nexdb::test {
namespace {

TEST(CliPostgres, ReplicaStatusShowsEachHostsRoleAndHealth) {
  TempDir dir;
  std::ofstream(dir.path() + "/nexdb.toml") << "[clusters.main]\nprimary = \"" << pg_primary_uri()
                                            << "\"\nreplicas = [\"" << pg_replica_uri(1) << "\", \""
                                            << pg_replica_uri(2) << "\"]\n";
  const auto healthy = run_cli("--format json replica status", dir.path());
  ASSERT_EQ(healthy.exit_code, 0) << healthy.output;
  const auto json = nlohmann::json::parse(healthy.output.substr(healthy.output.find('[')));
  ASSERT_EQ(json[0]["hosts"].size(), 3u);
  EXPECT_EQ(json[0]["hosts"][0]["role"], "primary");
  EXPECT_EQ(json[0]["hosts"][1]["role"], "replica");
  EXPECT_EQ(json[0]["hosts"][2]["role"], "replica");
  for (const auto& host : json[0]["hosts"]) EXPECT_TRUE(host["healthy"].get<bool>()) << host;

  // A replica that does not answer: reported down, exit code 1.
  std::ofstream(dir.path() + "/dead.toml") << "[clusters.main]\nprimary = \"" << pg_primary_uri()
                                           << "\"\nreplicas = [\"postgresql://nexdb@127.0.0.1:"
                                           << closed_port() << "/nexdb\"]\n";
  const auto degraded = run_cli("--config dead.toml --format json replica status", dir.path());
  EXPECT_EQ(degraded.exit_code, 1) << degraded.output;
  EXPECT_NE(degraded.output.find("\"healthy\": false"), std::string::npos) << degraded.output;
}

// Review item 4: a replica that cannot be reached counts as behind; from the CLI the archiver
// must give up after --max-lag-wait (default finite), say why, and move nothing.
TEST(CliPostgres, ArchiveGivesUpOnAnUnreachableReplicaAfterMaxLagWait) {
  TempDir dir;
  const std::string table = "cli_lag_orders_" + std::to_string(::getpid());
  auto conn = connect(pg_primary_uri());
  conn->execute_script("DROP TABLE IF EXISTS " + table + ", " + table + "_old; CREATE TABLE " +
                       table + " (id bigint PRIMARY KEY); INSERT INTO " + table +
                       " SELECT g FROM generate_series(1, 20) g");
  std::ofstream(dir.path() + "/dead.toml") << "[clusters.main]\nprimary = \"" << pg_primary_uri()
                                           << "\"\nreplicas = [\"postgresql://nexdb@127.0.0.1:"
                                           << closed_port() << "/nexdb?connect_timeout=1\"]\n";
  const auto r = run_cli("--config dead.toml archive --table " + table + " --where true --to " +
                             table + "_old --max-lag-bytes 1024 --max-lag-wait 0.5",
                         dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("could not be reached"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("max_wait 500 ms"), std::string::npos) << r.output;
  EXPECT_EQ(conn->execute("SELECT count(*) FROM " + table).scalar<std::int64_t>(), 20);
  conn->execute_script("DROP TABLE IF EXISTS " + table + ", " + table + "_old");
}

}  // namespace
}  // namespace nexdb::test
