// Point select: nexdb (pool + typed builder + cached prepared statement) vs raw libpq
// (PQexecPrepared on one connection) against the same local PostgreSQL primary, with the query
// built per call and prepared once with nexdb::prepare. Also the same for SQLite: nexdb vs raw
// sqlite3. BM_point_select_paired_postgres alternates the PostgreSQL contenders in blocks within
// one run and reports median ratios, which drift in the machine's speed does not move. Both
// sides end with their own copy of the text columns: raw libpq copies them into std::strings,
// nexdb's Rows own them (read back as string_views, no second copy).
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "nexdb/nexdb.hpp"
#include "bench_env.hpp"
#include "ratio_main.hpp"

namespace {

struct BenchUsers : nexdb::Table<BenchUsers> {
  static constexpr std::string_view table_name = "bench_users";
  nexdb::Column<std::int64_t> id{this, "id"};
  nexdb::Column<std::string> email{this, "email"};
  nexdb::Column<std::string> status{this, "status"};
};
const BenchUsers BenchUser;
constexpr std::int64_t kRows = 10000;

using nexdb::bench::pg_uri;

void create_table(nexdb::Connection& conn) {
  conn.execute_script(
      "DROP TABLE IF EXISTS bench_users; CREATE TABLE bench_users (id BIGINT PRIMARY KEY, email TEXT, status TEXT)");
  conn.execute_script(
      conn.dialect() == nexdb::Dialect::postgres
          ? "INSERT INTO bench_users SELECT g, 'user' || g || '@example.com', 'active' FROM generate_series(1, 10000) g"
          : "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 10000) "
            "INSERT INTO bench_users SELECT i, 'user' || i || '@example.com', 'active' FROM g");
  // Settle the fresh table (hint bits, statistics) so neither contender pays for it.
  if (conn.dialect() == nexdb::Dialect::postgres) conn.execute_script("VACUUM ANALYZE bench_users");
}

// One raw libpq point select: what a careful hand-written caller does.
void raw_point_select(PGconn* conn, std::int64_t id) {
  const std::string key = std::to_string(id % kRows + 1);
  const char* values[] = {key.c_str()};
  PGresult* r = PQexecPrepared(conn, "point", 1, values, nullptr, nullptr, 0);
  std::string email = PQgetvalue(r, 0, 1);
  std::string status = PQgetvalue(r, 0, 2);
  benchmark::DoNotOptimize(std::atoll(PQgetvalue(r, 0, 0)));
  benchmark::DoNotOptimize(email);
  PQclear(r);
}

PGconn* raw_connection() {
  PGconn* conn = PQconnectdb(pg_uri().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    return nullptr;
  }
  PQclear(PQprepare(conn, "point", "SELECT id, email, status FROM bench_users WHERE id = $1", 1, nullptr));
  return conn;
}

void BM_raw_libpq_point_select(benchmark::State& state) {
  PGconn* conn = raw_connection();
  if (conn == nullptr) {
    state.SkipWithError("PostgreSQL not reachable: run scripts/pg-cluster start");
    return;
  }
  std::int64_t id = 0;
  for (auto _ : state) raw_point_select(conn, id++);
  PQfinish(conn);
}

// One nexdb point select with the query built and rendered per call.
void built_point_select(nexdb::Database& db, std::int64_t id) {
  const nexdb::Rows rows = db.execute(
      nexdb::select(BenchUser.id, BenchUser.email, BenchUser.status).from(BenchUser).where(BenchUser.id == id % kRows + 1));
  benchmark::DoNotOptimize(rows[0].get<std::int64_t>(0));
  benchmark::DoNotOptimize(rows[0].get<std::string_view>(1));
}

// The same query prepared once with the builder (nexdb::prepare): each call binds the id into
// the statement rendered up front instead of building and rendering the query again.
void prepared_point_select(nexdb::Database& db, std::int64_t id) {
  static const auto find_user = nexdb::prepare<std::int64_t>([](auto user_id) {
    return nexdb::select(BenchUser.id, BenchUser.email, BenchUser.status).from(BenchUser).where(BenchUser.id == user_id);
  });
  const nexdb::Rows rows = db.execute(find_user(id % kRows + 1));
  benchmark::DoNotOptimize(rows[0].get<std::int64_t>(0));
  benchmark::DoNotOptimize(rows[0].get<std::string_view>(1));
}

void nexdb_point_select(benchmark::State& state, const std::string& uri) {
  auto db = nexdb::Database::open(nexdb::DatabaseSettings{.connection = {.uri = uri}, .pool = {.max_size = 2}});
  std::int64_t id = 0;
  for (auto _ : state) built_point_select(db, id++);
}

void nexdb_prepared_point_select(benchmark::State& state, const std::string& uri) {
  auto db = nexdb::Database::open(nexdb::DatabaseSettings{.connection = {.uri = uri}, .pool = {.max_size = 2}});
  std::int64_t id = 0;
  for (auto _ : state) prepared_point_select(db, id++);
}

void BM_nexdb_prepared_point_select_postgres(benchmark::State& state) {
  try {
    nexdb_prepared_point_select(state, pg_uri());
  } catch (const nexdb::ConnectionError& e) {
    state.SkipWithError(e.what());
  }
}

void BM_nexdb_point_select_postgres(benchmark::State& state) {
  try {
    nexdb_point_select(state, pg_uri());
  } catch (const nexdb::ConnectionError& e) {
    state.SkipWithError(e.what());
  }
}

// The contenders alternated in blocks within one run (raw, prepared, per call, prepared with
// text results, raw again), each block's time divided by the mean of the two raw blocks around
// it. Drift in the machine's speed (other guests, frequency) then cancels out; the counters are
// the medians of those ratios over all rounds (and the quartiles of the prepared one).
void BM_point_select_paired_postgres(benchmark::State& state) {
  PGconn* conn = raw_connection();
  if (conn == nullptr) {
    state.SkipWithError("PostgreSQL not reachable: run scripts/pg-cluster start");
    return;
  }
  // One pooled connection, so its server backend is known.
  auto db = nexdb::Database::open(nexdb::DatabaseSettings{.connection = {.uri = pg_uri()}, .pool = {.max_size = 1}});
  const std::int64_t raw_backend = PQbackendPID(conn);
  const auto nexdb_backend = db.execute("SELECT pg_backend_pid()").scalar<std::int64_t>();
  // The same with text results, as the raw caller asks for: the server's output functions and
  // the client's decoding differ between the two formats.
  auto text_db = nexdb::Database::open(nexdb::DatabaseSettings{
      .connection = {.uri = pg_uri(), .result_format = nexdb::ResultFormat::text}, .pool = {.max_size = 1}});
  const auto text_backend = text_db.execute("SELECT pg_backend_pid()").scalar<std::int64_t>();
  std::int64_t id = 0;
  const auto raw = [&] { raw_point_select(conn, id++); };
  const auto prepared = [&] { prepared_point_select(db, id++); };
  const auto per_call = [&] { built_point_select(db, id++); };
  const auto prepared_text = [&] { prepared_point_select(text_db, id++); };
  constexpr int kBlock = 500;
  const auto block = [&](const auto& query) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kBlock; ++i) query();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kBlock;
  };
  for (int i = 0; i < 200; ++i) raw(), prepared(), per_call(), prepared_text();
  std::vector<double> prepared_ratio, per_call_ratio, text_ratio, raw_us;
  std::int64_t raw_server_ns = 0, prepared_server_ns = 0, text_server_ns = 0;
  // A block that also adds its backend's CPU time to `server_ns`.
  const auto server_timed_block = [&](const auto& query, std::int64_t backend, std::int64_t& server_ns) {
    const std::int64_t before = nexdb::bench::cpu_ns(backend);
    const double us = block(query);
    server_ns += nexdb::bench::cpu_ns(backend) - before;
    return us;
  };
  for (auto _ : state) {
    const double raw_before = server_timed_block(raw, raw_backend, raw_server_ns);
    const double prepared_us = server_timed_block(prepared, nexdb_backend, prepared_server_ns);
    const double per_call_us = block(per_call);
    const double text_us = server_timed_block(prepared_text, text_backend, text_server_ns);
    const double raw_mean = (raw_before + block(raw)) / 2;
    raw_us.push_back(raw_mean);
    prepared_ratio.push_back(prepared_us / raw_mean);
    per_call_ratio.push_back(per_call_us / raw_mean);
    text_ratio.push_back(text_us / raw_mean);
  }
  const auto quantile = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
  };
  state.counters["raw_us"] = quantile(raw_us, 0.5);
  state.counters["prepared_x"] = quantile(prepared_ratio, 0.5);
  state.counters["prepared_q1"] = quantile(prepared_ratio, 0.25);
  state.counters["prepared_q3"] = quantile(prepared_ratio, 0.75);
  state.counters["per_call_x"] = quantile(per_call_ratio, 0.5);
  state.counters["prepared_text_x"] = quantile(text_ratio, 0.5);
  // Server CPU per query of each side's backend (/proc/<pid>/schedstat; 0 where unreadable):
  // with client and server sharing a CPU, a client that touches more memory slows the server.
  const double queries = static_cast<double>(state.iterations()) * kBlock;
  state.counters["raw_server_us"] = static_cast<double>(raw_server_ns) / 1e3 / queries;
  state.counters["prepared_server_us"] = static_cast<double>(prepared_server_ns) / 1e3 / queries;
  state.counters["text_server_us"] = static_cast<double>(text_server_ns) / 1e3 / queries;
  PQfinish(conn);
}

