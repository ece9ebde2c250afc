// [shards]: the shard map must cover 0..count-1 and name existing clusters.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace nexdb::test {
namespace {

const std::string clusters = R"([clusters.shard0]
primary = "postgresql://app@127.0.0.1:54330/app"
[clusters.shard1]
primary = "postgresql://app@127.0.0.1:54331/app"
)";

TEST(ConfigShards, HashMapWithSharedClusters) {
  const Config config = Config::parse(clusters + R"(
[shards]
key = "user_id"
function = "hash"
count = 4

[shards.map]
0 = "shard0"
1 = "shard1"
2 = "shard0"
3 = "shard1"
)");
  EXPECT_TRUE(config.shards.enabled());
  EXPECT_EQ(config.shards.shard_key, "user_id");
  EXPECT_EQ(config.shards.function, ShardFunction::hash);
  EXPECT_EQ(config.shards.count(), 4u);
  EXPECT_EQ(config.shards.shard_map,
            (std::map<std::size_t, std::string>{{0, "shard0"}, {1, "shard1"}, {2, "shard0"}, {3, "shard1"}}));
  EXPECT_TRUE(config.shards.range_starts.empty());
}

TEST(ConfigShards, NumbersAreOrderedNumericallyAndCountIsInferred) {
  std::string map = "[shards]\nkey = \"tenant\"\n[shards.map]\n";
  for (int i = 11; i >= 0; --i)
    map += std::to_string(i) + " = \"shard" + std::to_string(i % 2) + "\"\n";
  const Config config = Config::parse(clusters + map);
  ASSERT_EQ(config.shards.count(), 12u);
  EXPECT_EQ(config.shards.cluster_of(10), "shard0");
  EXPECT_EQ(config.shards.cluster_of(11), "shard1");
}

TEST(ConfigShards, RangeShards) {
  const Config config = Config::parse(clusters + R"(
[shards]
key = "user_id"
function = "range"
range_starts = [0, 1000000]
[shards.map]
0 = "shard0"
1 = "shard1"
)");
  EXPECT_EQ(config.shards.function, ShardFunction::range);
  EXPECT_EQ(config.shards.range_starts, (std::vector<std::int64_t>{0, 1000000}));
}

TEST(ConfigShards, MapErrorsNameTheEntry) {
  const std::string head = clusters + "[shards]\nkey = \"user_id\"\n";  // lines 1-6
  EXPECT_CONTAINS(
      parse_error(head + "count = 3\n[shards.map]\n0 = \"shard0\"\n1 = \"shard1\"\n"),
      "x.toml:8: shards.map: shard 2 has no cluster: every shard from 0 to 2 needs an entry");
  EXPECT_CONTAINS(parse_error(head + "[shards.map]\n0 = \"shard0\"\n1 = \"shard9\"\n"),
                  "x.toml:9: shards.map.1: no cluster 'shard9' (clusters: shard0, shard1)");
  EXPECT_CONTAINS(parse_error(head + "[shards.map]\n0 = \"shard0\"\n2 = \"shard1\"\n"),
                  "shards.map: shard 1 has no cluster");
  EXPECT_CONTAINS(
      parse_error(head + "count = 1\n[shards.map]\n0 = \"shard0\"\n1 = \"shard1\"\n"),
      "x.toml:10: shards.map.1: shard 1 is out of range: count = 1 means shards 0 to 0");
  EXPECT_CONTAINS(parse_error(head + "[shards.map]\none = \"shard0\"\n"),
                  "x.toml:8: shards.map.one: 'one' is not a shard number");
  EXPECT_CONTAINS(parse_error(head + "[shards.map]\n01 = \"shard0\"\n"),
                  "shards.map.01: '01' is not a shard number");
  EXPECT_CONTAINS(parse_error(head + "[shards.map]\n0 = 1\n"),
                  "x.toml:8: shards.map.0: expected a string, got an integer");
  EXPECT_CONTAINS(parse_error(head), "x.toml:5: shards.map: required");
  EXPECT_CONTAINS(parse_error(head + "count = 0\n[shards.map]\n0 = \"shard0\"\n"),
                  "x.toml:7: shards.count: must be at least 1");
  EXPECT_CONTAINS(parse_error(clusters + "[shards]\n[shards.map]\n0 = \"shard0\"\n"),
                  "x.toml:5: shards.key: required");
  EXPECT_CONTAINS(
      parse_error(head + "function = \"module\"\n[shards.map]\n0 = \"shard0\"\n"),
      "x.toml:7: shards.function: unknown shard function 'module' (known: hash, modulo, range, lookup)");
  EXPECT_CONTAINS(
      parse_error(head + "replicas = 2\n"),
      "x.toml:7: shards.replicas: unknown key (known: key, function, count, key_type, range_starts, "
      "key_ranges, lookup_cluster, lookup_table, lookup_cache_ttl_ms, tables, reference_tables, "
      "map, shard_key, shard_function, num_shards, shard_map)");
}

