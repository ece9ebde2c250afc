// nexdb.toml: finding the file, defaults, clusters, and errors that name file:line:key.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace nexdb::test {
namespace {

using std::chrono::milliseconds;

TEST(ConfigFile, NoFileMeansOneEmbeddedSqliteCluster) {
  TempDir dir;
  ScopedCwd cwd(dir.path());
  ScopedEnv no_config("NEXDB_CONFIG", std::nullopt);
  const Config config = Config::load_default();
  ASSERT_EQ(config.clusters.size(), 1u);
  EXPECT_EQ(config.clusters[0].name, "default");
  EXPECT_EQ(config.clusters[0].primary, "sqlite:nexdb-data/nexdb.db");
  EXPECT_EQ(config.clusters[0].primary, default_database_uri);
  EXPECT_TRUE(config.clusters[0].replicas.empty());
  EXPECT_EQ(config.clusters[0].read_preference, ReadPreference::primary);
  EXPECT_TRUE(config.source.empty());
  EXPECT_FALSE(config.shards.enabled());
  EXPECT_EQ(&config.default_cluster(), &config.clusters[0]);
}

TEST(ConfigFile, DefaultsAreSafeAndMatchTheSettingsStructs) {
  const Config config = Config::defaults();
  const ClusterConfig& cluster = config.default_cluster();
  const PoolSettings pool;
  const ConnectOptions connection;
  EXPECT_EQ(cluster.pool.max_size, pool.max_size);
  EXPECT_EQ(cluster.pool.min_idle, pool.min_idle);
  EXPECT_EQ(cluster.pool.acquire_timeout, pool.acquire_timeout);
  EXPECT_EQ(cluster.connection.connect_timeout, connection.connect_timeout);
  EXPECT_EQ(cluster.connection.statement_cache_size, connection.statement_cache_size);
  EXPECT_EQ(cluster.connection.application_name, "nexdb");
  EXPECT_EQ(cluster.max_replication_lag_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(cluster.max_replication_lag, milliseconds(5000));
  EXPECT_EQ(config.metrics.listen, "127.0.0.1:9477");
  EXPECT_EQ(config.metrics.export_interval, milliseconds(15000));
  EXPECT_EQ(config.monitor.interval, milliseconds(10000));
  EXPECT_EQ(config.monitor.alert_thresholds.size(), known_alert_thresholds().size());
  EXPECT_EQ(config.monitor.alert_thresholds.at("query_duration_ms"), 1000);
  EXPECT_EQ(config.monitor.alert_thresholds.at("cache_hit_ratio"), 0.99);
  EXPECT_EQ(config.migrations.folder, "migrations");
  EXPECT_FALSE(config.migrations.allow_out_of_order);
  EXPECT_EQ(config.migrations.table, "nexdb_schema_history");
  // An empty file is the defaults too.
  const Config empty = Config::parse("", "empty.toml");
  EXPECT_EQ(empty.clusters[0].primary, default_database_uri);
  EXPECT_EQ(empty.clusters[0].pool.max_size, pool.max_size);
}

TEST(ConfigFile, FindsNexdbTomlInTheWorkingDirectoryOrNexdbConfig) {
  TempDir dir;
  ScopedCwd cwd(dir.path());
  ScopedEnv no_config("NEXDB_CONFIG", std::nullopt);
  write_file(dir, "nexdb.toml", "[pool]\nmax_size = 7\n");
  EXPECT_EQ(Config::load_default().default_cluster().pool.max_size, 7u);
  EXPECT_EQ(Config::load_default().source, "nexdb.toml");

  const std::string other = write_file(dir, "other.toml", "[pool]\nmax_size = 9\n");
  ScopedEnv config_var("NEXDB_CONFIG", other);
  EXPECT_EQ(Config::load_default().default_cluster().pool.max_size, 9u);
  EXPECT_EQ(Config::load_default().source, other);
}

TEST(ConfigFile, AnExplicitFileMustExist) {
  TempDir dir;
  const std::string missing = dir.path() + "/missing.toml";
  EXPECT_CONTAINS(config_error([&] { return Config::load(missing); }),
                  missing + ": configuration file not found");
  ScopedEnv config_var("NEXDB_CONFIG", missing);
  EXPECT_CONTAINS(config_error([] { return Config::load_default(); }),
                  "missing.toml: configuration file not found");
  EXPECT_CONTAINS(config_error([&] { return Config::load(dir.path()); }), "not a regular file");
}

TEST(ConfigFile, ClustersInheritPoolAndConnectionAndKeepFileOrder) {
  const Config config = Config::parse(R"(
[connection]
statement_timeout_ms = 2500
application_name = "billing"

[pool]
max_size = 12
min_idle = 2

[clusters.zeta]
primary = "postgresql://app@127.0.0.1:54320/app"
replicas = ["postgresql://app@127.0.0.1:54321/app", "postgresql://app@127.0.0.1:54322/app"]
read_preference = "nearest"
max_replication_lag_bytes = 1048576
max_replication_lag_ms = 250
latency_window_ms = 5
health_check_interval_ms = 200
read_your_writes_wait_ms = 300

[clusters.zeta.pool]
max_size = 20

[clusters.zeta.connection]
statement_timeout_ms = 100

[clusters.alpha]
primary = "sqlite:alpha.db"
)");
  ASSERT_EQ(config.clusters.size(), 2u);
  const ClusterConfig& zeta = config.clusters[0];
  EXPECT_EQ(zeta.name, "zeta");  // file order, not key order
  EXPECT_EQ(config.clusters[1].name, "alpha");
  EXPECT_EQ(&config.default_cluster(), &zeta);  // no "default": the first one
  EXPECT_EQ(zeta.replicas.size(), 2u);
  EXPECT_EQ(zeta.read_preference, ReadPreference::nearest);
  EXPECT_EQ(zeta.max_replication_lag_bytes, 1048576u);
  EXPECT_EQ(zeta.max_replication_lag, milliseconds(250));
  EXPECT_EQ(zeta.latency_window, milliseconds(5));
  EXPECT_EQ(zeta.health_check_interval, milliseconds(200));
  EXPECT_EQ(zeta.read_your_writes_wait, milliseconds(300));
  EXPECT_EQ(zeta.pool.max_size, 20u);  // its own
  EXPECT_EQ(zeta.pool.min_idle, 2u);   // inherited from [pool]
  EXPECT_EQ(zeta.pool.name, "zeta");
  EXPECT_EQ(zeta.connection.statement_timeout, milliseconds(100));
  EXPECT_EQ(zeta.connection.application_name, "billing");
  const ClusterConfig& alpha = config.cluster("alpha");
  EXPECT_EQ(alpha.pool.max_size, 12u);
  EXPECT_EQ(alpha.connection.statement_timeout, milliseconds(2500));
  EXPECT_EQ(alpha.read_preference, ReadPreference::primary);
  EXPECT_EQ(zeta.connect_options(zeta.replicas[1]).uri, "postgresql://app@127.0.0.1:54322/app");
  EXPECT_EQ(zeta.connect_options(zeta.replicas[1]).statement_timeout, milliseconds(100));
  EXPECT_CONTAINS(config_error([&] { return config.cluster("beta"); }),
                  "no cluster 'beta' in the configuration (clusters: zeta, alpha)");
}

TEST(ConfigFile, TheFoundationsDatabaseTableStillWorks) {
  const Config config =
      Config::parse("[database]\nuri = \"sqlite:legacy.db\"\nbusy_timeout_ms = 250\n");
  EXPECT_EQ(config.default_cluster().name, "default");
  EXPECT_EQ(config.default_cluster().primary, "sqlite:legacy.db");
  EXPECT_EQ(config.default_cluster().connection.busy_timeout, milliseconds(250));
  EXPECT_CONTAINS(
      parse_error(
          "[database]\nuri = \"sqlite:a.db\"\n[clusters.main]\nprimary = \"sqlite:b.db\"\n"),
      "x.toml:2: database.uri: [database] uri and [clusters] cannot be combined");
  EXPECT_CONTAINS(
      parse_error("[connection]\nbusy_timeout_ms = 1\n[database]\nbusy_timeout_ms = 2\n"),
      "x.toml:4: database.busy_timeout_ms: also set as connection.busy_timeout_ms");
}

TEST(ConfigFile, UnknownKeyNamesFileLineFullKeyAndTheKnownKeys) {
  const std::string error = parse_error(R"([clusters.main]
primary = "sqlite:main.db"

[clusters.main.pool]
max_size = 20
max_szie = 30
)");
  EXPECT_CONTAINS(error,
                  "x.toml:6: clusters.main.pool.max_szie: unknown key (known: min_idle, max_size, "
                  "acquire_timeout_ms, idle_timeout_ms, max_lifetime_ms, validation_threshold_ms, "
                  "leak_detection_threshold_ms, housekeeping_period_ms)");
  EXPECT_CONTAINS(parse_error("[pools]\nmax_size = 1\n"),
                  "x.toml:1: pools: unknown key (known: database, connection, pool, clusters");
  EXPECT_CONTAINS(parse_error("[connection]\ntimeout_ms = 1\n"),
                  "x.toml:2: connection.timeout_ms: unknown key (known: connect_timeout_ms");
  EXPECT_CONTAINS(parse_error("[clusters.main]\nprimary = \"sqlite:a.db\"\nreplica = []\n"),
                  "x.toml:3: clusters.main.replica: unknown key");
  EXPECT_CONTAINS(parse_error("[metrics]\nlisten = \"127.0.0.1:1\"\nport = 1\n"),
                  "x.toml:3: metrics.port: unknown key");
  EXPECT_CONTAINS(
      parse_error("[migrations]\ndir = \"m\"\n"),
      "x.toml:2: migrations.dir: unknown key (known: folder, allow_out_of_order, table)");
  // Of several unknown keys, the first in the file is reported.
  EXPECT_CONTAINS(parse_error("[pool]\nzzz = 1\naaa = 2\n"), "x.toml:2: pool.zzz: unknown key");
}

TEST(ConfigFile, WrongTypesAndRangesNameTheKey) {
  EXPECT_CONTAINS(parse_error("[pool]\nmax_size = \"ten\"\n"),
                  "x.toml:2: pool.max_size: expected an integer, got a string");
  EXPECT_CONTAINS(parse_error("[pool]\nacquire_timeout_ms = 1.5\n"),
                  "x.toml:2: pool.acquire_timeout_ms: expected an integer (milliseconds), got a "
                  "floating-point number");
  EXPECT_CONTAINS(parse_error("[pool]\nidle_timeout_ms = -1\n"),
                  "x.toml:2: pool.idle_timeout_ms: must not be negative, got -1");
  EXPECT_CONTAINS(parse_error("[pool]\n\nmax_size = 0\n"),
                  "x.toml:3: pool.max_size: must be at least 1, got 0");
  EXPECT_CONTAINS(parse_error("[pool]\nhousekeeping_period_ms = 0\n"),
                  "pool.housekeeping_period_ms: must be at least 1");
  EXPECT_CONTAINS(
      parse_error("[connection]\nsqlite_wal = \"yes\"\n"),
      "x.toml:2: connection.sqlite_wal: expected a boolean (true or false), got a string");
  EXPECT_CONTAINS(parse_error("[connection]\nconnect_timeout_ms = 0\n"),
                  "connection.connect_timeout_ms: must be at least 1");
  EXPECT_CONTAINS(
      parse_error("[connection]\napplication_name = \"" + std::string(70, 'a') + "\"\n"),
      "x.toml:2: connection.application_name: is 70 characters; PostgreSQL keeps at most 63");
  EXPECT_CONTAINS(parse_error("pool = 5\n"), "x.toml:1: pool: expected a table, got an integer");
  EXPECT_CONTAINS(parse_error("clusters = [1]\n"),
                  "x.toml:1: clusters: expected a table, got an array");
  EXPECT_CONTAINS(parse_error("[clusters]\nmain = \"sqlite:a.db\"\n"),
                  "x.toml:2: clusters.main: expected a table, got a string");
  EXPECT_CONTAINS(
      parse_error("[clusters.main]\nprimary = \"sqlite:a.db\"\nreplicas = \"sqlite:b.db\"\n"),
      "x.toml:3: clusters.main.replicas: expected an array of strings, got a string");
  EXPECT_CONTAINS(parse_error("[clusters.main]\nprimary = \"postgresql://h/db\"\nreplicas = "
                              "[\"postgresql://r/db\", 5]\n"),
                  "x.toml:3: clusters.main.replicas: item 1: expected a string, got an integer");
  EXPECT_CONTAINS(
      parse_error("[pool]\nmax_size = 2\nmin_idle = 3\n"),
      "x.toml:3: pool.min_idle: min_idle (3) exceeds max_size (2) for cluster 'default'");
  EXPECT_CONTAINS(parse_error("[pool]\nmin_idle = 5\n[clusters.main]\nprimary = "
                              "\"sqlite:a.db\"\n[clusters.main.pool]\nmax_size = 4\n"),
                  "x.toml:6: clusters.main.pool.max_size: min_idle (5) exceeds max_size (4) for "
                  "cluster 'main'");
}

TEST(ConfigFile, ClusterErrors) {
  EXPECT_CONTAINS(parse_error("\n[clusters.main]\nreplicas = []\n"),
                  "x.toml:2: clusters.main.primary: required");
  EXPECT_CONTAINS(parse_error("[clusters.main]\nprimary = \"mysql://app@db/app\"\n"),
                  "x.toml:2: clusters.main.primary: unsupported connection URI scheme 'mysql'");
  EXPECT_CONTAINS(parse_error("[clusters.main]\nprimary = \"\"\n"),
                  "x.toml:2: clusters.main.primary: must not be empty");
  EXPECT_CONTAINS(parse_error("[clusters.main]\nprimary = \"sqlite:\"\n"),
                  "clusters.main.primary: sqlite URI names no file");
  EXPECT_CONTAINS(parse_error("[clusters.main]\nprimary = \"postgresql://h/db?colour=blue\"\n"),
                  "x.toml:2: clusters.main.primary: invalid connection string "
                  "'postgresql://h/db?colour=blue': invalid URI query parameter: \"colour\"");
  EXPECT_CONTAINS(
      parse_error(
          "[clusters.main]\nprimary = \"postgresql://h/db\"\nreplicas = [\"sqlite:r.db\"]\n"),
      "x.toml:3: clusters.main.replicas: item 0: a sqlite replica of a postgres primary");
  EXPECT_CONTAINS(parse_error("[clusters.main]\nprimary = \"postgresql://h/db\"\nreplicas = "
                              "[\"postgresql://r/db\", \"postgresql://r/db\"]\n"),
                  "clusters.main.replicas: item 1: 'postgresql://r/db' is listed twice");
  EXPECT_CONTAINS(
      parse_error(
          "[clusters.main]\nprimary = \"postgresql://h/db\"\nread_preference = \"fastest\"\n"),
      "x.toml:3: clusters.main.read_preference: unknown read preference 'fastest' (known: primary, "
      "primary_preferred, replica, replica_preferred, nearest)");
  EXPECT_CONTAINS(
      parse_error(
          "[clusters.main]\nprimary = \"postgresql://h/db\"\nread_preference = \"replica\"\n"),
      "x.toml:3: clusters.main.read_preference: 'replica' needs at least one replica");
  EXPECT_CONTAINS(parse_error("[clusters.\"eu west\"]\nprimary = \"sqlite:a.db\"\n"),
                  "x.toml:1: clusters.eu west: 'eu west' is not a valid cluster name");
  EXPECT_CONTAINS(
      parse_error("[clusters.main]\nprimary = \"sqlite:a.db\"\nmax_replication_lag_ms = -5\n"),
      "x.toml:3: clusters.main.max_replication_lag_ms: must not be negative");
  EXPECT_CONTAINS(
      parse_error("[clusters.main]\nprimary = \"sqlite:a.db\"\nhealth_check_interval_ms = 0\n"),
      "x.toml:3: clusters.main.health_check_interval_ms:");
}

TEST(ConfigFile, MonitorMetricsAndMigrationsErrors) {
  EXPECT_CONTAINS(parse_error("[monitor.alert_thresholds]\nquery_durations_ms = 5\n"),
                  "x.toml:2: monitor.alert_thresholds.query_durations_ms: unknown key (known: "
                  "query_duration_ms, "
                  "connection_count, deadlock_count");
  EXPECT_CONTAINS(
      parse_error("[monitor.alert_thresholds]\ncache_hit_ratio = 1.5\n"),
      "x.toml:2: monitor.alert_thresholds.cache_hit_ratio: is a ratio from 0 to 1, got 1.5");
  EXPECT_CONTAINS(parse_error("[monitor.alert_thresholds]\ndeadlock_count = 2.5\n"),
                  "monitor.alert_thresholds.deadlock_count: is a count, got 2.5");
  EXPECT_CONTAINS(parse_error("[monitor.alert_thresholds]\nlock_wait_ms = \"1s\"\n"),
                  "monitor.alert_thresholds.lock_wait_ms: expected a number, got a string");
  EXPECT_CONTAINS(parse_error("[monitor]\ninterval_ms = 0\n"),
                  "x.toml:2: monitor.interval_ms: must be at least 1");
  EXPECT_CONTAINS(parse_error("[metrics]\nlisten = \"localhost\"\n"),
                  "x.toml:2: metrics.listen: 'localhost' is not host:port");
  EXPECT_CONTAINS(parse_error("[metrics]\nlisten = \"127.0.0.1:99999\"\n"),
                  "metrics.listen: '127.0.0.1:99999': the port must be a number from 1 to 65535");
  EXPECT_CONTAINS(parse_error("[metrics]\nlisten = \"::1:9477\"\n"),
                  "metrics.listen: '::1:9477': write an IPv6 address in brackets");
  EXPECT_CONTAINS(parse_error("[metrics]\nlisten = \"300.1.1.1:9477\"\n"),
                  "'300.1.1.1' is not a valid IPv4 address");
  EXPECT_CONTAINS(parse_error("[metrics]\nlisten = \"bad_host:9477\"\n"),
                  "'bad_host' is not a valid host name");
  EXPECT_CONTAINS(parse_error("[metrics.labels]\n9env = \"x\"\n"),
                  "x.toml:2: metrics.labels.9env: '9env' is not a Prometheus label name");
  EXPECT_CONTAINS(parse_error("[metrics.labels]\n__name = \"x\"\n"),
                  "metrics.labels.__name: '__name': label names starting with '__' are reserved");
  EXPECT_CONTAINS(parse_error("[metrics.labels]\nenv = \"\"\n"),
                  "x.toml:2: metrics.labels.env: must not be empty");
  EXPECT_CONTAINS(parse_error("[metrics.labels]\nenv = 1\n"),
                  "x.toml:2: metrics.labels.env: expected a string, got an integer");
  EXPECT_CONTAINS(parse_error("[migrations]\nallow_out_of_order = \"yes\"\n"),
                  "x.toml:2: migrations.allow_out_of_order: expected a boolean");
  EXPECT_CONTAINS(parse_error("[migrations]\ntable = \"\"\n"),
                  "x.toml:2: migrations.table: empty SQL identifier");
  EXPECT_CONTAINS(parse_error("[migrations]\nfolder = \"\"\n"),
                  "x.toml:2: migrations.folder: must not be empty");
}

TEST(ConfigFile, ValidMonitorMetricsAndMigrations) {
  const Config config = Config::parse(R"(
[monitor]
interval_ms = 2000
[monitor.alert_thresholds]
query_duration_ms = 250
cache_hit_ratio = 0.9
[metrics]
listen = "[::1]:9100"
export_interval_ms = 5000
[metrics.labels]
environment = "production"
region_1 = "eu"
[migrations]
folder = "db/migrations"
allow_out_of_order = true
table = "schema_history"
)");
  EXPECT_EQ(config.monitor.interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(config.monitor.alert_thresholds.at("query_duration_ms"), 250);
  EXPECT_EQ(config.monitor.alert_thresholds.at("cache_hit_ratio"), 0.9);
  EXPECT_EQ(config.monitor.alert_thresholds.at("deadlock_count"), 5);  // untouched default
  EXPECT_EQ(config.metrics.listen, "[::1]:9100");
  EXPECT_EQ(config.metrics.labels.at("environment"), "production");
  EXPECT_EQ(config.metrics.labels.at("region_1"), "eu");
  EXPECT_EQ(config.migrations.folder, "db/migrations");
  EXPECT_TRUE(config.migrations.allow_out_of_order);
  EXPECT_EQ(config.migrations.table, "schema_history");
  EXPECT_TRUE(config.warnings.empty());
  // No endpoint at all is allowed; every interface is allowed with a warning.
  EXPECT_EQ(Config::parse("[metrics]\nlisten = \"\"\n").metrics.listen, "");
  const Config open = Config::parse("[metrics]\nlisten = \"0.0.0.0:9477\"\n");
  ASSERT_EQ(open.warnings.size(), 1u);
  EXPECT_CONTAINS(open.warnings[0], "every network interface");
}

TEST(ConfigFile, SyntaxErrorsNameTheLine) {
  EXPECT_CONTAINS(parse_error("[pool]\nmax_size = 1\n[database\n"), "x.toml:3: TOML syntax error");
  TempDir dir;
  const std::string path = write_file(dir, "broken.toml", "\n\nmax_size = = 3\n");
  EXPECT_CONTAINS(config_error([&] { return Config::load(path); }), path + ":3: TOML syntax error");
}

TEST(ConfigFile, PasswordsNeverAppearInErrors) {
  const std::string secret = "s3cr3t-pw";
  const std::string errors[] = {
      parse_error("[clusters.main]\nprimary = \"postgresql://app:" + secret +
                  "@h/db?colour=blue\"\n"),
      parse_error("[clusters.main]\nprimary = \"mysql://app:" + secret + "@h/db\"\n"),
      parse_error("[clusters.main]\nprimary = \"host=h password=" + secret + " colour=blue\"\n"),
      parse_error("[clusters.main]\nprimary = \"postgresql://app:" + secret +
                  "@h/db\"\nreplicas = [\"postgresql://app:" + secret +
                  "@r/db\", \"postgresql://app:" + secret + "@r/db\"]\n"),
      parse_error("[clusters.main]\nprimary = \"sqlite:a.db\"\nreplicas = [\"postgresql://app:" +
                  secret + "@r/db\"]\n"),
  };
  for (const auto& error : errors) {
    EXPECT_FALSE(error.empty());
    EXPECT_NOT_CONTAINS(error, secret);
  }
  EXPECT_CONTAINS(errors[0], "postgresql://app:***@h/db");
}

}  // namespace
}  // namespace nexdb::test
