// DBMonitor on embedded SQLite: statement metrics per fingerprint, errors, pool metrics, alerts
// through the callback and webhook sinks, /healthz, and promtool on what it exports.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "monitor/monitor_support.hpp"
#include "nexdb/database.hpp"
#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"
#include "support/service.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using test::sample_value;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view slow_sql =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
    "SELECT count(*) FROM c";

class SqliteMonitor : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Database::open("sqlite:" + dir_.path() + "/app.db");
    db_->execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL)");
    host_ = db_->connection()->description();
  }
  MonitorSettings settings(std::vector<std::shared_ptr<AlertSink>> sinks = {}) {
    return {.interval = std::chrono::seconds(60),
            .sinks = std::move(sinks),
            .registry = &registry_,
            .background = false};
  }
  std::string series(std::string_view name, std::string_view labels = {}) const {
    std::string out = fmt::format("{}{{cluster=\"default\",host=\"{}\"", name, host_);
    if (!labels.empty()) out += fmt::format(",{}", labels);
    return out + "}";
  }

  test::TempDir dir_;
  metrics::Registry registry_;
  std::optional<Database> db_;
  std::string host_;
};

TEST_F(SqliteMonitor, OneHistogramSeriesPerQueryShape) {
  DBMonitor monitor(*db_, settings());
  for (int i = 0; i < 20; ++i)
    db_->execute("INSERT INTO users (email) VALUES (?)", fmt::format("u{}@x", i));
  for (int i = 0; i < 5; ++i) db_->execute(fmt::format("SELECT email FROM users WHERE id = {}", i));
  const std::string text = registry_.expose();
  // Twenty inserts with bound values and five selects with inlined constants: two shapes.
  std::vector<std::string> counts;
  for (std::size_t pos = text.find("nexdb_query_duration_seconds_count{"); pos != std::string::npos;
       pos = text.find("nexdb_query_duration_seconds_count{", pos + 1)) {
    counts.push_back(text.substr(pos, text.find('\n', pos) - pos));
  }
  EXPECT_THAT(counts, ::testing::Contains(::testing::EndsWith("} 20")));
  EXPECT_THAT(counts, ::testing::Contains(::testing::EndsWith("} 5")));
  EXPECT_THAT(text, HasSubstr("query=\"SELECT email FROM users WHERE id = $1\""));
  EXPECT_THAT(text, HasSubstr(series("nexdb_query_duration_seconds_bucket").substr(0, 40)));
}

TEST_F(SqliteMonitor, FingerprintsAreBounded) {
  auto s = settings();
  s.max_fingerprints = 3;
  DBMonitor monitor(*db_, s);
  for (int i = 0; i < 10; ++i) db_->execute(fmt::format("SELECT {} AS c{}", i, i));
  const std::string text = registry_.expose();
  EXPECT_THAT(text, HasSubstr("fingerprint=\"other\""));
  EXPECT_EQ(sample_value(text, "nexdb_query_shapes_overflow_total"), 7);
  std::size_t shapes = 0;
  for (std::size_t pos = text.find("\nnexdb_query_shape{"); pos != std::string::npos;
       pos = text.find("\nnexdb_query_shape{", pos + 1)) {
    ++shapes;
  }
  EXPECT_EQ(shapes, 3u);
}

TEST_F(SqliteMonitor, ErrorsBySqlstateClass) {
  DBMonitor monitor(*db_, settings());
  db_->execute("INSERT INTO users (email) VALUES ('a@x')");
  EXPECT_THROW(db_->execute("INSERT INTO users (email) VALUES ('a@x')"), UniqueViolation);
  EXPECT_THROW(db_->execute("SELECT nope FROM users"), SqlError);
  const std::string text = registry_.expose();
  EXPECT_EQ(sample_value(text, series("nexdb_statement_errors_total", "class=\"23\"")), 1);
}

TEST_F(SqliteMonitor, TheMonitorsOwnStatementsAreNotCounted) {
  DBMonitor monitor(*db_, settings());
  monitor.sample();
  const std::string text = registry_.expose();
  EXPECT_THAT(text, Not(HasSubstr("PRAGMA")));
  EXPECT_EQ(sample_value(text, series("nexdb_up")), 1);
  EXPECT_GT(sample_value(text, series("nexdb_sqlite_size_bytes")).value_or(0), 0);
}

