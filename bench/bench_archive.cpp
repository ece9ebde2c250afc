// Archiving and backups (issue 9, "Benchmark"), against the local cluster's primary:
//
//   BM_archive_same_db_nexdb     Archiver: 1M rows, batch 10,000, into an archive table of the
//                                same database (one CTE statement + checkpoint per batch)
//   BM_archive_same_db_libpq     baseline: the same CTE statement in a bare libpq loop, no
//                                checkpoint, no lock, no counting
//   BM_archive_other_db_nexdb    Archiver into another database: copy, verify, delete, with the
//                                crash-safe checkpoint (two commits per batch on each side)
//   BM_archive_other_db_libpq    baseline: SELECT a batch, multi-row INSERT there, DELETE here,
//                                in bare libpq, no verification and no checkpoint
//   BM_backup_verify_nexdb       BackupManager::create (logical) + verify (restore into a scratch
//                                instance, compare every table's rows and key checksum)
//   BM_backup_verify_pg_tools    baseline: pg_dump -Fc, createdb, pg_restore -j2 by hand
//
// Sizes: NEXDB_BENCH_ARCHIVE_ROWS (default 1,000,000), NEXDB_BENCH_BACKUP_MB (default 100; the
// figure in RESULTS.md used 1024). Needs `scripts/pg-cluster start` on NEXDB_PG_PORT.
#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "nexdb/archive.hpp"
#include "nexdb/backup.hpp"
#include "nexdb/connection.hpp"
#include "nexdb/database.hpp"
#include "ratio_main.hpp"

namespace {

namespace fs = std::filesystem;
constexpr std::size_t kBatch = 10000;

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoll(v) : fallback;
}
std::int64_t archive_rows() { return env_int("NEXDB_BENCH_ARCHIVE_ROWS", 1000000); }
std::string port() { return std::to_string(env_int("NEXDB_PG_PORT", 54320)); }
std::string uri(const std::string& db) {
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/{}", port(), db);
}

void admin(const std::string& sql) { nexdb::connect(uri("nexdb"))->execute_script(sql); }
/// DROP DATABASE cannot share a statement string with anything.
void recreate(const std::string& name) {
  admin(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name));
  admin(fmt::format("CREATE DATABASE {}", name));
}
void drop(const std::string& name) {
  admin(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name));
}

/// A fresh database `name` with 1M old orders (plus 10% recent ones that stay).
void fresh_orders_database(const std::string& name, std::int64_t rows) {
  recreate(name);
  auto c = nexdb::connect(uri(name));
  c->execute_script(fmt::format(
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status TEXT NOT NULL, "
      "total NUMERIC(12,2) NOT NULL, created_at TIMESTAMPTZ NOT NULL);"
      "INSERT INTO orders SELECT g, g % 1000, CASE WHEN g % 3 = 0 THEN 'shipped' ELSE 'new' END, "
      "(g % 10000) / 100.0, "
      "CASE WHEN g <= {0} THEN timestamptz '2024-01-01' + g * interval '1 second' ELSE now() END "
      "FROM generate_series(1, {1}) g;"
      "CREATE INDEX ON orders (created_at)",
      rows, rows + rows / 10));
  c->execute_script("VACUUM ANALYZE orders");
}

void fresh_archive_database(const std::string& name) {
  recreate(name);
  nexdb::connect(uri(name))->execute_script(
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status TEXT NOT NULL, "
      "total NUMERIC(12,2) NOT NULL, created_at TIMESTAMPTZ NOT NULL)");
}

constexpr const char* kOld = "created_at < timestamptz '2025-01-01'";

/// A bare libpq connection, closed by the destructor.
struct Pq {
  PGconn* c;
  explicit Pq(const std::string& db)
      : c(PQconnectdb(
            fmt::format("host=127.0.0.1 port={} user=nexdb dbname={}", port(), db).c_str())) {
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c));
  }
  ~Pq() { PQfinish(c); }
  PGresult* run(const char* sql, std::vector<const char*> params = {}) {
    PGresult* r = PQexecParams(c, sql, static_cast<int>(params.size()), nullptr, params.data(),
                               nullptr, nullptr, 0);
    const auto s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
      const std::string e = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(e);
    }
    return r;
  }
  void exec(const char* sql, std::vector<const char*> params = {}) { PQclear(run(sql, params)); }
};

