// NEXDB_* environment variables over nexdb.toml: the mapping, precedence and errors.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace nexdb::test {
namespace {

using std::chrono::milliseconds;

constexpr const char* two_clusters = R"([pool]
max_size = 10

[clusters.main]
primary = "postgresql://app@127.0.0.1:54320/app"

[clusters.eu-west]
primary = "postgresql://app@127.0.0.1:54330/app"

[clusters.eu-west.pool]
max_size = 5

[metrics.labels]
Environment = "production"
)";

class ConfigEnv : public ::testing::Test {
 protected:
  std::string file(const std::string& text = two_clusters) {
    return write_file(dir_, "nexdb.toml", text);
  }
  Config load(const std::string& text = two_clusters) { return Config::load(file(text)); }
  std::string error(const std::string& text = two_clusters) {
    return config_error([&] { return load(text); });
  }
  TempDir dir_;
};

TEST_F(ConfigEnv, AVariableOverridesTheSameKeyOfTheFile) {
  ScopedEnv max_size("NEXDB_POOL_MAX_SIZE", "20");
  ScopedEnv timeout("NEXDB_CONNECTION_STATEMENT_TIMEOUT_MS", "1500");
  ScopedEnv listen("NEXDB_METRICS_LISTEN", "10.0.0.5:9100");
  const Config config = load();
  EXPECT_EQ(config.cluster("main").pool.max_size, 20u);
  // The more specific key wins, as in the file: clusters.eu-west.pool.max_size stays 5.
  EXPECT_EQ(config.cluster("eu-west").pool.max_size, 5u);
  EXPECT_EQ(config.cluster("eu-west").connection.statement_timeout, milliseconds(1500));
  EXPECT_EQ(config.metrics.listen, "10.0.0.5:9100");
  EXPECT_EQ(config.environment,
            (std::vector<std::string>{"NEXDB_CONNECTION_STATEMENT_TIMEOUT_MS",
                                      "NEXDB_METRICS_LISTEN", "NEXDB_POOL_MAX_SIZE"}));
  EXPECT_EQ(config.origins.at("pool.max_size"), "env NEXDB_POOL_MAX_SIZE");
}

TEST_F(ConfigEnv, ClusterVariablesFindTheFilesClusterOrCreateOne) {
  ScopedEnv primary("NEXDB_CLUSTERS_MAIN_PRIMARY", "postgresql://app@db.internal:5432/app");
  ScopedEnv eu_pool("NEXDB_CLUSTERS_EU_WEST_POOL_MAX_SIZE", "8");  // the file's "eu-west"
  ScopedEnv created("NEXDB_CLUSTERS_US_EAST_PRIMARY", "postgresql://app@us.internal/app");
  ScopedEnv created_pref("NEXDB_CLUSTERS_US_EAST_READ_PREFERENCE", "primary_preferred");
  const Config config = load();
  EXPECT_EQ(config.cluster("main").primary, "postgresql://app@db.internal:5432/app");
  EXPECT_EQ(config.cluster("eu-west").pool.max_size, 8u);
  ASSERT_EQ(config.clusters.size(), 3u);
  EXPECT_EQ(config.clusters[2].name, "us_east");  // new clusters come after the file's
  EXPECT_EQ(config.clusters[2].read_preference, ReadPreference::primary_preferred);
  EXPECT_EQ(config.clusters[2].pool.max_size, 10u);  // inherits [pool]
}

