// `nexdb migrate ...` and `nexdb config check` as an operator runs them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

const std::string kSeed = std::string(NEXDB_SOURCE_DIR_STRING) + "/migrations";

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(CliMigrate, UpStatusDownOnTheEmbeddedDefault) {
  TempDir dir;
  const std::string folder = " migrate --folder " + kSeed + " ";
  auto up = run_cli(folder + "up", dir.path());
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_NE(up.output.find("none -> 1.1.0"), std::string::npos) << up.output;

  auto status = run_cli("--format json" + folder + "status", dir.path());
  ASSERT_EQ(status.exit_code, 0) << status.output;
  const auto json = nlohmann::json::parse(status.output);
  EXPECT_EQ(json[0]["current_version"], "1.1.0");
  EXPECT_EQ(json[0]["migrations"].size(), 3u);

  ASSERT_EQ(run_cli(folder + "down --steps 1", dir.path()).exit_code, 0);
  auto conn = connect("sqlite:" + dir.path() + "/nexdb-data/nexdb.db");
  EXPECT_THROW(conn->execute("SELECT status FROM users"), SqlError);  // 1.1.0 undone
  EXPECT_EQ(conn->execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 0);
  EXPECT_EQ(run_cli(folder + "verify", dir.path()).exit_code, 0);
}

TEST(CliMigrate, DryRunPrintsTheSqlAndChangesNothing) {
  TempDir dir;
  auto dry = run_cli("migrate --folder " + kSeed + " up --dry-run", dir.path());
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("CREATE TABLE users"), std::string::npos) << dry.output;
  auto conn = connect("sqlite:" + dir.path() + "/nexdb-data/nexdb.db");
  EXPECT_EQ(conn->execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").scalar<std::int64_t>(), 0);
}

TEST(CliMigrate, AFailingMigrationIsNamedAndExitsWithOne) {
  TempDir dir;
  const std::string folder = dir.path() + "/m";
  std::filesystem::create_directories(folder);
  write(folder + "/V1__create_t.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);");
  write(folder + "/V2__broken.sql", "INSERT INTO t VALUES (1); INSERT INTO no_such_table VALUES (1);");
  auto result = run_cli("migrate --folder " + folder + " up", dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("migration 2 (broken)"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("no_such_table"), std::string::npos) << result.output;
  auto conn = connect("sqlite:" + dir.path() + "/nexdb-data/nexdb.db");
  EXPECT_EQ(conn->execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 0);  // rolled back
  // The edited file is applied on the next run.
  write(folder + "/V2__broken.sql", "INSERT INTO t VALUES (1);");
  EXPECT_EQ(run_cli("migrate --folder " + folder + " up", dir.path()).exit_code, 0);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 1);
}

TEST(CliConfig, ErrorsNameFileLineAndKey) {
  TempDir dir;
  write(dir.path() + "/bad.toml", "[pool]\nmax_size = 4\nmax_szie = 3\n");
  auto result = run_cli("--config bad.toml config check", dir.path());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("bad.toml:3"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("max_szie"), std::string::npos) << result.output;
  write(dir.path() + "/good.toml", "[pool]\nmax_size = 4\n");
  auto good = run_cli("--config good.toml --format json config check", dir.path());
  ASSERT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("\"max_size\": 4"), std::string::npos) << good.output;
}

}  // namespace
}  // namespace nexdb::test
