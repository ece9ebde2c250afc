// Migrations at scale: 1,000 small file migrations applied to a fresh database (SQLite file in
// /tmp and a PostgreSQL schema), then `status` and a no-op `migrate` (what every app instance
// does at start-up) on the up-to-date database. Goals (issue 3): apply under 2 s on SQLite,
// status under 50 ms.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/database.hpp"
#include "nexdb/migrate.hpp"

namespace {

namespace fs = std::filesystem;
constexpr int kMigrations = 1000;

/// A scratch directory under /tmp, removed at exit.
struct Scratch {
  fs::path dir = fs::temp_directory_path() / fmt::format("nexdb_bench_migrate_{}", ::getpid());
  Scratch() { fs::create_directories(dir); }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

const fs::path& scratch() {
  static const Scratch scratch;
  return scratch.dir;
}

/// 1,000 migrations: each creates a small table and inserts a row into it.
const fs::path& folder() {
  static const fs::path dir = [] {
    fs::path d = scratch() / "migrations";
    fs::create_directories(d);
    for (int i = 1; i <= kMigrations; ++i) {
      std::ofstream(d / fmt::format("V1.{}__create_t{}.sql", i, i)) << fmt::format(
          "CREATE TABLE t{0} (id INTEGER PRIMARY KEY, v TEXT);\n"
          "INSERT INTO t{0} (id, v) VALUES (1, 'row {0}');\n",
          i);
    }
    return d;
  }();
  return dir;
}

std::string pg_primary() {
  const char* port = std::getenv("NEXDB_PG_PORT");
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", port ? port : "54320");
}

/// PostgreSQL schemas created by this run, dropped at exit.
struct Schemas {
  std::vector<std::string> names;
  ~Schemas() {
    try {
      auto admin = nexdb::connect(pg_primary());
      for (const auto& name : names)
        admin->execute_script(fmt::format("DROP SCHEMA {} CASCADE", name));
    } catch (const std::exception&) {
      // The cluster may be gone already; its data is throwaway.
    }
  }
};

/// A fresh, empty database: a new SQLite file or a new PostgreSQL schema.
std::string fresh_database(nexdb::Dialect dialect) {
  static int n = 0;
  static Schemas schemas;
  ++n;
  if (dialect == nexdb::Dialect::sqlite) {
    return fmt::format("sqlite:{}/db{}.db", scratch().string(), n);
  }
  const std::string schema = fmt::format("bench_migrate_{}_{}", ::getpid(), n);
  nexdb::connect(pg_primary())->execute_script(fmt::format("CREATE SCHEMA {}", schema));
  schemas.names.push_back(schema);
  return fmt::format("{}?options=-csearch_path%3D{}", pg_primary(), schema);
}

bool usable(benchmark::State& state, nexdb::Dialect dialect) {
  if (dialect == nexdb::Dialect::sqlite) return true;
  try {
    nexdb::connect(pg_primary())->execute("SELECT 1");
    return true;
  } catch (const std::exception&) {
    state.SkipWithError("PostgreSQL not reachable: run scripts/pg-cluster start");
    return false;
  }
}

/// An up-to-date database with all 1,000 applied, shared by the status/no-op benchmarks.
const std::string& migrated_database(nexdb::Dialect dialect) {
  static std::string uris[2];
  std::string& uri = uris[static_cast<int>(dialect)];
  if (uri.empty()) {
    uri = fresh_database(dialect);
    nexdb::MigrationManager migrations(nexdb::Database::open(uri));
    migrations.load(folder());
    migrations.migrate();
  }
  return uri;
}

void BM_apply_1000(benchmark::State& state, nexdb::Dialect dialect) {
  if (!usable(state, dialect)) return;
  folder();  // written once, outside the timing
  for (auto _ : state) {
    state.PauseTiming();
    const std::string uri = fresh_database(dialect);
    state.ResumeTiming();
    // Everything `nexdb migrate up` does: open, read the folder, lock, apply, unlock.
    nexdb::MigrationManager migrations(nexdb::Database::open(uri));
    migrations.load(folder());
    const auto report = migrations.migrate();
    if (report.steps.size() != kMigrations) state.SkipWithError("not every migration was applied");
  }
  state.counters["per_migration_us"] =
      benchmark::Counter(static_cast<double>(kMigrations) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// status() of an open manager (folder already loaded) on an up-to-date database.
void BM_status_1000(benchmark::State& state, nexdb::Dialect dialect) {
  if (!usable(state, dialect)) return;
  nexdb::MigrationManager migrations(nexdb::Database::open(migrated_database(dialect)));
  migrations.load(folder());
  for (auto _ : state) {
    const auto status = migrations.status();
    if (status.count(nexdb::MigrationState::applied) != kMigrations)
      state.SkipWithError("not up to date");
  }
}

/// What `nexdb migrate status` does from cold: open the database, read 1,000 files, status().
void BM_status_1000_cold(benchmark::State& state, nexdb::Dialect dialect) {
  if (!usable(state, dialect)) return;
  const std::string& uri = migrated_database(dialect);
  for (auto _ : state) {
    nexdb::MigrationManager migrations(nexdb::Database::open(uri));
    migrations.load(folder());
    benchmark::DoNotOptimize(migrations.status());
  }
}

/// migrate() with nothing to do: lock, read the history, plan, unlock (every app start-up).
void BM_migrate_noop_1000(benchmark::State& state, nexdb::Dialect dialect) {
  if (!usable(state, dialect)) return;
  nexdb::MigrationManager migrations(nexdb::Database::open(migrated_database(dialect)));
  migrations.load(folder());
  for (auto _ : state) {
    if (!migrations.migrate().steps.empty()) state.SkipWithError("applied something");
  }
}

using benchmark::kMillisecond;
using nexdb::Dialect;
BENCHMARK_CAPTURE(BM_apply_1000, sqlite, Dialect::sqlite)
    ->Iterations(3)
    ->Unit(kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_apply_1000, postgres, Dialect::postgres)
    ->Iterations(3)
    ->Unit(kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_status_1000, sqlite, Dialect::sqlite)
    ->Iterations(50)
    ->Unit(kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_status_1000, postgres, Dialect::postgres)
    ->Iterations(50)
    ->Unit(kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_status_1000_cold, sqlite, Dialect::sqlite)
    ->Iterations(20)
    ->Unit(kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_status_1000_cold, postgres, Dialect::postgres)
    ->Iterations(20)
    ->Unit(kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_migrate_noop_1000, sqlite, Dialect::sqlite)
    ->Iterations(50)
    ->Unit(kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_migrate_noop_1000, postgres, Dialect::postgres)
    ->Iterations(50)
    ->Unit(kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