void report(benchmark::State& state, std::uint64_t rows) {
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

void BM_archive_same_db_nexdb(benchmark::State& state) {
  std::uint64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fresh_orders_database("bench_archive_src", archive_rows());
    auto db = nexdb::Database::open(uri("bench_archive_src"));
    db.execute("CREATE TABLE orders_archive (LIKE orders, PRIMARY KEY (id))");
    state.ResumeTiming();
    rows = nexdb::Archiver(
               db, {.table = "orders", .where = kOld, .batch_size = kBatch, .count_first = false})
               .run()
               .rows;
    if (rows != static_cast<std::uint64_t>(archive_rows()))
      state.SkipWithError("not every row moved");
  }
  report(state, rows);
}

void BM_archive_same_db_libpq(benchmark::State& state) {
  std::uint64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fresh_orders_database("bench_archive_src", archive_rows());
    Pq pq("bench_archive_src");
    pq.exec("CREATE TABLE orders_archive (LIKE orders, PRIMARY KEY (id))");
    state.ResumeTiming();
    rows = 0;
    std::string last = "0";
    for (;;) {
      const char* sql =
          "WITH batch AS (SELECT id FROM orders WHERE created_at < timestamptz '2025-01-01' AND id "
          "> $1 "
          "ORDER BY id LIMIT 10000), moved AS (DELETE FROM orders USING batch WHERE orders.id = "
          "batch.id "
          "RETURNING orders.*), ins AS (INSERT INTO orders_archive SELECT * FROM moved RETURNING "
          "1) "
          "SELECT (SELECT count(*) FROM ins), (SELECT max(id) FROM batch)";
      PGresult* r = pq.run(sql, {last.c_str()});
      const auto n = std::stoull(PQgetvalue(r, 0, 0));
      if (n > 0) last = PQgetvalue(r, 0, 1);
      PQclear(r);
      rows += n;
      if (n < kBatch) break;
    }
  }
  report(state, rows);
}

void BM_archive_other_db_nexdb(benchmark::State& state) {
  std::uint64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fresh_orders_database("bench_archive_src", archive_rows());
    fresh_archive_database("bench_archive_dst");
    auto source = nexdb::Database::open(uri("bench_archive_src"));
    auto target = nexdb::Database::open(uri("bench_archive_dst"));
    state.ResumeTiming();
    rows = nexdb::Archiver(source, {.table = "orders",
                                    .where = kOld,
                                    .to = {.database = target},
                                    .batch_size = kBatch,
                                    .count_first = false})
               .run()
               .rows;
    if (rows != static_cast<std::uint64_t>(archive_rows()))
      state.SkipWithError("not every row moved");
  }
  report(state, rows);
}

void BM_archive_other_db_libpq(benchmark::State& state) {
  std::uint64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fresh_orders_database("bench_archive_src", archive_rows());
    fresh_archive_database("bench_archive_dst");
    Pq src("bench_archive_src");
    Pq dst("bench_archive_dst");
    state.ResumeTiming();
    rows = 0;
    std::string last = "0";
    for (;;) {
      src.exec("BEGIN");
      PGresult* r = src.run(
          "SELECT id, user_id, status, total, created_at FROM orders WHERE created_at < "
          "timestamptz '2025-01-01' "
          "AND id > $1 ORDER BY id LIMIT 10000 FOR UPDATE",
          {last.c_str()});
      const int n = PQntuples(r);
      // Multi-row INSERTs of 2,000 rows (10,000 parameters each).
      for (int first = 0; first < n; first += 2000) {
        const int count = std::min(2000, n - first);
        std::string sql = "INSERT INTO orders VALUES ";
        std::vector<const char*> values;
        for (int i = 0; i < count; ++i) {
          sql += fmt::format("{}(${},${},${},${},${})", i ? "," : "", i * 5 + 1, i * 5 + 2,
                             i * 5 + 3, i * 5 + 4, i * 5 + 5);
          for (int c = 0; c < 5; ++c) values.push_back(PQgetvalue(r, first + i, c));
        }
        dst.exec(sql.c_str(), values);
      }
      std::string ids = "{";
      for (int i = 0; i < n; ++i) {
        if (i > 0) ids += ',';
        ids += PQgetvalue(r, i, 0);
      }
      ids += "}";
      if (n > 0) last = PQgetvalue(r, n - 1, 0);
      PQclear(r);
      src.exec("DELETE FROM orders WHERE id = ANY($1::bigint[])", {ids.c_str()});
      src.exec("COMMIT");
      rows += static_cast<std::uint64_t>(n);
      if (n < static_cast<int>(kBatch)) break;
    }
  }
  report(state, rows);
}

