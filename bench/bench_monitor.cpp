// Monitoring overhead and scrape cost.
//  1. The same point-select workload with a DBMonitor watching the database vs without one
//     (PostgreSQL and SQLite): every statement fingerprinted (cached), timed into a histogram.
//  2. One scrape of 10,000 series (as Prometheus counts them: every bucket is a series) vs the
//     floor for writing the same number of lines with fmt.
#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "monitor/query_stats.hpp"
#include "nexdb/metrics.hpp"
#include "nexdb/monitor.hpp"
#include "nexdb/nexdb.hpp"
#include "bench_env.hpp"
#include "ratio_main.hpp"

namespace {

struct BenchUsers : nexdb::Table<BenchUsers> {
  static constexpr std::string_view table_name = "bench_monitor_users";
  nexdb::Column<std::int64_t> id{this, "id"};
  nexdb::Column<std::string> email{this, "email"};
};
const BenchUsers BenchUser;
constexpr std::int64_t kRows = 10000;

using nexdb::bench::pg_uri;

std::string sqlite_uri() { return "sqlite:/tmp/nexdb_bench_monitor.db"; }

void create_table(const std::string& uri) {
  auto conn = nexdb::connect(uri);
  conn->execute_script(
      "DROP TABLE IF EXISTS bench_monitor_users; CREATE TABLE bench_monitor_users (id BIGINT "
      "PRIMARY KEY, email TEXT)");
  conn->execute_script(
      conn->dialect() == nexdb::Dialect::postgres
          ? "INSERT INTO bench_monitor_users SELECT g, 'user' || g || '@example.com' FROM "
            "generate_series(1, 10000) g"
          : "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 10000) "
            "INSERT INTO bench_monitor_users SELECT i, 'user' || i || '@example.com' FROM g");
  if (conn->dialect() == nexdb::Dialect::postgres)
    conn->execute_script("VACUUM ANALYZE bench_monitor_users");
}

// The workload; `monitored` adds a DBMonitor (all groups watched, sampling every 10 s on its
// own thread) exporting into a registry of its own.
void point_selects(benchmark::State& state, const std::string& uri, bool monitored) {
  static bool created_pg = false, created_sqlite = false;
  bool& created = uri.starts_with("sqlite") ? created_sqlite : created_pg;
  try {
    if (!created) create_table(uri);
    created = true;
  } catch (const nexdb::ConnectionError& e) {
    state.SkipWithError(e.what());
    return;
  }
  auto db = nexdb::Database::open(
      nexdb::DatabaseSettings{.connection = {.uri = uri}, .pool = {.max_size = 4}});
  nexdb::metrics::Registry registry;
  std::optional<nexdb::DBMonitor> monitor;
  if (monitored) monitor.emplace(db, nexdb::MonitorSettings{.registry = &registry});
  std::int64_t id = state.thread_index() * 997;
  for (auto _ : state) {
    const nexdb::Rows rows = db.execute(nexdb::select(BenchUser.id, BenchUser.email)
                                            .from(BenchUser)
                                            .where(BenchUser.id == id++ % kRows + 1));
    benchmark::DoNotOptimize(rows[0].get<std::int64_t>(0));
  }
}

void BM_postgres_monitoring_off(benchmark::State& state) { point_selects(state, pg_uri(), false); }
void BM_postgres_monitoring_on(benchmark::State& state) { point_selects(state, pg_uri(), true); }
void BM_sqlite_monitoring_off(benchmark::State& state) {
  point_selects(state, sqlite_uri(), false);
}
void BM_sqlite_monitoring_on(benchmark::State& state) { point_selects(state, sqlite_uri(), true); }

BENCHMARK(BM_postgres_monitoring_off)->UseRealTime();
BENCHMARK(BM_postgres_monitoring_on)->UseRealTime();
BENCHMARK(BM_sqlite_monitoring_off)->UseRealTime();
BENCHMARK(BM_sqlite_monitoring_on)->UseRealTime();
BENCHMARK(BM_sqlite_monitoring_off)->Threads(2)->UseRealTime();
BENCHMARK(BM_sqlite_monitoring_on)->Threads(2)->UseRealTime();

// What monitoring adds to one statement, without the statement: the observer's bookkeeping for
// a SQL text seen before (hash, cache lookup, histogram, window max), 1 and 2 threads.
void BM_record_one_statement(benchmark::State& state) {
  static nexdb::metrics::Registry registry;
  static auto metrics = std::make_shared<nexdb::monitor_detail::QueryMetrics>(
      registry,
      std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                          5, 10},
      500, true, true);
  nexdb::monitor_detail::QueryObserver observer(metrics, "main");
  const nexdb::StatementEvent event{
      .sql =
          "SELECT \"bench_monitor_users\".\"id\", \"bench_monitor_users\".\"email\" FROM "
          "\"bench_monitor_users\" WHERE \"bench_monitor_users\".\"id\" = $1",
      .host = "127.0.0.1:5432/app",
      .dialect = nexdb::Dialect::postgres,
      .duration = std::chrono::microseconds(15),
      .rows = 1};
  for (auto _ : state) {
    if (observer.wants_statements()) observer.on_statement(event);
  }
}
BENCHMARK(BM_record_one_statement)->Threads(1)->Threads(2);

