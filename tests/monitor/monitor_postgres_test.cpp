// DBMonitor against the real PostgreSQL cluster: a provoked deadlock, pg_sleep, the primary and
// its streaming replicas, a host that is down, and promtool on the server metrics.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <latch>
#include <sstream>

#include "monitor/monitor_support.hpp"
#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"
#include "support/service.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using test::LogCapture;
using test::sample_value;
using ::testing::HasSubstr;
using ::testing::Not;

class PostgresMonitor : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Database::open(schema_.uri());
    host_ = db_->connection()->description();
  }
  MonitorSettings settings(std::map<std::string, double, std::less<>> thresholds = {}) {
    return {.alert_thresholds = std::move(thresholds),
            .interval = std::chrono::seconds(60),
            .sinks = {sink_},
            .registry = &registry_,
            .background = false};
  }
  std::string series(std::string_view name, std::string_view labels = {}) const {
    return fmt::format("{}{{cluster=\"default\",host=\"{}\"{}{}}}", name, host_,
                       labels.empty() ? "" : ",", labels);
  }
  std::vector<Alert> alerts_about(const std::string& name, const std::string& text) const {
    std::vector<Alert> out;
    for (const Alert& a : sink_->named(name)) {
      if (a.description.find(text) != std::string::npos) out.push_back(a);
    }
    return out;
  }

  test::PgSchema schema_;
  metrics::Registry registry_;
  std::shared_ptr<test::RecordingSink> sink_ = std::make_shared<test::RecordingSink>();
  std::optional<Database> db_;
  std::string host_;
};

// Two transactions lock two rows in opposite order; PostgreSQL kills one with 40P01.
bool one_side_of_a_deadlock(Database& db, int first, int second, std::latch& both_locked) {
  try {
    db.transaction([&](Transaction& tx) {
      tx.execute("SET LOCAL deadlock_timeout = '100ms'");
      tx.execute("UPDATE accounts SET balance = balance + 1 WHERE id = $1", first);
      both_locked.arrive_and_wait();
      tx.execute("UPDATE accounts SET balance = balance + 1 WHERE id = $1", second);
    });
    return false;
  } catch (const DeadlockDetected&) {
    return true;
  }
}

// A backend flushes its statistics at most once a second, and an idle one only after 10 s;
// pg_stat_force_next_flush() makes each of the pool's backends flush after its next statement.
void flush_server_statistics(Database& db) {
  std::vector<Lease> leases;
  const std::size_t open = db.pool().stats().total;
  for (std::size_t i = 0; i < open; ++i) leases.push_back(db.connection());
  for (Lease& lease : leases) lease->execute("SELECT pg_stat_force_next_flush()");
}

TEST_F(PostgresMonitor, AProvokedDeadlockRaisesDeadlockCountAndFiresTheAlert) {
  db_->execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)");
  db_->execute("INSERT INTO accounts VALUES (1, 0), (2, 0)");
  DBMonitor monitor(*db_, settings({{"deadlock_count", 0}}));
  monitor.sample();
  const double server_before =
      sample_value(registry_.expose(), series("nexdb_server_deadlocks_total")).value();
  std::latch both_locked(2);
  auto a = std::async(std::launch::async,
                      [&] { return one_side_of_a_deadlock(*db_, 1, 2, both_locked); });
  auto b = std::async(std::launch::async,
                      [&] { return one_side_of_a_deadlock(*db_, 2, 1, both_locked); });
  ASSERT_EQ(a.get() + b.get(), 1) << "exactly one transaction is the deadlock's victim";
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  const auto fired = sink_->named("NexdbDeadlocks");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].state, AlertState::firing);
  EXPECT_EQ(fired[0].labels.at("host"), host_);
  EXPECT_GE(fired[0].value, 1);
  EXPECT_EQ(sample_value(registry_.expose(), series("nexdb_client_deadlocks_total")), 1);
  // The server's own count arrives when the victim's backend flushes its statistics.
  flush_server_statistics(*db_);
  EXPECT_TRUE(test::eventually([&] {
    monitor.sample();
    return sample_value(registry_.expose(), series("nexdb_server_deadlocks_total")).value() >=
           server_before + 1;
  }));
}