// SQLite keeps a page cache per connection and tells about it through sqlite3_db_status; with a
// pool of one, the connection the monitor samples is the one the workload used.
TEST_F(SqliteMonitor, ThePageCacheOfTheSampledConnection) {
  Database db = Database::open(DatabaseSettings{
      .connection = {.uri = "sqlite:" + dir_.path() + "/cache.db"}, .pool = {.max_size = 1}});
  db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  for (int i = 0; i < 200; ++i) db.execute("INSERT INTO t (v) VALUES (?)", std::string(200, 'x'));
  const std::string host = db.connection()->description();
  const auto at = [&](const std::string& text, std::string_view name) {
    return sample_value(text, fmt::format("{}{{cluster=\"default\",host=\"{}\"}}", name, host));
  };
  DBMonitor monitor(db, settings());
  monitor.sample();
  const double hits_before = at(registry_.expose(), "nexdb_sqlite_cache_hits_total").value();
  for (int i = 0; i < 50; ++i) db.execute("SELECT count(*), max(length(v)) FROM t");
  monitor.sample();
  const std::string text = registry_.expose();
  const double hits = at(text, "nexdb_sqlite_cache_hits_total").value() - hits_before;
  EXPECT_GE(hits, 50) << text;  // every scan reads the table's pages from the cache
  const double ratio = at(text, "nexdb_cache_hit_ratio").value_or(-1);
  EXPECT_GT(ratio, 0.9);
  EXPECT_LE(ratio, 1.0);
  EXPECT_DOUBLE_EQ(monitor.snapshot().hosts.at(0).cache_hit_ratio, ratio);
  monitor.sample();  // only our own PRAGMAs since: nothing new is counted
  EXPECT_EQ(at(registry_.expose(), "nexdb_sqlite_cache_hits_total"), hits + hits_before);
}

TEST_F(SqliteMonitor, PoolMetricsAreReadAtEveryScrape) {
  DBMonitor monitor(*db_, settings());
  monitor.sample();
  const double before =
      sample_value(registry_.expose(), series("nexdb_pool_acquired_total")).value_or(-1);
  for (int i = 0; i < 3; ++i) db_->execute("SELECT 1");
  const std::string text = registry_.expose();
  EXPECT_EQ(sample_value(text, series("nexdb_pool_acquired_total")), before + 3);
  EXPECT_EQ(sample_value(text, series("nexdb_pool_max_size")), 10);
  EXPECT_TRUE(sample_value(text, series("nexdb_pool_connections", "state=\"idle\"")).has_value());
  EXPECT_TRUE(sample_value(text, series("nexdb_pool_acquire_wait_seconds_bucket", "le=\"+Inf\""))
                  .has_value());
}

TEST_F(SqliteMonitor, ASlowStatementFiresAndThenResolves) {
  auto sink = std::make_shared<test::RecordingSink>();
  auto s = settings({sink});
  s.alert_thresholds = {{"query_duration", 5}};
  DBMonitor monitor(*db_, s);
  monitor.sample();
  monitor.sample();  // whatever the setup did is in the past now
  db_->execute(slow_sql);
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  const auto is_slow_query = [](const Alert& a) {
    return a.description.find("WITH RECURSIVE") != std::string::npos;
  };
  auto alerts = sink->named("NexdbQueryDurationHigh");
  ASSERT_EQ(std::count_if(alerts.begin(), alerts.end(), is_slow_query), 1);
  const Alert fired = *std::find_if(alerts.begin(), alerts.end(), is_slow_query);
  EXPECT_EQ(fired.state, AlertState::firing);
  EXPECT_GT(fired.value, 5);
  EXPECT_EQ(fired.labels.at("host"), host_);
  EXPECT_EQ(fired.labels.at("fingerprint").size(), 16u);
  EXPECT_THAT(fired.summary, HasSubstr("statement duration"));
  EXPECT_EQ(monitor.alerts().size(), 1u);
  EXPECT_EQ(
      sample_value(registry_.expose(), "nexdb_alerts_firing{alertname=\"NexdbQueryDurationHigh\""),
      1);
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  alerts = sink->named("NexdbQueryDurationHigh");
  ASSERT_EQ(std::count_if(alerts.begin(), alerts.end(), is_slow_query), 2);
  EXPECT_EQ(alerts.back().state, AlertState::resolved);
  EXPECT_TRUE(monitor.alerts().empty());
}

