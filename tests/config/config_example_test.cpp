// The shipped nexdb.toml.example and the TOML in docs/configuration.md stay valid.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config_test_support.hpp"

namespace nexdb::test {
namespace {

std::string source_dir() { return NEXDB_CONFIG_TEST_SOURCE_DIR; }

TEST(ConfigExample, TheShippedExampleLoadsWithoutWarnings) {
  const Config config = Config::load(source_dir() + "/nexdb.toml.example");
  EXPECT_TRUE(config.warnings.empty());
  ASSERT_EQ(config.clusters.size(), 3u);
  EXPECT_EQ(config.default_cluster().name, "main");
  EXPECT_EQ(config.cluster("main").replicas.size(), 2u);
  EXPECT_EQ(config.cluster("main").read_preference, ReadPreference::replica_preferred);
  EXPECT_EQ(config.cluster("main").pool.max_size, 20u);
  EXPECT_EQ(config.cluster("shard0").pool.max_size, 10u);
  EXPECT_EQ(config.cluster("shard1").connection.statement_timeout,
            std::chrono::milliseconds(30000));
  EXPECT_EQ(config.shards.count(), 4u);
  EXPECT_EQ(config.shards.cluster_of(2), "shard0");
  EXPECT_EQ(config.shards.key_column("users"), "id");
  EXPECT_EQ(config.metrics.labels.at("service"), "nexdb-example");
  // Every key of the schema appears in the example, so it documents them all.
  for (const auto& entry : config.describe().entries) {
    if (entry.key.starts_with("clusters.") || entry.key.starts_with("shards.map.") ||
        entry.key.starts_with("metrics.labels.") || entry.key == "shards.count") {
      continue;
    }
    EXPECT_NE(entry.origin, "default") << entry.key << " is missing from nexdb.toml.example";
  }
}

// Each ```toml block of the guide parses; error examples are fenced as ```text.
TEST(ConfigExample, EveryTomlBlockInTheGuideParses) {
  std::ifstream in(source_dir() + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md not found";
  std::string line, block;
  bool inside = false;
  int blocks = 0, start = 0, number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!inside && line == "```toml") {
      inside = true;
      block.clear();
      start = number;
    } else if (inside && line == "```") {
      inside = false;
      ++blocks;
      try {
        (void)Config::parse(block, "docs/configuration.md block at line " + std::to_string(start));
      } catch (const ConfigError& e) {
        ADD_FAILURE() << e.what();
      }
    } else if (inside) {
      block += line + "\n";
    }
  }
  EXPECT_GE(blocks, 3);
}

}  // namespace
}  // namespace nexdb::test