void BM_raw_sqlite_point_select(benchmark::State& state, const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v3(db, "SELECT id, email, status FROM bench_users WHERE id = ?", -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  std::int64_t id = 0;
  for (auto _ : state) {
    sqlite3_bind_int64(stmt, 1, id++ % kRows + 1);
    sqlite3_step(stmt);
    benchmark::DoNotOptimize(sqlite3_column_int64(stmt, 0));
    std::string email(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
    benchmark::DoNotOptimize(email);
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

const std::string kSqlitePath = "/tmp/nexdb_bench_driver.db";

void BM_raw_sqlite3_point_select(benchmark::State& state) { BM_raw_sqlite_point_select(state, kSqlitePath); }
void BM_nexdb_point_select_sqlite(benchmark::State& state) { nexdb_point_select(state, "sqlite:" + kSqlitePath); }
void BM_nexdb_prepared_point_select_sqlite(benchmark::State& state) {
  nexdb_prepared_point_select(state, "sqlite:" + kSqlitePath);
}

BENCHMARK(BM_raw_libpq_point_select)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_nexdb_point_select_postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_nexdb_prepared_point_select_postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_point_select_paired_postgres)->Iterations(40)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_raw_sqlite3_point_select)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_nexdb_point_select_sqlite)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_nexdb_prepared_point_select_sqlite)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  try {
    create_table(*nexdb::connect(pg_uri()));
  } catch (const nexdb::Error& e) {
    fmt::print(stderr, "PostgreSQL benchmarks will be skipped: {}\n", e.what());
  }
  std::remove(kSqlitePath.c_str());
  create_table(*nexdb::connect("sqlite:" + kSqlitePath));
  return nexdb::bench::run_with_ratios(argc, argv,
                                       {{"BM_nexdb_point_select_postgres", "BM_raw_libpq_point_select"},
                                        {"BM_nexdb_prepared_point_select_postgres", "BM_raw_libpq_point_select"},
                                        {"BM_nexdb_point_select_sqlite", "BM_raw_sqlite3_point_select"},
                                        {"BM_nexdb_prepared_point_select_sqlite", "BM_raw_sqlite3_point_select"}});
}
