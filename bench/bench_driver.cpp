// Point select: nexdb (pool + typed builder + cached prepared statement) vs raw libpq
// (PQexecPrepared on one connection) against the same local PostgreSQL primary, with the query
// built per call and prepared once with nexdb::prepare. Also the same for SQLite: nexdb vs raw
// sqlite3. Both sides end with their own copy of the text columns: raw libpq copies them into
// std::strings, nexdb's Rows own them (read back as string_views, no second copy).
#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <string>

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

void BM_raw_libpq_point_select(benchmark::State& state) {
  PGconn* conn = PQconnectdb(pg_uri().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    state.SkipWithError("PostgreSQL not reachable: run scripts/pg-cluster start");
    PQfinish(conn);
    return;
  }
  PQclear(PQprepare(conn, "point", "SELECT id, email, status FROM bench_users WHERE id = $1", 1, nullptr));
  std::int64_t id = 0;
  for (auto _ : state) {
    const std::string key = std::to_string(id++ % kRows + 1);
    const char* values[] = {key.c_str()};
    PGresult* r = PQexecPrepared(conn, "point", 1, values, nullptr, nullptr, 0);
    std::string email = PQgetvalue(r, 0, 1);
    std::string status = PQgetvalue(r, 0, 2);
    benchmark::DoNotOptimize(std::atoll(PQgetvalue(r, 0, 0)));
    benchmark::DoNotOptimize(email);
    PQclear(r);
  }
  PQfinish(conn);
}

void nexdb_point_select(benchmark::State& state, const std::string& uri) {
  auto db = nexdb::Database::open(nexdb::DatabaseSettings{.connection = {.uri = uri}, .pool = {.max_size = 2}});
  std::int64_t id = 0;
  for (auto _ : state) {
    const nexdb::Rows rows = db.execute(
        nexdb::select(BenchUser.id, BenchUser.email, BenchUser.status).from(BenchUser).where(BenchUser.id == id++ % kRows + 1));
    benchmark::DoNotOptimize(rows[0].get<std::int64_t>(0));
    benchmark::DoNotOptimize(rows[0].get<std::string_view>(1));
  }
}

// The same query prepared once with the builder (nexdb::prepare): each call binds the id into
// the statement rendered up front instead of building and rendering the query again.
void nexdb_prepared_point_select(benchmark::State& state, const std::string& uri) {
  auto db = nexdb::Database::open(nexdb::DatabaseSettings{.connection = {.uri = uri}, .pool = {.max_size = 2}});
  const auto find_user = nexdb::prepare<std::int64_t>([](auto user_id) {
    return nexdb::select(BenchUser.id, BenchUser.email, BenchUser.status).from(BenchUser).where(BenchUser.id == user_id);
  });
  std::int64_t id = 0;
  for (auto _ : state) {
    const nexdb::Rows rows = db.execute(find_user(id++ % kRows + 1));
    benchmark::DoNotOptimize(rows[0].get<std::int64_t>(0));
    benchmark::DoNotOptimize(rows[0].get<std::string_view>(1));
  }
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
