// Pool overhead: acquire + release of an idle connection, against the smallest possible pool
// (a mutex around a vector) so the price of the pool's guarantees can be read as a ratio.
// Connections are real SQLite :memory: ones; no statement runs, only the pool is measured.
#include <benchmark/benchmark.h>

#include <memory>
#include <mutex>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/pool.hpp"
#include "ratio_main.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kConnections = 4;

nexdb::ConnectionPool& shared_pool() {
  // min_idle = max_size and a long housekeeping period: the housekeeper stays out of the way.
  static nexdb::ConnectionPool pool(nexdb::ConnectOptions{.uri = "sqlite::memory:"},
                                    {.min_idle = kConnections,
                                     .max_size = kConnections,
                                     .housekeeping_period = 1h,
                                     .name = "bench"});
  return pool;
}

nexdb::ConnectionPool& narrow_pool() {
  static nexdb::ConnectionPool pool(
      nexdb::ConnectOptions{.uri = "sqlite::memory:"},
      {.min_idle = 1, .max_size = 1, .housekeeping_period = 1h, .name = "narrow"});
  return pool;
}

/// The minimal pool: no timeouts, no fairness, no health checks, no stats.
class MinimalPool {
 public:
  MinimalPool() {
    for (std::size_t i = 0; i < kConnections; ++i)
      idle_.push_back(nexdb::connect("sqlite::memory:"));
  }
  std::unique_ptr<nexdb::Connection> acquire() {
    std::lock_guard lock(mutex_);
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return connection;
  }
  void release(std::unique_ptr<nexdb::Connection> connection) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<nexdb::Connection>> idle_;
};

MinimalPool& minimal_pool() {
  static MinimalPool pool;
  return pool;
}

void warm_up(nexdb::ConnectionPool& pool) {
  // Open every connection before timing so the first iterations measure reuse, not connect().
  std::vector<nexdb::Lease> leases;
  for (std::size_t i = 0; i < pool.settings().max_size; ++i) leases.push_back(pool.acquire());
}

void BM_pool_acquire_release(benchmark::State& state) {
  auto& pool = shared_pool();
  if (state.thread_index() == 0) warm_up(pool);
  for (auto _ : state) {
    auto lease = pool.acquire();
    benchmark::DoNotOptimize(&*lease);
  }
}
BENCHMARK(BM_pool_acquire_release);
BENCHMARK(BM_pool_acquire_release)->Threads(2);

void BM_minimal_pool_acquire_release(benchmark::State& state) {
  auto& pool = minimal_pool();
  for (auto _ : state) {
    auto connection = pool.acquire();
    benchmark::DoNotOptimize(connection.get());
    pool.release(std::move(connection));
  }
}
BENCHMARK(BM_minimal_pool_acquire_release);
BENCHMARK(BM_minimal_pool_acquire_release)->Threads(2);

// More threads than connections: every acquire after the first waits in the FIFO and is
// handed a connection by a releasing thread (the slow path, a futex wake per hand-off).
void BM_pool_handoff(benchmark::State& state) {
  auto& pool = narrow_pool();
  const auto before = pool.stats();
  for (auto _ : state) {
    auto lease = pool.acquire();
    benchmark::DoNotOptimize(&*lease);
  }
  if (state.thread_index() == 0) {
    // How many acquisitions really waited (histogram bucket 0 is the fast path).
    const auto after = pool.stats();
    const auto acquired = static_cast<double>(after.acquired - before.acquired);
    const auto fast = static_cast<double>(after.acquire_wait[0] - before.acquire_wait[0]);
    state.counters["waited_pct"] = acquired > 0 ? 100.0 * (acquired - fast) / acquired : 0.0;
  }
}
BENCHMARK(BM_pool_handoff)->Threads(2)->Threads(4)->UseRealTime();

void BM_pool_acquire_async_inline(benchmark::State& state) {
  auto& pool = shared_pool();
  warm_up(pool);
  for (auto _ : state) {
    pool.acquire_async(
        [](nexdb::Lease lease, std::exception_ptr) { benchmark::DoNotOptimize(&*lease); });
  }
}
BENCHMARK(BM_pool_acquire_async_inline);

}  // namespace

NEXDB_BENCHMARK_MAIN({{"BM_pool_acquire_release", "BM_minimal_pool_acquire_release"},
                      {"BM_pool_acquire_release/threads:2",
                       "BM_minimal_pool_acquire_release/threads:2"}})
