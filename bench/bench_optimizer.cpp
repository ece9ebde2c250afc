// The optimizer (issue 7, "Benchmark"), against the local PostgreSQL primary and SQLite:
//
//   BM_seed_prepared_postgres        optimizer.run(get_user_orders(id)): the seed query on the
//                                    statement cache (prepared once per connection, reused)
//   BM_seed_unprepared_postgres      the same with statement_cache_size = 0: PostgreSQL parses and
//                                    plans the query on every call (PQexecParams)
//   BM_point_optimizer_postgres      a point select through optimizer.run()
//   BM_point_execute_postgres        the same through db.execute() (no bookkeeping)
//   BM_point_raw_libpq               PQexecPrepared on one connection, statement prepared once
//   BM_point_optimizer_sqlite /      the same pair on SQLite (in memory): the difference is the
//   BM_point_execute_sqlite          optimizer's bookkeeping per query
//   BM_point_cached_sqlite           optimizer.run() answered from the result cache
//   BM_txn_point_postgres            BEGIN; point select; COMMIT through a nexdb Transaction: the
//                                    select is the statement's first run in each transaction, so
//                                    the driver sends it between SAVEPOINT and RELEASE (pipelined)
//   BM_txn_point_raw_libpq           the same transaction on raw libpq, no savepoint
//
// The seed world: 1,000 users, 20,000 orders, the index orders(user_id, created_at) (so that the
// seed query is point-select sized: 20 rows by an index). Needs `scripts/pg-cluster start`; the
// PostgreSQL variants are skipped with a message when the server is not reachable.
#include <libpq-fe.h>

#include <cstdlib>
#include <string>

#include "nexdb/nexdb.hpp"
#include "query/models.hpp"  // the seed's models and query, shared with the tests
#include "ratio_main.hpp"

namespace {

using namespace nexdb;

using test::get_user_orders;  // the seed's query (design.md), verbatim
using test::Order;
using test::User;

constexpr std::int64_t kUsers = 1000;
constexpr const char* kSchema = "nexdb_bench_optimizer";

SelectQuery point_select(std::int64_t id) {
  return select(User.id, User.email).from(User).where(User.id == id);
}

std::string pg_base() {
  const char* port = std::getenv("NEXDB_PG_PORT");
  return std::string("postgresql://nexdb@127.0.0.1:") + (port ? port : "54320") + "/nexdb";
}
std::string pg_uri() { return pg_base() + "?options=-csearch_path%3D" + kSchema; }

void create_world(Connection& conn) {
  const bool pg = conn.dialect() == Dialect::postgres;
  if (pg) {
    conn.execute_script(std::string("DROP SCHEMA IF EXISTS ") + kSchema +
                        " CASCADE; CREATE SCHEMA " + kSchema);
    conn.execute_script(std::string("SET search_path = ") + kSchema);
  }
  conn.execute_script(
      "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, created_at TIMESTAMP);"
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status TEXT NOT NULL, "
      "total DOUBLE PRECISION NOT NULL, created_at TIMESTAMP NOT NULL);"
      "CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at)");
  conn.execute_script(
      pg ? "INSERT INTO users SELECT g, 'user' || g || '@example.com', now() FROM "
           "generate_series(1, 1000) g;"
           "INSERT INTO orders SELECT g, 1 + (g * 7919) % 1000, 'paid', g / 10.0, "
           "timestamp '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 20000) g"
         : "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 1000) "
           "INSERT INTO users SELECT i, 'user' || i || '@example.com', '2026-01-01' FROM g;"
           "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 20000) "
           "INSERT INTO orders SELECT i, 1 + (i * 7919) % 1000, 'paid', i / 10.0, '2026-01-01' "
           "FROM g");
  conn.execute_script(pg ? "VACUUM ANALYZE" : "ANALYZE");
}

template <class Run>
void loop(benchmark::State& state, Run&& run) {
  std::int64_t id = 0;
  for (auto _ : state) {
    const Rows rows = run(id++ % kUsers + 1);
    benchmark::DoNotOptimize(rows.size());
  }
}

Database open_pg(std::size_t cache) {
  return Database::open(
      DatabaseSettings{.connection = {.uri = pg_uri(), .statement_cache_size = cache},
                       .pool = {.min_idle = 1, .max_size = 2}});
}

template <class Body>
void on_postgres(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const ConnectionError& e) {
    state.SkipWithError(e.what());
  }
}

void BM_seed_prepared_postgres(benchmark::State& state) {
  on_postgres(state, [&] {
    QueryOptimizer optimizer{open_pg(256)};
    loop(state, [&](std::int64_t id) { return optimizer.run(get_user_orders(id)); });
  });
}

void BM_seed_unprepared_postgres(benchmark::State& state) {
  on_postgres(state, [&] {
    QueryOptimizer optimizer{open_pg(0)};
    loop(state, [&](std::int64_t id) { return optimizer.run(get_user_orders(id)); });
  });
}