/// A database of about NEXDB_BENCH_BACKUP_MB megabytes (~270 bytes a row with its index entry).
const std::string& backup_database() {
  static const std::string name = [] {
    const std::int64_t mb = env_int("NEXDB_BENCH_BACKUP_MB", 100);
    const std::int64_t rows = mb * 1024 * 1024 / 270;
    recreate("bench_backup");
    nexdb::connect(uri("bench_backup"))
        ->execute_script(fmt::format("CREATE TABLE events (id BIGINT PRIMARY KEY, kind INT NOT "
                                     "NULL, payload TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);"
                                     "INSERT INTO events SELECT g, g % 50, md5(g::text) || md5((g "
                                     "* 7)::text) || md5((g * 13)::text) || "
                                     "md5((g * 17)::text) || md5((g * 19)::text) || md5((g * "
                                     "23)::text), now() FROM generate_series(1, {}) g",
                                     rows));
    nexdb::connect(uri("bench_backup"))->execute_script("VACUUM ANALYZE events");
    return std::string("bench_backup");
  }();
  return name;
}

/// A scratch directory, removed at exit (with the benchmark databases).
struct Scratch {
  fs::path dir = fs::temp_directory_path() / fmt::format("nexdb_bench_backup_{}", ::getpid());
  ~Scratch() {
    try {
      for (const char* db : {"bench_archive_src", "bench_archive_dst", "bench_backup"}) drop(db);
    } catch (const std::exception&) {
      // The cluster may be gone already.
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
} scratch_dir;

fs::path scratch() {
  fs::create_directories(scratch_dir.dir);
  return scratch_dir.dir;
}

void database_size(benchmark::State& state) {
  auto c = nexdb::connect(uri("bench_backup"));
  state.counters["db_MB"] =
      static_cast<double>(
          c->execute("SELECT pg_database_size('bench_backup')").scalar<std::int64_t>()) /
      1048576.0;
}

void BM_backup_verify_nexdb(benchmark::State& state) {
  const std::string db = backup_database();
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(scratch() / "repo");
    nexdb::BackupSettings settings{.repository = scratch() / "repo"};
    settings.scratch_ports = {.first = static_cast<int>(env_int("NEXDB_PG_PORT", 54320)) + 30,
                              .count = 10};
    nexdb::BackupManager backups(settings);
    const std::vector<nexdb::BackupTarget> targets{{.name = "bench", .uri = uri(db)}};
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    const nexdb::BackupInfo taken = backups.create(targets);
    const auto created = std::chrono::steady_clock::now();
    const nexdb::VerifyReport report = backups.verify(taken.id);
    if (!report.ok) state.SkipWithError(report.failures().c_str());
    state.counters["create_s"] = std::chrono::duration<double>(created - start).count();
    state.counters["verify_s"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - created).count();
    state.counters["backup_MB"] = static_cast<double>(taken.size) / 1048576.0;
  }
  database_size(state);
}

void BM_backup_verify_pg_tools(benchmark::State& state) {
  const std::string db = backup_database();
  const std::string bin = "/usr/lib/postgresql/15/bin";
  const std::string conn = fmt::format("-h 127.0.0.1 -p {} -U nexdb", port());
  const std::string dump = (scratch() / "plain.dump").string();
  for (auto _ : state) {
    state.PauseTiming();
    drop("bench_backup_restored");
    state.ResumeTiming();
    const std::string commands = fmt::format(
        "{0}/pg_dump {1} -Fc -f {2} {3} && {0}/createdb {1} bench_backup_restored && "
        "{0}/pg_restore {1} -j 2 --exit-on-error -d bench_backup_restored {2}",
        bin, conn, dump, db);
    if (std::system(commands.c_str()) != 0) state.SkipWithError("pg_dump / pg_restore failed");
  }
  drop("bench_backup_restored");
  database_size(state);
}

BENCHMARK(BM_archive_same_db_nexdb)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_archive_same_db_libpq)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_archive_other_db_nexdb)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_archive_other_db_libpq)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_backup_verify_nexdb)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_backup_verify_pg_tools)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

#define NEXDB_ONCE "/iterations:1/real_time"
NEXDB_BENCHMARK_MAIN(
    {{"BM_archive_same_db_nexdb" NEXDB_ONCE, "BM_archive_same_db_libpq" NEXDB_ONCE},
     {"BM_archive_other_db_nexdb" NEXDB_ONCE, "BM_archive_other_db_libpq" NEXDB_ONCE},
     {"BM_backup_verify_nexdb" NEXDB_ONCE, "BM_backup_verify_pg_tools" NEXDB_ONCE}})