TEST_F(PostgresMonitor, ASlowQueryFiresQueryDurationAndResolves) {
  DBMonitor monitor(*db_, settings({{"query_duration", 200}}));
  monitor.sample();
  // Shapes of their own (fingerprints ignore aliases and constants): statements running on the
  // server count, whoever runs them, and other tests sleep on the same server.
  db_->execute("SELECT pg_sleep(0.3) IS NULL");
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  auto alerts = alerts_about("NexdbQueryDurationHigh", "IS NULL");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::firing);
  EXPECT_GE(alerts[0].value, 300);
  EXPECT_EQ(alerts[0].description, "SELECT pg_sleep($1) IS NULL");
  const std::string fingerprint = alerts[0].labels.at("fingerprint");
  const std::string text = registry_.expose();
  const std::string labels = fmt::format("fingerprint=\"{}\"", fingerprint);
  EXPECT_EQ(
      sample_value(text, series("nexdb_query_duration_seconds_bucket", labels + ",le=\"0.25\"")),
      0);
  EXPECT_EQ(
      sample_value(text, series("nexdb_query_duration_seconds_bucket", labels + ",le=\"0.5\"")), 1);
  EXPECT_GE(sample_value(text, series("nexdb_query_duration_max_seconds", labels)).value_or(0),
            0.3);
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  alerts = alerts_about("NexdbQueryDurationHigh", "IS NULL");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[1].state, AlertState::resolved);
}

