// `nexdb backup` and `nexdb archive` as an operator runs them, on the embedded SQLite database.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct CliBackup : ::testing::Test {
  TempDir dir;
  void SetUp() override {
    ASSERT_EQ(run_cli("demo --users 20 --orders 9000", dir.path()).exit_code, 0);
  }
  Json json(const std::string& args, int expected_exit = 0) {
    const auto r = run_cli("--format json " + args + " 2>/dev/null", dir.path());
    EXPECT_EQ(r.exit_code, expected_exit) << args << "\n" << r.output;
    return Json::parse(r.output);
  }
};

TEST_F(CliBackup, CreateListVerifyRestorePrune) {
  const Json created = json("backup create --label cli");
  const std::string id = created["id"];
  EXPECT_EQ(created["kind"], "sqlite");
  EXPECT_EQ(created["parts"][0]["schema_version"], "1.1.0");

  const Json listed = json("backup list");
  ASSERT_EQ(listed.size(), 1u);  // the demo keeps its backups in a repository of its own
  EXPECT_EQ(listed[0]["id"], id);
  EXPECT_EQ(listed[0]["label"], "cli");

  const Json verified = json("backup verify " + id);
  EXPECT_TRUE(verified["ok"].get<bool>());
  EXPECT_GE(verified["checks"].size(), 5u);

  const std::string target = "sqlite:" + dir.path() + "/restored.db";
  const Json restored = json("backup restore " + id + " --to " + target);
  EXPECT_EQ(restored["part"], "default");
  auto conn = connect(target);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM users").scalar<std::int64_t>(), 20);
  EXPECT_EQ(run_cli("backup restore " + id + " --to " + target, dir.path()).exit_code,
            1);  // not empty
  EXPECT_EQ(run_cli("backup restore " + id + " --to " + target + " --force", dir.path()).exit_code,
            0);

  EXPECT_EQ(run_cli("backup prune", dir.path()).exit_code, 2);  // no rule given anywhere
  const Json pruned = json("backup prune --keep-last 1");
  EXPECT_EQ(pruned["kept"], Json::array({id}));
  EXPECT_EQ(json("backup list").size(), 1u);
}

/// Flips a byte of a SQLite backup's file, so that it fails verification.
void corrupt(const std::string& dir, const std::string& id) {
  const fs::path file =
      fs::path(dir) / "nexdb-data" / "backups" / id / "default" / "database.sqlite3";
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(2000);
  f.put('\x01');
}

TEST_F(CliBackup, PruneNeverRemovesTheOnlyVerifiedBackup) {
  const std::string good = json("backup create")["id"];
  EXPECT_TRUE(json("backup verify " + good)["ok"].get<bool>());
  const std::string bad = json("backup create")["id"];
  corrupt(dir.path(), bad);
  EXPECT_FALSE(json("backup verify " + bad, 1)["ok"].get<bool>());
  const Json pruned = json("backup prune --keep-last 1");
  EXPECT_EQ(pruned["kept"], Json::array({good}));
  EXPECT_EQ(pruned["removed"], Json::array({bad}));
  const Json left = json("backup list");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["id"], good);
}

TEST_F(CliBackup, TheDemoLeavesTheUsersBackupsAlone) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(json("backup create")["id"]);
  ASSERT_EQ(run_cli("demo --users 20 --orders 500", dir.path()).exit_code, 0);
  const Json listed = json("backup list");
  ASSERT_EQ(listed.size(), 4u) << "the demo pruned the default repository";
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(listed[i]["id"], ids[i]);
  EXPECT_TRUE(fs::exists(fs::path(dir.path()) / "nexdb-data" / "demo-backups"));
}

TEST_F(CliBackup, AFailedVerificationExitsWithOne) {
  const std::string id = json("backup create")["id"];
  corrupt(dir.path(), id);
  const Json report = json("backup verify " + id, 1);
  EXPECT_FALSE(report["ok"].get<bool>());
  const auto listed = run_cli("backup list", dir.path());
  EXPECT_NE(listed.output.find("FAILED"), std::string::npos) << listed.output;
  EXPECT_EQ(run_cli("backup verify no-such-id", dir.path()).exit_code, 1);
}

TEST_F(CliBackup, ArchiveDryRunThenForRealThenToAFile) {
  const std::string where = "--where \"created_at < '2026-02-05'\"";
  const Json dry = json("archive --table orders " + where + " --dry-run");
  const auto matching = dry[0]["matching"].get<std::int64_t>();
  EXPECT_GT(matching, 0);
  auto conn = connect("sqlite:" + dir.path() + "/nexdb-data/nexdb.db");
  const auto before = conn->execute("SELECT count(*) FROM orders").scalar<std::int64_t>();

  const Json moved = json("archive --table orders " + where + " --to old_orders --batch-size 50");
  EXPECT_EQ(moved[0]["rows"].get<std::int64_t>(), matching);
  EXPECT_EQ(moved[0]["batches"].get<std::int64_t>(), (matching + 49) / 50);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM old_orders").scalar<std::int64_t>(), matching);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), before - matching);

  const Json to_file =
      json("archive --table orders --where \"created_at < '2026-02-10'\" --to old.jsonl");
  const auto lines = to_file[0]["rows"].get<std::int64_t>();
  EXPECT_GT(lines, 0);
  std::ifstream in(dir.path() + "/old.jsonl");
  std::int64_t count = 0;
  for (std::string line; std::getline(in, line);) ++count;
  EXPECT_EQ(count, lines);
}

TEST_F(CliBackup, ArchiveUsageErrorsExitWithTwo) {
  EXPECT_EQ(run_cli("archive --table orders", dir.path()).exit_code, 2);  // no --where
  EXPECT_EQ(run_cli("archive --table orders --where true --to-table x", dir.path()).exit_code, 2);
  EXPECT_EQ(run_cli("archive --table orders --where true --to out.parquet/", dir.path()).exit_code,
            2);
  EXPECT_EQ(run_cli("archive --table orders --where true --batch-size 0", dir.path()).exit_code, 2);
  EXPECT_EQ(run_cli("archive --table no_such --where true", dir.path()).exit_code, 1);
  EXPECT_EQ(run_cli("backup create --kind incremental", dir.path()).exit_code, 2);
  EXPECT_EQ(run_cli("backup create --kind logical", dir.path()).exit_code,
            1);  // SQLite has no pg_dump backup
}

TEST_F(CliBackup, TheDemoBacksUpVerifiesAndArchives) {
  const Json demo = json("demo --users 20 --orders 3000");
  EXPECT_TRUE(demo["backup"]["verified"].get<bool>());
  EXPECT_GT(demo["archive"]["rows"].get<std::int64_t>(), 0);
  auto conn = connect("sqlite:" + dir.path() + "/nexdb-data/nexdb.db");
  EXPECT_EQ(conn->execute("SELECT count(*) FROM orders_archive").scalar<std::int64_t>(),
            demo["archive"]["rows"].get<std::int64_t>());
  EXPECT_EQ(conn->execute("SELECT count(*) FROM orders").scalar<std::int64_t>() +
                conn->execute("SELECT count(*) FROM orders_archive").scalar<std::int64_t>(),
            3000);
}

}  // namespace
}  // namespace nexdb::test
