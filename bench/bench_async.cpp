// The async API against the local primary (issue 8, "Benchmark"). Every benchmark reports the
// time per point select (manual time: a round's wall time divided by its selects), so pairs are
// comparable and items/s is selects per second.
//
//   BM_sync_100_sequential         100 point selects one after another, blocking driver, one
//                                  connection
//   BM_async_100_pipelined         the same 100 as one pipeline on one AsyncLease
//   BM_async_100_pipelined_pool    the same through AsyncDatabase::pipeline() (a connection leased
//                                  per round)
//   BM_sync_8_threads              6,400 selects: 8 threads over a blocking ConnectionPool of 8
//   BM_async_64_coroutines         6,400 selects: 64 coroutines on one thread, pool of 8,
//                                  implicit batching (default: up to 4 lanes); also with 8 lanes
//                                  and without batching
//   BM_pgbench_select_only         `pgbench -S -M prepared -n -c 8 -j 2 -T 3` (tps without
//                                  connection time), the baseline
//   BM_async_select_only_*         pgbench's select-only statement with a random aid, through
//                                  AsyncDatabase::async_run from 8 or 64 coroutines on one thread
//
// Needs `scripts/pg-cluster start` (NEXDB_PG_PORT); loads pgbench's tables (`pgbench -i -s 1`)
// when they are missing.
#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "async/async_test_support.hpp"
#include "nexdb/async.hpp"
#include "nexdb/nexdb.hpp"
#include "ratio_main.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nexdb::test::run_on;

constexpr int kRows = 10000;
constexpr const char* kSelect = "SELECT balance, name FROM bench_async_accounts WHERE id = $1";
constexpr const char* kPgbenchSelect = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
constexpr int kPgbenchRows = 100000;  // scale 1

