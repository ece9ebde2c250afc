// Eight `nexdb migrate up` processes at once against one real PostgreSQL database.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

TEST(CliMigratePostgres, EightConcurrentRunnersApplyEachMigrationOnce) {
  PgSchema schema;
  TempDir dir;
  const std::string folder = dir.path() + "/m";
  std::filesystem::create_directories(folder);
  std::ofstream(folder + "/V1__create_marks.sql") << "CREATE TABLE marks (version TEXT NOT NULL);";
  for (int v = 2; v <= 10; ++v) {
    std::ofstream(folder + "/V" + std::to_string(v) + "__mark.sql")
        << "INSERT INTO marks VALUES ('" << v << "'); SELECT pg_sleep(0.01);";
  }
  std::ofstream(dir.path() + "/nexdb.toml") << "[clusters.main]\nprimary = \"" << schema.uri() << "\"\n";
  std::vector<std::thread> runners;
  std::vector<CommandResult> results(8);
  for (std::size_t i = 0; i < results.size(); ++i) {
    runners.emplace_back([&, i] { results[i] = run_cli("--config nexdb.toml migrate --folder m up", dir.path()); });
  }
  for (auto& t : runners) t.join();
  for (const auto& r : results) EXPECT_EQ(r.exit_code, 0) << r.output;
  auto conn = connect(schema.uri());
  EXPECT_EQ(conn->execute("SELECT count(*) FROM marks").scalar<std::int64_t>(), 9);
  EXPECT_EQ(conn->execute("SELECT count(DISTINCT version) FROM marks").scalar<std::int64_t>(), 9);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM nexdb_schema_history WHERE success").scalar<std::int64_t>(), 10);
}

}  // namespace
}  // namespace nexdb::test