// 10,000 series the way a busy service has them: 400 query shapes x (15 buckets + sum + count)
// = 6,800, plus 3,200 gauges and counters; two constant labels on all.
constexpr int kShapes = 400;
constexpr int kGauges = 3200;

void fill(nexdb::metrics::Registry& registry) {
  auto& durations = registry.histogram(
      "nexdb_query_duration_seconds", "Statements", {"cluster", "host", "fingerprint"},
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  for (int i = 0; i < kShapes; ++i) {
    auto& h =
        durations.with({"main", "10.0.0.1:5432/app", fmt::format("{:016x}", i * 2654435761u)});
    for (int k = 0; k < 50; ++k) h.observe(0.0001 * (k * i % 977));
  }
  auto& gauges =
      registry.gauge("nexdb_server_connections", "Connections", {"cluster", "host", "state"});
  for (int i = 0; i < kGauges; ++i)
    gauges.with({"main", fmt::format("10.0.{}.{}:5432/app", i / 250, i % 250), "idle"}).set(i);
}

void BM_scrape_10000_series(benchmark::State& state) {
  nexdb::metrics::Registry registry;
  fill(registry);
  if (registry.series_count() != kShapes + kGauges) state.SkipWithError("wrong series count");
  const nexdb::metrics::Labels constant{{"environment", "production"}, {"service", "user-api"}};
  std::string out;
  for (auto _ : state) {
    out.clear();
    registry.expose_to(out, nexdb::metrics::ExpositionFormat::prometheus, constant);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}

// The floor: 10,000 lines of the same shape written with fmt into one string.
void BM_fmt_10000_lines(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < 10000; ++i) {
      fmt::format_to(
          std::back_inserter(out),
          "nexdb_query_duration_seconds_bucket{{environment=\"production\",service=\"user-api\","
          "cluster=\"main\",host=\"10.0.0.1:5432/app\",fingerprint=\"{:016x}\",le=\"{}\"}} {}\n",
          i, 0.25, i * 3);
    }
    benchmark::DoNotOptimize(out.data());
  }
}

BENCHMARK(BM_scrape_10000_series)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fmt_10000_lines)->Unit(benchmark::kMillisecond);

}  // namespace

NEXDB_BENCHMARK_MAIN({{"BM_postgres_monitoring_on/real_time",
                       "BM_postgres_monitoring_off/real_time"},
                      {"BM_sqlite_monitoring_on/real_time", "BM_sqlite_monitoring_off/real_time"},
                      {"BM_sqlite_monitoring_on/real_time/threads:2",
                       "BM_sqlite_monitoring_off/real_time/threads:2"},
                      {"BM_scrape_10000_series", "BM_fmt_10000_lines"}})