// The log sink (the default when no sink is given) writes the firing and the resolution.
TEST_F(SqliteMonitor, TheLogSinkWritesFiringAndResolved) {
  test::LogCapture logs;
  auto s = settings();  // no sinks: log_sink()
  s.alert_thresholds = {{"query_duration", 5}};
  DBMonitor monitor(*db_, s);
  monitor.sample();
  monitor.sample();
  db_->execute(slow_sql);
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  EXPECT_THAT(logs.text(), HasSubstr("nexdb alert firing [warning]: NexdbQueryDurationHigh ("));
  EXPECT_THAT(logs.text(), Not(HasSubstr("nexdb alert resolved")));
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  EXPECT_THAT(logs.text(), HasSubstr("nexdb alert resolved: NexdbQueryDurationHigh ("));
}

// A caller waiting for the pool's only connection shows in nexdb_pool_waiting and the snapshot
// while it waits, and its wait in nexdb_pool_acquire_wait_seconds once served. The monitor does
// not queue for the busy pool itself (no extra waiter, no timeout) nor call the host down.
TEST_F(SqliteMonitor, PoolWaitersAndTheirWait) {
  Database db = Database::open(DatabaseSettings{
      .connection = {.uri = "sqlite:" + dir_.path() + "/one.db"}, .pool = {.max_size = 1}});
  const std::string host = db.connection()->description();
  const auto at = [&](const std::string& text, std::string_view name) {
    return sample_value(text, fmt::format("{}{{cluster=\"default\",host=\"{}\"}}", name, host));
  };
  DBMonitor monitor(db, settings());
  monitor.sample();
  const double waits_before =
      at(registry_.expose(), "nexdb_pool_acquire_wait_seconds_count").value();
  auto lease = db.connection();
  std::thread waiter([&] { db.execute("SELECT 1"); });
  ASSERT_TRUE(test::eventually([&] { return db.pool().stats().waiting == 1; }));
  EXPECT_EQ(at(registry_.expose(), "nexdb_pool_waiting"), 1);
  monitor.sample();
  EXPECT_EQ(db.pool().stats().timeouts, 0u);
  EXPECT_EQ(at(registry_.expose(), "nexdb_up"), 1);
  EXPECT_TRUE(monitor.health().healthy);
  ASSERT_TRUE(monitor.snapshot().hosts.at(0).pool.has_value());
  EXPECT_EQ(monitor.snapshot().hosts.at(0).pool->waiting, 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  lease.release();
  waiter.join();
  const std::string text = registry_.expose();
  EXPECT_EQ(at(text, "nexdb_pool_waiting"), 0);
  EXPECT_EQ(at(text, "nexdb_pool_acquire_wait_seconds_count"), waits_before + 2);  // lease, waiter
  EXPECT_GE(at(text, "nexdb_pool_acquire_wait_seconds_sum").value_or(0), 0.05);
}

TEST_F(SqliteMonitor, WebhookReceivesAlertmanagerStylePayloads) {
  httplib::Server receiver;
  std::mutex mutex;
  std::vector<std::string> bodies;
  receiver.Post("/hook", [&](const httplib::Request& req, httplib::Response&) {
    std::lock_guard lock(mutex);
    bodies.push_back(req.body);
  });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { receiver.listen_after_bind(); });
  auto s = settings({webhook_sink({.url = fmt::format("http://127.0.0.1:{}/hook", port)})});
  s.alert_thresholds = {{"query_duration", 5}};
  {
    DBMonitor monitor(*db_, s);
    monitor.sample();
    monitor.sample();
    db_->execute(slow_sql);
    monitor.sample();
    ASSERT_TRUE(monitor.wait_for_notifications());
  }
  receiver.stop();
  thread.join();
  ASSERT_FALSE(bodies.empty());
  const auto body = nlohmann::json::parse(bodies.back());
  EXPECT_EQ(body["version"], "4");
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "NexdbQueryDurationHigh");
  EXPECT_EQ(body["alerts"][0]["status"], "firing");
  EXPECT_THAT(body["alerts"][0]["annotations"]["description"].get<std::string>(),
              HasSubstr("WITH RECURSIVE"));
}

