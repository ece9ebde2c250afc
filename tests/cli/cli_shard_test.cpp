// `nexdb shard route|status|recover` and the demo's sharding step, on SQLite shard files.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

// A nexdb.toml with four SQLite shards in `dir` (the seed's map), users by id.
std::string write_sharded_config(const TempDir& dir) {
  std::string toml;
  for (int i = 1; i <= 4; ++i)
    toml +=
        fmt::format("[clusters.db-shard-{}]\nprimary = \"sqlite:{}/s{}.db\"\n", i, dir.path(), i);
  toml +=
      "[shards]\nshard_key = \"user_id\"\nnum_shards = 4\n[shards.tables]\nusers = "
      "\"id\"\n[shards.shard_map]\n";
  for (int i = 0; i < 4; ++i) toml += fmt::format("{} = \"db-shard-{}\"\n", i, i + 1);
  const std::string path = dir.path() + "/nexdb.toml";
  std::ofstream(path) << toml;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(CliShard, RouteShowsTheHashRangeShardAndCluster) {
  TempDir dir;
  const std::string config = write_sharded_config(dir);
  const auto text = run_cli("--config " + config + " shard route 42");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("2e4fe982b68910ac"), std::string::npos)
      << text.output;  // the documented vector
  EXPECT_NE(text.output.find("db-shard-1"), std::string::npos) << text.output;  // shard 0
  const auto json = run_cli("--format json --config " + config + " shard route 1");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto route = nlohmann::json::parse(json.output);
  EXPECT_EQ(route["shard"], 3);
  EXPECT_EQ(route["cluster"], "db-shard-4");
  EXPECT_EQ(route["key_range"], "c0-");
  EXPECT_EQ(route["hash"], "f36b4a1a44f78bf3");
  // An integer key column does not take "abc"; no [shards] at all is a configuration error.
  EXPECT_EQ(run_cli("--config " + config + " shard route abc").exit_code, 2);
  std::ofstream(dir.path() + "/plain.toml") << "[clusters.main]\nprimary = \"sqlite:x.db\"\n";
  const auto none = run_cli("--config " + dir.path() + "/plain.toml shard route 1");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.output.find("no [shards] section"), std::string::npos) << none.output;
}

// Review defect 10: under lookup, the key range shown is the one the hash lands in, and a key
// the directory moved says so (it used to show the range of the directory's shard).
TEST(CliShard, RouteUnderLookupShowsWhereTheHashLandsAndTheDirectory) {
  TempDir dir;
  const std::string path = write_sharded_config(dir);
  std::string toml = read_file(path);
  toml.replace(toml.find("[shards]\n"), 9,
               "[shards]\nfunction = \"lookup\"\nlookup_cluster = \"db-shard-1\"\n");
  std::ofstream(path) << toml;
  // Key 42 hashes into "-40" (shard 0); the directory moves it to shard 2.
  ShardManager::from_config(Config::load(path)).assign(42, 2);
  const auto result = run_cli("--format json --config " + path + " shard route 42");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto route = nlohmann::json::parse(result.output);
  EXPECT_EQ(route["shard"], 2);
  EXPECT_EQ(route["cluster"], "db-shard-3");
  EXPECT_EQ(route["hash"], "2e4fe982b68910ac");
  EXPECT_EQ(route["key_range"], "-40");
  EXPECT_EQ(route["hash_shard"], 0);
  const auto text = run_cli("--config " + path + " shard route 42");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("moved to shard 2"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("-40"), std::string::npos) << text.output;
}

TEST(CliShard, StatusCountsRowsPerShardAndTheSkew) {
  TempDir dir;
  const std::string config = write_sharded_config(dir);
  {
    ShardManager shards = ShardManager::from_config(Config::load(config));
    shards.execute_on_all("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
                          {.sqlite_best_effort = true});
    for (std::int64_t id = 1; id <= 200; ++id)
      shards.execute("INSERT INTO users (id, name) VALUES (?, 'x')", id);
  }
  const auto result = run_cli("--format json --config " + config + " shard status");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto status = nlohmann::json::parse(result.output);
  ASSERT_EQ(status["clusters"].size(), 4u);
  std::int64_t total = 0;
  for (const auto& c : status["clusters"]) {
    EXPECT_TRUE(c["reachable"].get<bool>());
    total += c["rows"]["users"].get<std::int64_t>();
  }
  EXPECT_EQ(total, 200);
  EXPECT_EQ(status["tables"]["users"]["rows"], 200);
  EXPECT_GE(status["tables"]["users"]["skew"].get<double>(), 0.0);
  EXPECT_LT(status["tables"]["users"]["skew"].get<double>(), 0.5);
  const auto text = run_cli("--config " + config + " shard status");
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("skew"), std::string::npos) << text.output;
  const auto recover = run_cli("--config " + config + " shard recover");
  EXPECT_EQ(recover.exit_code, 0) << recover.output;
  EXPECT_NE(recover.output.find("nothing to recover"), std::string::npos) << recover.output;
}

TEST(CliShard, ADownShardMakesStatusExitWithOne) {
  TempDir dir;
  const std::string config = write_sharded_config(dir);
  std::string text = read_file(config);
  const std::string good = fmt::format("sqlite:{}/s4.db", dir.path());
  text.replace(text.find(good), good.size(), "sqlite:/nonexistent-nexdb-dir/s4.db");
  std::ofstream(config) << text;
  const auto result = run_cli("--config " + config + " shard status --table users");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("down"), std::string::npos) << result.output;
}

TEST(CliShard, TheDemoSpreadsTheSeedWorldOverFourShards) {
  TempDir dir;
  const auto result = run_cli("--format json demo --users 80 --orders 600", dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto report = nlohmann::json::parse(result.output);
  const auto& shards = report["shards"];
  std::int64_t users = 0;
  std::int64_t orders = 0;
  for (const auto& s : shards["spread"]) {
    users += s["users"].get<std::int64_t>();
    orders += s["orders"].get<std::int64_t>();
    EXPECT_GT(s["users"].get<std::int64_t>(), 0);
  }
  EXPECT_EQ(users, 80);
  EXPECT_EQ(orders, 600);
  EXPECT_TRUE(shards["get_user_orders"]["same"].get<bool>());
  EXPECT_NE(shards["get_user_orders"]["route"].get<std::string>().find("pinned by user_id = 42"),
            std::string::npos);
  EXPECT_EQ(shards["top100"]["shards"], 4);
  EXPECT_EQ(shards["top100"]["rows"], 100);
  EXPECT_TRUE(shards["top100"]["same"].get<bool>());
}

}  // namespace
}  // namespace nexdb::test