TEST(ConfigShards, ShardsNeedConfiguredClusters) {
  EXPECT_CONTAINS(parse_error("[shards]\nkey = \"user_id\"\n[shards.map]\n0 = \"default\"\n"),
                  "x.toml:1: shards: shards need clusters, but no [clusters] are configured");
}

TEST(ConfigShards, RangeErrors) {
  const std::string head = clusters + "[shards]\nkey = \"user_id\"\n";
  const std::string map = "[shards.map]\n0 = \"shard0\"\n1 = \"shard1\"\n";
  EXPECT_CONTAINS(parse_error(head + "function = \"range\"\n" + map),
                  "shards.range_starts: required with function = \"range\"");
  EXPECT_CONTAINS(parse_error(head + "function = \"range\"\nrange_starts = [0]\n" + map),
                  "x.toml:8: shards.range_starts: has 1 entries for 2 shards");
  EXPECT_CONTAINS(parse_error(head + "function = \"range\"\nrange_starts = [5, 5]\n" + map),
                  "x.toml:8: shards.range_starts: must be strictly increasing: item 1 (5) is not "
                  "above item 0 (5)");
  EXPECT_CONTAINS(parse_error(head + "range_starts = [0, 10]\n" + map),
                  "x.toml:7: shards.range_starts: only used with function = \"range\"");
  EXPECT_CONTAINS(parse_error(head + "function = \"range\"\nrange_starts = [0, \"x\"]\n" + map),
                  "shards.range_starts: item 1: expected an integer, got a string");
}

TEST(ConfigShards, TheSeedsSpellingsWork) {
  const Config config = Config::parse(clusters + R"(
[shards]
shard_key = "user_id"
shard_function = "modulo"
num_shards = 2
[shards.shard_map]
0 = "shard0"
1 = "shard1"
)");
  EXPECT_EQ(config.shards.shard_key, "user_id");
  EXPECT_EQ(config.shards.function, ShardFunction::modulo);
  EXPECT_EQ(config.shards.count(), 2u);
  EXPECT_EQ(config.shards.cluster_of(1), "shard1");
  EXPECT_EQ(config.describe().entries.size(), Config::parse(clusters).describe().entries.size() + 5);
  EXPECT_CONTAINS(parse_error(clusters + "[shards]\nkey = \"a\"\nshard_key = \"b\"\n"),
                  "x.toml:7: shards.shard_key: 'key' and 'shard_key' are the same setting");
}