TEST_F(SqliteMonitor, AFailingSinkIsCountedAndTheOthersStillHearIt) {
  auto recorder = std::make_shared<test::RecordingSink>();
  auto dead =
      webhook_sink({.url = fmt::format("http://127.0.0.1:{}/", test::free_port()), .attempts = 1});
  auto s = settings({dead, recorder});
  s.alert_thresholds = {{"query_duration", 5}};
  DBMonitor monitor(*db_, s);
  monitor.sample();
  db_->execute(slow_sql);
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  EXPECT_FALSE(recorder->named("NexdbQueryDurationHigh").empty());
  const std::string text = registry_.expose();
  EXPECT_GE(
      sample_value(text, "nexdb_alert_notifications_total{sink=\"webhook\",outcome=\"failed\"}")
          .value_or(0),
      1);
  EXPECT_GE(sample_value(text, "nexdb_alert_notifications_total{sink=\"recording\",outcome=\"ok\"}")
                .value_or(0),
            1);
}

TEST_F(SqliteMonitor, HealthAndSnapshot) {
  DBMonitor monitor(*db_, settings());
  EXPECT_FALSE(monitor.health().healthy);  // not sampled yet
  db_->execute("SELECT count(*) FROM users");
  monitor.sample();
  const HealthReport health = monitor.health();
  EXPECT_TRUE(health.healthy);
  const auto json = nlohmann::json::parse(health.body);
  EXPECT_EQ(json["status"], "ok");
  EXPECT_EQ(json["clusters"][0]["cluster"], "default");
  EXPECT_EQ(json["clusters"][0]["hosts"][0]["host"], host_);
  const MonitorSnapshot snap = monitor.snapshot();
  ASSERT_EQ(snap.hosts.size(), 1u);
  EXPECT_EQ(snap.hosts[0].role, "sqlite");
  EXPECT_TRUE(snap.hosts[0].up);
  ASSERT_TRUE(snap.hosts[0].pool.has_value());
  EXPECT_GE(snap.hosts[0].pool->acquired, 1u);
  EXPECT_FALSE(snap.statements.empty());
}

