// `nexdb migrate ...` and `nexdb config check` as an operator runs them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

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

TEST(CliMigrate, EightConcurrentRunnersOnOneSqliteFileApplyEachMigrationOnce) {
  TempDir dir;
  const std::string folder = dir.path() + "/m";
  std::filesystem::create_directories(folder);
  write(folder + "/V1__create_marks.sql", "CREATE TABLE marks (version TEXT NOT NULL);");
  for (int v = 2; v <= 10; ++v) {
    write(folder + "/V" + std::to_string(v) + "__mark.sql", "INSERT INTO marks VALUES ('" + std::to_string(v) + "');");
  }
  std::vector<std::thread> runners;
  std::vector<CommandResult> results(8);
  for (std::size_t i = 0; i < results.size(); ++i) {
    runners.emplace_back([&, i] { results[i] = run_cli("migrate --folder m up", dir.path()); });
  }
  for (auto& t : runners) t.join();
  for (const auto& r : results) EXPECT_EQ(r.exit_code, 0) << r.output;
  auto conn = connect("sqlite:" + dir.path() + "/nexdb-data/nexdb.db");
  EXPECT_EQ(conn->execute("SELECT count(*) FROM marks").scalar<std::int64_t>(), 9);
  EXPECT_EQ(conn->execute("SELECT count(DISTINCT version) FROM marks").scalar<std::int64_t>(), 9);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM nexdb_schema_history WHERE success").scalar<std::int64_t>(), 10);
}

TEST(CliMigrate, AMissingFolderIsAConfigurationErrorExitingWithTwo) {
  TempDir dir;
  const CommandResult result = run_cli("migrate --folder no-such-folder up", dir.path());
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("no-such-folder"), std::string::npos) << result.output;
}

// Three clusters; the second fails: the first is migrated, the third not attempted, exit 1, and
// the JSON report says which cluster is where.
TEST(CliMigrate, ARolloutStopsAtTheFirstFailingClusterAndReportsEach) {
  TempDir dir;
  const std::string folder = dir.path() + "/m";
  std::filesystem::create_directories(folder);
  write(folder + "/V1__create_t.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);");
  // b already has a table t: its migration 1 fails.
  connect("sqlite:" + dir.path() + "/b.db")->execute("CREATE TABLE t (x INTEGER)");
  write(dir.path() + "/nexdb.toml",
        "[clusters.a]\nprimary = \"sqlite:a.db\"\n[clusters.b]\nprimary = \"sqlite:b.db\"\n"
        "[clusters.c]\nprimary = \"sqlite:c.db\"\n");
  const CommandResult result = run_cli("--config nexdb.toml --format json migrate --folder m up", dir.path());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const auto json_start = result.output.find('[');
  ASSERT_NE(json_start, std::string::npos) << result.output;
  const auto report = nlohmann::json::parse(result.output.substr(json_start));
  ASSERT_EQ(report.size(), 3u) << report.dump(2);
  EXPECT_EQ(report[0]["cluster"], "a");
  EXPECT_NE(report[0]["result"], "failed") << report[0].dump();
  EXPECT_EQ(report[1]["cluster"], "b");
  EXPECT_EQ(report[1]["result"], "failed");
  EXPECT_NE(report[1]["error"].get<std::string>().find("already exists"), std::string::npos) << report[1].dump();
  EXPECT_EQ(report[2]["cluster"], "c");
  EXPECT_EQ(report[2]["result"], "not_attempted");
  EXPECT_EQ(connect("sqlite:" + dir.path() + "/a.db")->execute("SELECT count(*) FROM t").scalar<std::int64_t>(), 0);
  const std::string c = dir.path() + "/c.db";  // opening may create the file; never migrated
  if (std::filesystem::exists(c)) {
    EXPECT_EQ(connect("sqlite:" + c)->execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").scalar<std::int64_t>(), 0);
  }
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