void BM_point_optimizer_postgres(benchmark::State& state) {
  on_postgres(state, [&] {
    QueryOptimizer optimizer{open_pg(256)};
    loop(state, [&](std::int64_t id) { return optimizer.run(point_select(id)); });
  });
}

void BM_point_execute_postgres(benchmark::State& state) {
  on_postgres(state, [&] {
    Database db = open_pg(256);
    loop(state, [&](std::int64_t id) { return db.execute(point_select(id)); });
  });
}

/// A raw libpq connection with the point select prepared as "point"; null (the benchmark
/// skipped) when the server is not reachable.
PGconn* raw_point_connection(benchmark::State& state) {
  PGconn* conn = PQconnectdb(pg_uri().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    state.SkipWithError("PostgreSQL not reachable: run scripts/pg-cluster start");
    PQfinish(conn);
    return nullptr;
  }
  PQclear(PQprepare(conn, "point", "SELECT id, email FROM users WHERE id = $1", 1, nullptr));
  return conn;
}

void BM_point_raw_libpq(benchmark::State& state) {
  PGconn* conn = raw_point_connection(state);
  if (conn == nullptr) return;
  std::int64_t id = 0;
  for (auto _ : state) {
    const std::string key = std::to_string(id++ % kUsers + 1);
    const char* values[] = {key.c_str()};
    PGresult* r = PQexecPrepared(conn, "point", 1, values, nullptr, nullptr, 0);
    std::string email = PQgetvalue(r, 0, 1);
    benchmark::DoNotOptimize(std::atoll(PQgetvalue(r, 0, 0)));
    benchmark::DoNotOptimize(email);
    PQclear(r);
  }
  PQfinish(conn);
}

void BM_txn_point_postgres(benchmark::State& state) {
  on_postgres(state, [&] {
    Database db = open_pg(256);
    loop(state, [&](std::int64_t id) {
      return db.transaction([&](Transaction& tx) { return tx.execute(point_select(id)); });
    });
  });
}

void BM_txn_point_raw_libpq(benchmark::State& state) {
  PGconn* conn = raw_point_connection(state);
  if (conn == nullptr) return;
  std::int64_t id = 0;
  for (auto _ : state) {
    PQclear(PQexec(conn, "BEGIN ISOLATION LEVEL READ COMMITTED"));
    const std::string key = std::to_string(id++ % kUsers + 1);
    const char* values[] = {key.c_str()};
    PGresult* r = PQexecPrepared(conn, "point", 1, values, nullptr, nullptr, 0);
    benchmark::DoNotOptimize(std::atoll(PQgetvalue(r, 0, 0)));
    PQclear(r);
    PQclear(PQexec(conn, "COMMIT"));
  }
  PQfinish(conn);
}

// SQLite in memory: one connection, so the pool hands the same one back every time.
Database& sqlite_world() {
  static Database db = [] {
    Database d = Database::open("sqlite::memory:");
    Lease lease = d.connection();
    create_world(*lease);
    return d;
  }();
  return db;
}

void BM_point_optimizer_sqlite(benchmark::State& state) {
  QueryOptimizer optimizer{sqlite_world()};
  loop(state, [&](std::int64_t id) { return optimizer.run(point_select(id)); });
}

void BM_point_execute_sqlite(benchmark::State& state) {
  Database& db = sqlite_world();
  loop(state, [&](std::int64_t id) { return db.execute(point_select(id)); });
}

void BM_point_cached_sqlite(benchmark::State& state) {
  QueryOptimizer optimizer{sqlite_world()};
  loop(state, [&](std::int64_t id) {
    return optimizer.run(point_select(id), {.cache_ttl = std::chrono::minutes(10)});
  });
}

BENCHMARK(BM_seed_prepared_postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_seed_unprepared_postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_point_optimizer_postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_point_execute_postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_point_raw_libpq)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_txn_point_postgres)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_txn_point_raw_libpq)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_point_optimizer_sqlite)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_point_execute_sqlite)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_point_cached_sqlite)->Unit(benchmark::kNanosecond);

}  // namespace

int main(int argc, char** argv) {
  try {
    create_world(*connect(pg_base()));
  } catch (const Error& e) {
    fmt::print(stderr, "PostgreSQL benchmarks will be skipped: {}\n", e.what());
  }
  (void)sqlite_world();
  return bench::run_with_ratios(argc, argv,
                                {{"BM_seed_unprepared_postgres", "BM_seed_prepared_postgres"},
                                 {"BM_point_optimizer_postgres", "BM_point_execute_postgres"},
                                 {"BM_point_optimizer_postgres", "BM_point_raw_libpq"},
                                 {"BM_point_execute_postgres", "BM_point_raw_libpq"},
                                 {"BM_txn_point_postgres", "BM_txn_point_raw_libpq"},
                                 {"BM_point_optimizer_sqlite", "BM_point_execute_sqlite"},
                                 {"BM_point_cached_sqlite", "BM_point_execute_sqlite"}});
}