int pg_port() {
  const char* port = std::getenv("NEXDB_PG_PORT");
  return port != nullptr && *port != '\0' ? std::atoi(port) : 54320;
}
std::string uri() { return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", pg_port()); }
std::string pg_bindir() {
  const char* dir = std::getenv("NEXDB_PG_BINDIR");
  return dir != nullptr ? dir : "/usr/lib/postgresql/15/bin";
}

bool prepare_tables(benchmark::State& state) {
  try {
    auto c = nexdb::connect(uri());
    c->execute_script(fmt::format(
        "CREATE TABLE IF NOT EXISTS bench_async_accounts (id int PRIMARY KEY, balance int, "
        "name text); INSERT INTO bench_async_accounts SELECT g, g % 1000, 'account ' || g FROM "
        "generate_series(1, {}) g ON CONFLICT DO NOTHING; ANALYZE bench_async_accounts",
        kRows));
    return true;
  } catch (const std::exception& e) {
    state.SkipWithError(fmt::format("no PostgreSQL at {}: {}", uri(), e.what()).c_str());
    return false;
  }
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

nexdb::Value random_id(std::minstd_rand& random, int rows) {
  return nexdb::Value(std::int64_t{std::uniform_int_distribution<int>(1, rows)(random)});
}

// --- 100 point selects on one connection ---------------------------------------------------

void BM_sync_100_sequential(benchmark::State& state) {
  if (!prepare_tables(state)) return;
  auto connection = nexdb::connect(uri());
  std::minstd_rand random(1);
  connection->execute(nexdb::Statement{kSelect, {random_id(random, kRows)}});  // prepared
  for (auto _ : state) {
    const auto start = Clock::now();
    for (int i = 0; i < 100; ++i) {
      benchmark::DoNotOptimize(
          connection->execute(nexdb::Statement{kSelect, {random_id(random, kRows)}}));
    }
    state.SetIterationTime(seconds(Clock::now() - start) / 100);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_sync_100_sequential)->UseManualTime()->Iterations(200);

asio::awaitable<std::vector<nexdb::Rows>> hundred(nexdb::Pipeline pipeline,
                                                  std::minstd_rand& random) {
  for (int i = 0; i < 100; ++i) pipeline.add(nexdb::Statement{kSelect, {random_id(random, kRows)}});
  co_return co_await pipeline.async_run();
}

// 100 selects as one pipeline per round: on one AsyncLease held throughout, or through
// AsyncDatabase::pipeline() (a connection leased from the pool for each round).
void pipelined(benchmark::State& state, bool on_lease) {
  if (!prepare_tables(state)) return;
  asio::io_context io;
  auto db =
      nexdb::Database::open({.connection = {.uri = uri()}, .pool = {.min_idle = 1, .max_size = 1}});
  nexdb::AsyncDatabase adb(io.get_executor(), db);
  nexdb::AsyncLease lease;
  if (on_lease) lease = run_on(io, adb.async_acquire());
  auto pipeline = [&] { return on_lease ? lease.pipeline() : adb.pipeline(); };
  std::minstd_rand random(1);
  run_on(io, hundred(pipeline(), random));  // prepared
  for (auto _ : state) {
    const auto start = Clock::now();
    auto results = run_on(io, hundred(pipeline(), random));
    state.SetIterationTime(seconds(Clock::now() - start) / 100);
    if (results.size() != 100 || results[99].size() != 1) state.SkipWithError("wrong results");
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_async_100_pipelined(benchmark::State& state) { pipelined(state, true); }
BENCHMARK(BM_async_100_pipelined)->UseManualTime()->Iterations(200);
void BM_async_100_pipelined_pool(benchmark::State& state) { pipelined(state, false); }
BENCHMARK(BM_async_100_pipelined_pool)->UseManualTime()->Iterations(200);

// --- 6,400 selects: one thread with 64 coroutines vs 8 threads -------------------------------

constexpr int kRound = 6400;

void BM_sync_8_threads(benchmark::State& state) {
  if (!prepare_tables(state)) return;
  nexdb::ConnectionPool pool(nexdb::ConnectOptions{.uri = uri()}, {.min_idle = 8, .max_size = 8});
  auto warm = [&] {
    std::vector<nexdb::Lease> leases;
    for (int i = 0; i < 8; ++i) leases.push_back(pool.acquire());
    for (auto& lease : leases)
      lease->execute(nexdb::Statement{kSelect, {nexdb::Value(std::int64_t{1})}});
  };
  warm();
  for (auto _ : state) {
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&pool, t] {
        std::minstd_rand random(static_cast<unsigned>(t + 1));
        for (int i = 0; i < kRound / 8; ++i) {
          auto lease = pool.acquire();
          benchmark::DoNotOptimize(
              lease->execute(nexdb::Statement{kSelect, {random_id(random, kRows)}}));
        }
      });
    }
    for (auto& thread : threads) thread.join();
    state.SetIterationTime(seconds(Clock::now() - start) / kRound);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_sync_8_threads)->UseManualTime()->Iterations(10);

asio::awaitable<void> selects(nexdb::AsyncDatabase& adb, const char* sql, int rows, int count,
                              unsigned seed) {
  std::minstd_rand random(seed);
  for (int i = 0; i < count; ++i) {
    nexdb::Statement statement{sql, {random_id(random, rows)}};
    benchmark::DoNotOptimize(co_await adb.async_run(std::move(statement)));
  }
}

// One round: `coroutines` coroutines on one thread share `total` selects; the round's wall time.
Clock::duration async_round(asio::io_context& io, nexdb::AsyncDatabase& adb, const char* sql,
                            int rows, int coroutines, int total) {
  const auto start = Clock::now();
  for (int c = 0; c < coroutines; ++c) {
    asio::co_spawn(io, selects(adb, sql, rows, total / coroutines, static_cast<unsigned>(c + 1)),
                   asio::detached);
  }
  io.restart();
  io.run();
  return Clock::now() - start;
}

void async_coroutines(benchmark::State& state, nexdb::AsyncSettings settings) {
  if (!prepare_tables(state)) return;
  asio::io_context io;
  auto db =
      nexdb::Database::open({.connection = {.uri = uri()}, .pool = {.min_idle = 8, .max_size = 8}});
  nexdb::AsyncDatabase adb(io.get_executor(), db, settings);
  async_round(io, adb, kSelect, kRows, 64, 640);  // connections opened, statements prepared
  for (auto _ : state) {
    state.SetIterationTime(seconds(async_round(io, adb, kSelect, kRows, 64, kRound)) / kRound);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["max_lane_depth"] = static_cast<double>(adb.stats().max_lane_depth);
}

void BM_async_64_coroutines(benchmark::State& state) { async_coroutines(state, {}); }
BENCHMARK(BM_async_64_coroutines)->UseManualTime()->Iterations(10);
void BM_async_64_coroutines_8_lanes(benchmark::State& state) {
  async_coroutines(state, {.max_lanes = 8});
}
BENCHMARK(BM_async_64_coroutines_8_lanes)->UseManualTime()->Iterations(10);
void BM_async_64_coroutines_no_batching(benchmark::State& state) {
  async_coroutines(state, {.implicit_batching = false});
}
BENCHMARK(BM_async_64_coroutines_no_batching)->UseManualTime()->Iterations(10);

// --- pgbench -S -M prepared ----------------------------------------------------------------

std::string run_command(const std::string& command) {
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    ::pclose(pipe);
  }
  return output;
}

bool prepare_pgbench(benchmark::State& state) {
  if (!prepare_tables(state)) return false;
  try {
    auto c = nexdb::connect(uri());
    if (c->execute("SELECT to_regclass('pgbench_accounts') IS NOT NULL").scalar<bool>())
      return true;
  } catch (const std::exception&) {
  }
  run_command(fmt::format("{}/pgbench -i -s 1 -q -h 127.0.0.1 -p {} -U nexdb nexdb 2>&1",
                          pg_bindir(), pg_port()));
  return true;
}

void BM_pgbench_select_only(benchmark::State& state) {
  if (!prepare_pgbench(state)) return;
  for (auto _ : state) {
    const std::string out = run_command(fmt::format(
        "{}/pgbench -S -M prepared -n -c 8 -j 2 -T 3 -h 127.0.0.1 -p {} -U nexdb nexdb 2>&1",
        pg_bindir(), pg_port()));
    const auto at = out.find("tps = ");
    const double tps = at == std::string::npos ? 0 : std::atof(out.c_str() + at + 6);
    if (tps <= 0) {
      state.SkipWithError(("pgbench failed: " + out).c_str());
      return;
    }
    state.SetIterationTime(1.0 / tps);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pgbench_select_only)->UseManualTime()->Iterations(1);

void async_select_only(benchmark::State& state, int coroutines) {
  if (!prepare_pgbench(state)) return;
  asio::io_context io;
  auto db =
      nexdb::Database::open({.connection = {.uri = uri()}, .pool = {.min_idle = 8, .max_size = 8}});
  nexdb::AsyncDatabase adb(io.get_executor(), db);
  async_round(io, adb, kPgbenchSelect, kPgbenchRows, coroutines, 10 * coroutines);  // warm-up
  constexpr int kSelects = 20000;
  for (auto _ : state) {
    state.SetIterationTime(
        seconds(async_round(io, adb, kPgbenchSelect, kPgbenchRows, coroutines, kSelects)) /
        kSelects);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_async_select_only_8_coroutines(benchmark::State& state) { async_select_only(state, 8); }
BENCHMARK(BM_async_select_only_8_coroutines)->UseManualTime()->Iterations(3);
void BM_async_select_only_64_coroutines(benchmark::State& state) { async_select_only(state, 64); }
BENCHMARK(BM_async_select_only_64_coroutines)->UseManualTime()->Iterations(3);

}  // namespace

NEXDB_BENCHMARK_MAIN({
    {"BM_async_100_pipelined/iterations:200/manual_time",
     "BM_sync_100_sequential/iterations:200/manual_time"},
    {"BM_async_100_pipelined_pool/iterations:200/manual_time",
     "BM_sync_100_sequential/iterations:200/manual_time"},
    {"BM_async_64_coroutines/iterations:10/manual_time",
     "BM_sync_8_threads/iterations:10/manual_time"},
    {"BM_async_64_coroutines_8_lanes/iterations:10/manual_time",
     "BM_sync_8_threads/iterations:10/manual_time"},
    {"BM_async_64_coroutines_no_batching/iterations:10/manual_time",
     "BM_sync_8_threads/iterations:10/manual_time"},
    {"BM_async_select_only_8_coroutines/iterations:3/manual_time",
     "BM_pgbench_select_only/iterations:1/manual_time"},
    {"BM_async_select_only_64_coroutines/iterations:3/manual_time",
     "BM_pgbench_select_only/iterations:1/manual_time"},
})