TEST_F(ConfigEnv, ReplicasAreATomlArrayOrUrisSeparatedByCommas) {
  {
    // The comma inside the multi-host URI does not split it.
    ScopedEnv replicas("NEXDB_CLUSTERS_MAIN_REPLICAS",
                       "postgresql://app@r1:5432,r2:5432/app, postgresql://app@r3/app");
    const Config config = load();
    EXPECT_EQ(config.cluster("main").replicas,
              (std::vector<std::string>{"postgresql://app@r1:5432,r2:5432/app",
                                        "postgresql://app@r3/app"}));
  }
  {
    ScopedEnv replicas("NEXDB_CLUSTERS_MAIN_REPLICAS",
                       R"(["postgresql://app@r1/app", "postgresql://app@r2/app"])");
    EXPECT_EQ(load().cluster("main").replicas.size(), 2u);
  }
  {
    ScopedEnv replicas("NEXDB_CLUSTERS_MAIN_REPLICAS", "");
    EXPECT_TRUE(load().cluster("main").replicas.empty());
  }
  ScopedEnv replicas("NEXDB_CLUSTERS_MAIN_REPLICAS", "[\"postgresql://app@r1/app\"");
  EXPECT_CONTAINS(error(),
                  "environment variable NEXDB_CLUSTERS_MAIN_REPLICAS: clusters.main.replicas: "
                  "expected a TOML array");
}

TEST_F(ConfigEnv, AnInvalidValueNamesTheVariable) {
  {
    ScopedEnv v("NEXDB_POOL_MAX_SIZE", "ten");
    EXPECT_CONTAINS(
        error(),
        "environment variable NEXDB_POOL_MAX_SIZE: pool.max_size: expected an integer, got 'ten'");
  }
  {
    ScopedEnv v("NEXDB_POOL_MAX_SIZE", "0");  // parses, then fails the file's own check
    EXPECT_CONTAINS(
        error(),
        "environment variable NEXDB_POOL_MAX_SIZE: pool.max_size: must be at least 1, got 0");
  }
  {
    ScopedEnv v("NEXDB_METRICS_LISTEN", "nowhere");
    EXPECT_CONTAINS(
        error(),
        "environment variable NEXDB_METRICS_LISTEN: metrics.listen: 'nowhere' is not host:port");
  }
  {
    ScopedEnv v("NEXDB_MIGRATIONS_ALLOW_OUT_OF_ORDER", "maybe");
    EXPECT_CONTAINS(
        error(),
        "environment variable NEXDB_MIGRATIONS_ALLOW_OUT_OF_ORDER: migrations.allow_out_of_order: "
        "expected true or false, got 'maybe'");
  }
  {
    ScopedEnv v("NEXDB_CLUSTERS_MAIN_READ_PREFERENCE", "closest");
    EXPECT_CONTAINS(
        error(),
        "environment variable NEXDB_CLUSTERS_MAIN_READ_PREFERENCE: clusters.main.read_preference: "
        "unknown read preference 'closest'");
  }
  {
    ScopedEnv v("NEXDB_CLUSTERS_NEW_POOL_MAX_SIZE", "3");  // a cluster without a primary
    EXPECT_CONTAINS(
        error(),
        "environment variable NEXDB_CLUSTERS_NEW_POOL_MAX_SIZE: clusters.new.primary: required");
  }
  {
    ScopedEnv v("NEXDB_CLUSTERS_MAIN_PRIMARY", "mysql://app:hunter2@db/app");
    const std::string message = error();
    EXPECT_CONTAINS(message,
                    "environment variable NEXDB_CLUSTERS_MAIN_PRIMARY: clusters.main.primary: "
                    "unsupported connection URI scheme");
    EXPECT_NOT_CONTAINS(message, "hunter2");
  }
}

TEST_F(ConfigEnv, ValuesOfEveryKind) {
  ScopedEnv flag("NEXDB_MIGRATIONS_ALLOW_OUT_OF_ORDER", "TRUE");
  ScopedEnv wal("NEXDB_CONNECTION_SQLITE_WAL", "0");
  ScopedEnv ratio("NEXDB_MONITOR_ALERT_THRESHOLDS_CACHE_HIT_RATIO", "0.95");
  ScopedEnv label("NEXDB_METRICS_LABELS_ENVIRONMENT", "staging");  // the file's "Environment"
  ScopedEnv new_label("NEXDB_METRICS_LABELS_REGION", "eu");
  ScopedEnv folder("NEXDB_MIGRATIONS_FOLDER", "db/migrations");
  ScopedEnv name("NEXDB_CONNECTION_APPLICATION_NAME", "billing worker");
  const Config config = load();
  EXPECT_TRUE(config.migrations.allow_out_of_order);
  EXPECT_FALSE(config.cluster("main").connection.sqlite_wal);
  EXPECT_EQ(config.monitor.alert_thresholds.at("cache_hit_ratio"), 0.95);
  EXPECT_EQ(config.metrics.labels.at("Environment"), "staging");
  EXPECT_EQ(config.metrics.labels.at("region"), "eu");
  EXPECT_EQ(config.migrations.folder, "db/migrations");
  EXPECT_EQ(config.cluster("main").connection.application_name, "billing worker");
}

TEST_F(ConfigEnv, UnrelatedNexdbVariablesAreIgnored) {
  ScopedEnv a("NEXDB_PG_PORT", "54320");
  ScopedEnv b("NEXDB_PG_PRIMARY", "postgresql://nexdb@127.0.0.1:54320/nexdb");
  ScopedEnv c("NEXDB_SOURCE_DIR", "/src");
  ScopedEnv d("NEXDB_JOBS", "4");
  ScopedEnv e("NEXDB_CHECK_SANITIZE", "1");
  ScopedEnv f("NEXDB_CONFIGURATION", "whatever");
  const Config config = load();
  EXPECT_TRUE(config.environment.empty());
  EXPECT_EQ(config.cluster("main").pool.max_size, 10u);
}

TEST_F(ConfigEnv, ATypoUnderASectionPrefixIsAnError) {
  {
    ScopedEnv v("NEXDB_POOL_MAX_SIZ", "20");
    const std::string message = error();
    EXPECT_CONTAINS(message,
                    "environment variable NEXDB_POOL_MAX_SIZ: unknown configuration variable");
    EXPECT_CONTAINS(message, "NEXDB_POOL_MAX_SIZE");
  }
  {
    ScopedEnv v("NEXDB_CLUSTERS_MAIN_PRIMARY_URI", "postgresql://h/db");
    EXPECT_CONTAINS(
        error(),
        "NEXDB_CLUSTERS_MAIN_PRIMARY_URI: unknown configuration variable; cluster variables are "
        "NEXDB_CLUSTERS_<NAME>_<KEY>");
  }
  {
    ScopedEnv v("NEXDB_METRICS", "on");
    EXPECT_CONTAINS(error(), "environment variable NEXDB_METRICS: unknown configuration variable");
  }
}

TEST_F(ConfigEnv, TwoClustersWithTheSameVariableNameAreAmbiguous) {
  ScopedEnv v("NEXDB_CLUSTERS_EU_WEST_PRIMARY", "postgresql://h/db");
  EXPECT_CONTAINS(
      error(std::string(two_clusters) + "[clusters.eu_west]\nprimary = \"sqlite:x.db\"\n"),
      "environment variable NEXDB_CLUSTERS_EU_WEST_PRIMARY: ambiguous");
}

TEST_F(ConfigEnv, ShardMapEntriesAreValidatedLikeTheFile) {
  const std::string sharded =
      std::string(two_clusters) +
      "[shards]\nkey = \"user_id\"\n[shards.map]\n0 = \"main\"\n1 = \"main\"\n";
  {
    ScopedEnv v("NEXDB_SHARDS_MAP_1", "eu-west");
    EXPECT_EQ(load(sharded).shards.shard_map,
              (std::map<std::size_t, std::string>{{0, "main"}, {1, "eu-west"}}));
  }
  ScopedEnv v("NEXDB_SHARDS_MAP_1", "nowhere");
  EXPECT_CONTAINS(error(sharded),
                  "environment variable NEXDB_SHARDS_MAP_1: shards.map.1: no cluster 'nowhere' "
                  "(clusters: main, eu-west)");
}

TEST_F(ConfigEnv, ShardKeyRangesAndTablesComeFromTheEnvironment) {
  const std::string sharded =
      std::string(two_clusters) +
      "[shards]\nkey = \"user_id\"\n[shards.map]\n0 = \"main\"\n1 = \"eu-west\"\n";
  ScopedEnv ranges("NEXDB_SHARDS_KEY_RANGES", "-8000, 8000-");
  ScopedEnv table("NEXDB_SHARDS_TABLES_USERS", "id");
  ScopedEnv count("NEXDB_SHARDS_NUM_SHARDS", "2");
  const Config config = load(sharded);
  EXPECT_EQ(config.shards.key_ranges, (std::vector<std::string>{"-8000", "8000-"}));
  EXPECT_EQ(config.shards.key_column("users"), "id");
  EXPECT_EQ(config.shards.count(), 2u);
}

TEST_F(ConfigEnv, WithoutAFileTheEnvironmentAloneConfigures) {
  ScopedCwd cwd(dir_.path());
  ScopedEnv no_config("NEXDB_CONFIG", std::nullopt);
  ScopedEnv primary("NEXDB_CLUSTERS_MAIN_PRIMARY", "sqlite:main.db");
  ScopedEnv max_size("NEXDB_POOL_MAX_SIZE", "4");
  const Config config = Config::load_default();
  ASSERT_EQ(config.clusters.size(), 1u);  // no implicit "default" once a cluster is configured
  EXPECT_EQ(config.clusters[0].name, "main");
  EXPECT_EQ(config.clusters[0].pool.max_size, 4u);
  EXPECT_TRUE(config.source.empty());
}

TEST_F(ConfigEnv, ParseIgnoresTheEnvironment) {
  ScopedEnv v("NEXDB_POOL_MAX_SIZE", "ten");
  EXPECT_EQ(Config::parse("[pool]\nmax_size = 3\n").default_cluster().pool.max_size, 3u);
}

}  // namespace
}  // namespace nexdb::test