// serve_on: /monitor.json is the snapshot (and reads back into one), /monitor its text, /healthz
// the monitor's health; a collector that outlives the monitor answers 503.
TEST_F(SqliteMonitor, ServedOnACollectorAndStoppedCleanly) {
  MetricsCollector collector({.listen = "127.0.0.1:0", .registry = &registry_});
  {
    DBMonitor monitor(*db_, settings());
    monitor.serve_on(collector);
    db_->execute("INSERT INTO users (email) VALUES ('served@x')");
    monitor.sample();
    const auto json = test::http_get("127.0.0.1", collector.port(), "/monitor.json");
    ASSERT_EQ(json.status, 200);
    EXPECT_EQ(json.content_type, "application/json");
    const MonitorSnapshot served = snapshot_from_json(json.body);
    const MonitorSnapshot local = monitor.snapshot();
    EXPECT_EQ(to_text(served), to_text(local));
    ASSERT_EQ(served.hosts.size(), 1u);
    ASSERT_TRUE(served.hosts[0].pool.has_value());
    EXPECT_EQ(served.hosts[0].pool->acquired, local.hosts[0].pool->acquired);
    EXPECT_EQ(test::http_get("127.0.0.1", collector.port(), "/monitor").body, to_text(local));
    EXPECT_EQ(test::http_get("127.0.0.1", collector.port(), "/healthz").status, 200);
    EXPECT_EQ(to_text(fetch_snapshot(collector.url())), to_text(monitor.snapshot()));
  }
  EXPECT_EQ(test::http_get("127.0.0.1", collector.port(), "/monitor.json").status, 503);
  const auto health = test::http_get("127.0.0.1", collector.port(), "/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_THAT(health.body, HasSubstr("monitor stopped"));
  EXPECT_THROW(snapshot_from_json("{\"hosts\": 3}"), Error);
  EXPECT_THROW(fetch_snapshot(fmt::format("http://127.0.0.1:{}", test::closed_port())),
               ConnectionError);
}

TEST_F(SqliteMonitor, BackgroundSamplingNeedsNoCalls) {
  auto s = settings();
  s.background = true;
  s.interval = std::chrono::milliseconds(50);
  DBMonitor monitor(*db_, s);
  EXPECT_TRUE(
      test::eventually([&] { return sample_value(registry_.expose(), series("nexdb_up")) == 1; }));
  EXPECT_TRUE(test::eventually([&] { return monitor.health().healthy; }));
}

TEST_F(SqliteMonitor, DetachesFromTheDatabaseWhenDestroyed) {
  {
    DBMonitor monitor(*db_, settings());
    db_->execute("SELECT 42");
  }
  const double before =
      sample_value(registry_.expose(), "nexdb_query_duration_seconds_count").value_or(-1);
  db_->execute("SELECT 42");
  EXPECT_EQ(sample_value(registry_.expose(), "nexdb_query_duration_seconds_count"), before);
}

TEST_F(SqliteMonitor, BadSettingsAreConfigErrors) {
  auto s = settings();
  s.watch_metrics = {"query_duration", "deadlocks"};
  EXPECT_THROW(DBMonitor(*db_, s), ConfigError);
  s = settings();
  s.alert_thresholds = {{"querry_duration", 1}};
  EXPECT_THROW(DBMonitor(*db_, s), ConfigError);
  s = settings();
  DBMonitor monitor(s);
  monitor.watch(*db_, "main");
  EXPECT_THROW(monitor.watch(*db_, "main"), UsageError);
  EXPECT_THROW(monitor.watch(*db_, "bad name!"), ConfigError);
}

TEST_F(SqliteMonitor, SettingsFromTheConfiguration) {
  const Config config = Config::parse(R"(
[monitor]
interval_ms = 2000
for_ms = 30000
watch = ["query_duration", "deadlock_count", "errors"]

[monitor.alert_thresholds]
deadlock_count = 0

[monitor.alerts.deadlock_count]
severity = "critical"
recover_for_ms = 60000

[metrics.labels]
environment = "test"
)");
  MonitorSettings s = DBMonitor::settings_from(config);
  EXPECT_EQ(s.interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(s.labels.at("environment"), "test");
  s.registry = &registry_;
  s.background = false;
  DBMonitor monitor(s);
  ASSERT_EQ(monitor.rules().size(), 2u);
  EXPECT_EQ(monitor.rules()[0].metric, "query_duration_ms");
  EXPECT_EQ(monitor.rules()[0].for_duration, std::chrono::seconds(30));
  EXPECT_EQ(monitor.rules()[1].metric, "deadlock_count");
  EXPECT_EQ(monitor.rules()[1].threshold, 0);
  EXPECT_EQ(monitor.rules()[1].severity, Severity::critical);
  EXPECT_EQ(monitor.rules()[1].recover_for, std::chrono::seconds(60));
}

TEST_F(SqliteMonitor, PromtoolAcceptsTheMetricsAndTheRules) {
  DBMonitor monitor(*db_, settings());
  db_->execute("INSERT INTO users (email) VALUES (?)", "quote\"back\\slash@x");
  EXPECT_THROW(db_->execute("INSERT INTO users (email) VALUES (?)", "quote\"back\\slash@x"),
               UniqueViolation);
  // Label values must be UTF-8: a long text is clipped on a character boundary, and bytes that
  // are not UTF-8 (SQLite does not check) are replaced.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";  // é
  db_->execute(fmt::format("SELECT 1 AS \"{}\"", accents));
  db_->execute("SELECT 2 AS \"bad\xff\xfe\"");
  monitor.sample();
  const std::string text =
      registry_.expose(metrics::ExpositionFormat::prometheus, {{"environment", "test"}});
  const auto metrics =
      test::run_with_input("promtool check metrics", text, dir_.path() + "/metrics.txt");
  EXPECT_EQ(metrics.exit_code, 0) << metrics.output << "\n" << text;
  EXPECT_THAT(text, HasSubstr("\xc3\xa9\xc3\xa9...\""));
  EXPECT_THAT(text, HasSubstr("AS \\\"bad??\\\""));
  const std::string rules = prometheus_rules(monitor.rules(), std::chrono::seconds(10));
  std::ofstream(dir_.path() + "/rules.yml") << rules;
  const auto checked = test::run_with_input("promtool check rules " + dir_.path() + "/rules.yml",
                                            "", dir_.path() + "/empty");
  EXPECT_EQ(checked.exit_code, 0) << checked.output << "\n" << rules;
  EXPECT_THAT(checked.output, HasSubstr("SUCCESS: 8 rules found"));
}

}  // namespace
}  // namespace nexdb