TEST(ConfigShards, KeyRangesTablesAndKeyType) {
  const Config config = Config::parse(clusters + R"(
[shards]
key = "account"
key_type = "text"
key_ranges = ["-8000", "8000-"]
[shards.tables]
accounts = "id"
[shards.map]
0 = "shard0"
1 = "shard1"
)");
  EXPECT_EQ(config.shards.key_type, ShardKeyType::text);
  EXPECT_EQ(config.shards.key_ranges, (std::vector<std::string>{"-8000", "8000-"}));
  EXPECT_EQ(config.shards.key_column("accounts"), "id");
  EXPECT_EQ(config.shards.key_column("orders"), "account");
  const std::string head = clusters + "[shards]\nkey = \"k\"\n";
  const std::string map = "[shards.map]\n0 = \"shard0\"\n1 = \"shard1\"\n";
  EXPECT_CONTAINS(parse_error(head + "key_ranges = [\"-80\"]\n" + map),
                  "shards.key_ranges: has 1 entries for 2 shards");
  EXPECT_CONTAINS(parse_error(head + "key_ranges = [\"-80\", \"90-\"]\n" + map),
                  "shards.key_ranges: range 1 (90-) does not start where range 0 (-80) ends");
  EXPECT_CONTAINS(parse_error(head + "key_ranges = [\"-8g\", \"8g-\"]\n" + map),
                  "shards.key_ranges: item 0: '-8g': '8g' is not 1 to 16 hex digits");
  EXPECT_CONTAINS(parse_error(head + "function = \"modulo\"\nkey_type = \"text\"\n" + map),
                  "shards.key_type: function = \"modulo\" needs integer keys");
  EXPECT_CONTAINS(parse_error(head + "function = \"range\"\nrange_starts = [0, 9]\nkey_ranges = [\"-\"]\n" + map),
                  "shards.key_ranges: only used with function = \"hash\"");
}

TEST(ConfigShards, ReferenceTables) {
  const std::string head = clusters + "[shards]\nkey = \"user_id\"\n";
  const std::string map = "[shards.map]\n0 = \"shard0\"\n1 = \"shard1\"\n";
  const Config config =
      Config::parse(head + "reference_tables = [\"countries\", \"plans\"]\n" + map);
  EXPECT_EQ(config.shards.reference_tables, (std::vector<std::string>{"countries", "plans"}));
  EXPECT_TRUE(config.shards.is_reference("plans"));
  EXPECT_FALSE(config.shards.is_reference("orders"));
  EXPECT_FALSE(Config::parse(head + map).shards.is_reference("countries"));
  EXPECT_CONTAINS(parse_error(head + "reference_tables = [\"\"]\n" + map),
                  "shards.reference_tables: a table name must not be empty");
  EXPECT_CONTAINS(
      parse_error(head + "reference_tables = [\"users\"]\n[shards.tables]\nusers = \"id\"\n" + map),
      "'users' is also in [shards.tables]");
  EXPECT_CONTAINS(parse_error(head + "reference_tables = \"countries\"\n" + map), "reference_tables");
}

TEST(ConfigShards, LookupNeedsItsCluster) {
  const std::string head = clusters + "[shards]\nkey = \"k\"\nfunction = \"lookup\"\n";
  const std::string map = "[shards.map]\n0 = \"shard0\"\n1 = \"shard1\"\n";
  const Config config = Config::parse(head + "lookup_cluster = \"shard1\"\nlookup_cache_ttl_ms = 5\n" + map);
  EXPECT_EQ(config.shards.lookup_cluster, "shard1");
  EXPECT_EQ(config.shards.lookup_table, "nexdb_shard_directory");
  EXPECT_EQ(config.shards.lookup_cache_ttl, std::chrono::milliseconds(5));
  EXPECT_CONTAINS(parse_error(head + map), "shards.lookup_cluster: required with function = \"lookup\"");
  EXPECT_CONTAINS(parse_error(head + "lookup_cluster = \"elsewhere\"\n" + map),
                  "shards.lookup_cluster: no cluster 'elsewhere' (clusters: shard0, shard1)");
  EXPECT_CONTAINS(parse_error(clusters + "[shards]\nkey = \"k\"\nlookup_table = \"t\"\n" + map),
                  "shards.lookup_table: only used with function = \"lookup\"");
}

}  // namespace
}  // namespace nexdb::test