TEST_F(PostgresMonitor, AStatementStillRunningFiresBeforeItEnds) {
  DBMonitor monitor(*db_, settings({{"query_duration", 200}}));
  monitor.sample();
  auto running = std::async(std::launch::async,
                            [&] { db_->execute("SELECT coalesce(pg_sleep(2)::text, 'done')"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  EXPECT_EQ(running.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  const auto alerts = alerts_about("NexdbQueryDurationHigh", "coalesce");
  std::string seen;
  for (const Alert& a : sink_->alerts())
    seen += a.name + " " + a.summary + " | " + a.description + "\n";
  ASSERT_EQ(alerts.size(), 1u) << seen;
  EXPECT_GE(alerts[0].value, 500);
  running.get();
}

TEST_F(PostgresMonitor, ServerStatisticsOfThePrimaryAndItsReplicas) {
  ReplicaManager replicas({.primary = test::pg_primary_uri(),
                           .replicas = {test::pg_replica_uri(1), test::pg_replica_uri(2)},
                           .read_preference = ReadPreference::replica});
  auto s = settings();
  DBMonitor monitor(s);
  monitor.watch(replicas, "main");
  replicas.refresh();
  for (int i = 0; i < 10; ++i) replicas.execute("SELECT 1");
  monitor.sample();
  monitor.sample();
  const std::string text = registry_.expose();
  const std::string primary = fmt::format("127.0.0.1:{}/nexdb", test::pg_base_port());
  const auto at = [&](std::string_view name, const std::string& host, std::string_view extra = {}) {
    return sample_value(text, fmt::format("{}{{cluster=\"main\",host=\"{}\"{}{}}}", name, host,
                                          extra.empty() ? "" : ",", extra));
  };
  EXPECT_EQ(at("nexdb_up", primary), 1);
  EXPECT_EQ(at("nexdb_host_is_primary", primary), 1);
  EXPECT_GT(at("nexdb_server_max_connections", primary).value_or(0), 0);
  EXPECT_GE(at("nexdb_server_connections", primary, "state=\"idle\"").value_or(0), 1);
  EXPECT_GT(at("nexdb_server_transactions_total", primary, "outcome=\"commit\"").value_or(0), 0);
  EXPECT_GT(at("nexdb_server_blocks_hit_total", primary).value_or(0), 0);
  for (int i = 1; i <= 2; ++i) {
    const std::string replica = fmt::format("127.0.0.1:{}/nexdb", test::pg_base_port() + i);
    EXPECT_EQ(at("nexdb_up", replica), 1) << text;
    EXPECT_EQ(at("nexdb_host_is_primary", replica), 0);
    EXPECT_TRUE(at("nexdb_replication_lag_bytes", replica).has_value());
    EXPECT_TRUE(at("nexdb_replication_lag_seconds", replica).has_value());
  }
  // Reads went to the replicas through their pools; each pool is exported under its host.
  const std::string replica1 = fmt::format("127.0.0.1:{}/nexdb", test::pg_base_port() + 1);
  const std::string replica2 = fmt::format("127.0.0.1:{}/nexdb", test::pg_base_port() + 2);
  EXPECT_EQ(at("nexdb_pool_acquired_total", replica1).value_or(0) +
                at("nexdb_pool_acquired_total", replica2).value_or(0),
            10);
  EXPECT_THAT(
      text, HasSubstr(fmt::format("nexdb_slow_statement_mean_seconds{{cluster=\"main\",host=\"{}\"",
                                  primary)));
  const MonitorSnapshot snap = monitor.snapshot();
  ASSERT_EQ(snap.hosts.size(), 3u);
  EXPECT_EQ(snap.hosts[0].role, "primary");
  EXPECT_EQ(snap.hosts[1].role, "replica");
  EXPECT_TRUE(std::any_of(snap.statements.begin(), snap.statements.end(),
                          [](auto& s) { return s.from_server; }));
  test::TempDir dir;
  const auto checked =
      test::run_with_input("promtool check metrics", text, dir.path() + "/metrics.txt");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
}

TEST_F(PostgresMonitor, AHostThatIsDownIsReportedNotFatal) {
  DBMonitor monitor(settings());
  monitor.watch(ClusterConfig{
      .name = "gone",
      .primary = fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", test::closed_port())});
  monitor.watch(*db_, "live");
  monitor.sample();
  const std::string text = registry_.expose();
  const std::string gone =
      fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", test::closed_port());
  EXPECT_EQ(sample_value(text, fmt::format("nexdb_up{{cluster=\"gone\",host=\"{}\"}}", gone)), 0);
  EXPECT_EQ(
      sample_value(
          text,
          fmt::format("nexdb_monitor_sample_errors_total{{cluster=\"gone\",host=\"{}\"}}", gone)),
      1);
  EXPECT_EQ(sample_value(text, fmt::format("nexdb_up{{cluster=\"live\",host=\"{}\"}}", host_)), 1);
  const HealthReport health = monitor.health();
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.body, HasSubstr("\"up\":false"));
}

// A password reaches the monitor every way it can: in URIs of watched hosts (reachable and not)
// and of alert sinks, in a CREATE/ALTER ROLE that pg_stat_statements keeps verbatim (PostgreSQL
// 15 does not normalise utility statements), in a literal and a comment of a statement running
// on the server, and in a literal of the application's own statement. It appears in no metric,
// alert, snapshot, health report or log line, while the statements themselves do show.
TEST_F(PostgresMonitor, PasswordsNeverReachMetricsAlertsSnapshotsOrLogs) {
  const std::string secret = "Pw" + schema_.name() + "Zq";
  const std::string role = schema_.name() + "_role";
  LogCapture logs;
  const int closed = test::closed_port();
  auto s = settings({{"query_duration", 200}});
  s.slow_statements = 100000;  // every statement of pg_stat_statements, whatever its speed
  s.sinks.push_back(
      alertmanager_sink({.url = fmt::format("http://am:{}@127.0.0.1:{}", secret, closed)}));
  s.sinks.push_back(webhook_sink(
      {.url = fmt::format("http://hook:{}@127.0.0.1:{}/hook", secret, closed), .attempts = 1}));
  DBMonitor monitor(*db_, s);
  monitor.watch(ClusterConfig{.name = "withpw",
                              .primary = fmt::format("postgresql://nexdb:{}@127.0.0.1:{}/nexdb",
                                                     secret, test::pg_base_port())});
  monitor.watch(ClusterConfig{
      .name = "gone",
      .primary = fmt::format("postgresql://nexdb:{}@127.0.0.1:{}/nexdb", secret, closed)});
  db_->execute(fmt::format("CREATE ROLE {} PASSWORD '{}'", role, secret));
  struct DropRole {
    Database& db;
    std::string role;
    ~DropRole() { db.execute("DROP ROLE IF EXISTS " + role); }
  } drop{*db_, role};
  db_->execute(fmt::format("ALTER ROLE {} PASSWORD '{}'", role, secret));
  db_->execute(fmt::format("SELECT length('{}') AS n", secret));
  auto running = std::async(std::launch::async, [&] {
    db_->execute(
        fmt::format("SELECT pg_sleep(1.5) /* password={} */, '{}' AS leaked", secret, secret));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  monitor.sample();
  running.get();
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());

  const std::string text = registry_.expose();
  const MonitorSnapshot snapshot = monitor.snapshot();
  std::string alerts;
  for (const Alert& a : sink_->alerts()) {
    alerts += a.summary + "\n" + a.description + "\n";
    for (const auto& [name, value] : a.labels) alerts += name + "=" + value + "\n";
  }
  // The paths were taken: the role statements, the running query and the down host all show.
  EXPECT_THAT(text, HasSubstr(fmt::format("ALTER ROLE {} PASSWORD $1", role)));
  EXPECT_THAT(alerts, HasSubstr("SELECT pg_sleep($1)"));
  EXPECT_THAT(text, HasSubstr(fmt::format("nexdb_up{{cluster=\"gone\",host=\"postgresql://"
                                          "nexdb:***@127.0.0.1:{}/nexdb\"}} 0",
                                          closed)));
  EXPECT_THAT(logs.text(), HasSubstr("alert sink webhook failed"));
  for (const auto& [what, output] : std::vector<std::pair<std::string, std::string>>{
           {"metrics", text},
           {"OpenMetrics", registry_.expose(metrics::ExpositionFormat::openmetrics)},
           {"alerts", alerts},
           {"text snapshot", to_text(snapshot)},
           {"JSON snapshot", to_json(snapshot)},
           {"health", monitor.health().body},
           {"log", logs.text()}}) {
    EXPECT_THAT(output, Not(HasSubstr(secret))) << what << ":\n" << output;
  }
}

}  // namespace
}  // namespace nexdb
