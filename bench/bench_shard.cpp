// Sharding (issue 5, "Benchmark"):
//
//   BM_shard_for_integer        ShardManager::shard_for(int64) with the hash function, 4 shards
//   BM_shard_for_text           the same for 16-byte text keys
//   BM_baseline_xxh3_range      the irreducible part: XXH3 of the 8 key bytes and the multiply
//                               that maps it onto 4 ranges (the ratio's baseline)
//   BM_route_pinned_query       ShardManager::route() of a builder query pinned by key: render,
//                               cached analysis, key -> shard (no I/O)
//   BM_merge_top100_of_4x100    the merge alone: four sorted 100-row parts into the top 100
//   BM_top100_slowest_shard_*   the top-100 query (ORDER BY total DESC, id LIMIT 100) run on each
//                               of the 4 shard primaries one after another; the iteration's time
//                               is the slowest of the four (manual time): the baseline
//   BM_top100_slowest_parallel_* the same 4 queries run at the same time on 4 plain threads, the
//                               iteration's time the slowest of the four: what the fan-out's
//                               parts cost on this machine when they compete for its cores
//   BM_top100_scatter_gather_*  the same query through ShardManager: the calling thread sends
//                               all 4 parts without waiting, reads the answers as they arrive
//                               and k-way merges their 100-row results
//   BM_top100_fan_out_threads_* the design before (kept here for the same-run comparison): the
//                               ShardPlan's parts run on shard_detail::FanOutPool (3 workers +
//                               the caller), then the plan's merge
//   The top-100 benchmarks' CPU column is the whole process's (fan-out threads included).
//   *_indexed: the shards have an index on (total DESC, id); *_scan: they do not (top-N heap
//   over a sequential scan of every row).
//
// Routing needs nothing; the top-100 pairs need `scripts/pg-cluster start --shards 4` (same
// NEXDB_PG_PORT) and are skipped with a message otherwise. kRowsPerShard rows per shard are
// made once, in schema nexdb_bench_shard, by the first run.
#define XXH_INLINE_ALL
#include <xxhash.h>
#undef XXH_INLINE_ALL

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "nexdb/nexdb.hpp"
#include "ratio_main.hpp"
#include "shard/analysis.hpp"      // the merge, benchmarked alone
#include "shard/fan_out_pool.hpp"  // the fan-out design before, for comparison
#include "shard/merge.hpp"

namespace {

using namespace nexdb;

constexpr std::int64_t kRowsPerShard = 100000;
constexpr const char* kSchema = "nexdb_bench_shard";

struct BenchOrders : Table<BenchOrders> {
  static constexpr std::string_view table_name = "bench_orders";
  Column<std::int64_t> id{this, "id"};
  Column<std::int64_t> user_id{this, "user_id"};
  Column<double> total{this, "total"};
};
const BenchOrders BenchOrder;

std::string shard_uri(int shard, bool in_schema) {
  const char* port = std::getenv("NEXDB_PG_PORT");
  const int base = port != nullptr && *port != '\0' ? std::atoi(port) : 54320;
  std::string uri = fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", base + 10 + shard);
  return in_schema ? uri + "?options=-csearch_path%3D" + kSchema : uri;
}

// ---- routing ----------------------------------------------------------------------------------

// Four SQLite files that are never queried: shard_for() needs the map, not the databases.
ShardManager& routing_manager() {
  static const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "nexdb_bench_shard_routing";
  static ShardManager shards = [] {
    std::filesystem::create_directories(dir);
    ShardConfig config{.shard_key = "user_id", .num_shards = 4};
    for (std::size_t i = 0; i < 4; ++i)
      config.shard_map[i] = fmt::format("sqlite:{}/{}.db", dir.string(), i);
    return ShardManager(config);
  }();
  return shards;
}

void BM_shard_for_integer(benchmark::State& state) {
  ShardManager& shards = routing_manager();
  std::int64_t key = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(shards.shard_for(key));
    key += 7919;
  }
}
BENCHMARK(BM_shard_for_integer);

void BM_shard_for_text(benchmark::State& state) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back(fmt::format("tenant-{:09d}", i * 7919));
  std::size_t i = 0;
  // The manager reads text keys as integers by default: a text-keyed map is its own manager.
  static ShardManager text = [] {
    ShardConfig config = routing_manager().config();
    config.key_type = ShardKeyType::text;
    return ShardManager(config);
  }();
  for (auto _ : state) {
    benchmark::DoNotOptimize(text.shard_for(std::string_view(keys[i++ & 1023])));
  }
}
BENCHMARK(BM_shard_for_text);

void BM_baseline_xxh3_range(benchmark::State& state) {
  std::int64_t key = 1;
  for (auto _ : state) {
    unsigned char bytes[8];
    const auto bits = static_cast<std::uint64_t>(key);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    const std::uint64_t hash = XXH3_64bits(bytes, 8);
    __extension__ typedef unsigned __int128 u128;
    benchmark::DoNotOptimize(static_cast<std::size_t>((u128{hash} * 4) >> 64));
    key += 7919;
  }
}
BENCHMARK(BM_baseline_xxh3_range);

void BM_route_pinned_query(benchmark::State& state) {
  ShardManager& shards = routing_manager();
  std::int64_t key = 1;
  for (auto _ : state) {
    const Route route = shards.route(select(BenchOrder.id, BenchOrder.total)
                                         .from(BenchOrder)
                                         .where(BenchOrder.user_id == key)
                                         .limit(100));
    benchmark::DoNotOptimize(route.shards.data());
    key += 7919;
  }
}
BENCHMARK(BM_route_pinned_query);

void BM_merge_top100_of_4x100(benchmark::State& state) {
  const ShardConfig config{.shard_key = "user_id", .num_shards = 4};
  const auto analysis = shard_detail::analyze(
      "SELECT id, user_id, total FROM bench_orders ORDER BY total DESC, id LIMIT 100", config,
      Dialect::postgres);
  std::vector<Rows> parts;
  for (std::int64_t s = 0; s < 4; ++s) {
    std::vector<Value> values;
    for (std::int64_t r = 0; r < 100; ++r) {
      values.insert(values.end(), {Value(s * 1000 + r), Value(r),
                                   Value(100000.0 - static_cast<double>(r * 4 + s))});
    }
    parts.emplace_back(std::vector<std::string>{"id", "user_id", "total"}, std::move(values), 100);
  }
  for (auto _ : state) {
    std::vector<Rows> copy = parts;
    benchmark::DoNotOptimize(
        shard_detail::merge(analysis->fan_out->merge, std::move(copy), {}).size());
  }
}
BENCHMARK(BM_merge_top100_of_4x100)->Unit(benchmark::kMicrosecond);

// ---- scatter-gather over the four shard primaries --------------------------------------------

std::string g_setup_error;

// Makes (once) bench_orders and bench_orders_idx with kRowsPerShard rows on each shard.
void prepare_shards() {
  for (int s = 0; s < 4; ++s) {
    auto admin = connect(shard_uri(s, false));
    admin->execute_script(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", kSchema));
    auto db = connect(shard_uri(s, true));
    for (const char* table : {"bench_orders", "bench_orders_idx"}) {
      db->execute_script(
          fmt::format("CREATE TABLE IF NOT EXISTS {} (id BIGINT PRIMARY KEY, user_id BIGINT NOT "
                      "NULL, total DOUBLE PRECISION NOT NULL)",
                      table));
      if (db->execute(fmt::format("SELECT count(*) FROM {}", table)).scalar<std::int64_t>() ==
          kRowsPerShard)
        continue;
      db->execute_script(fmt::format("TRUNCATE {}", table));
      // Ids are disjoint across shards; totals have two decimals, so ties are broken by id.
      db->execute(Statement{
          fmt::format("INSERT INTO {} SELECT g, g, round((random() * 100000)::numeric, 2) "
                      "FROM generate_series($1::bigint, $2::bigint) g",
                      table),
          {Value(s * kRowsPerShard + 1), Value((s + 1) * kRowsPerShard)}});
    }
    db->execute_script(
        "CREATE INDEX IF NOT EXISTS bench_orders_idx_total ON bench_orders_idx (total DESC, id)");
    db->execute_script("ANALYZE bench_orders; ANALYZE bench_orders_idx");
  }
}

ShardConfig bench_config() {
  ShardConfig config{.shard_key = "user_id", .num_shards = 4};
  for (std::size_t s = 0; s < 4; ++s) config.shard_map[s] = shard_uri(static_cast<int>(s), true);
  return config;
}

std::string top100(const char* table) {
  return fmt::format("SELECT id, user_id, total FROM {} ORDER BY total DESC, id LIMIT 100", table);
}

// The four shard primaries, connected and with `query` prepared outside the timing; none when
// the setup failed (the benchmark is then skipped).
std::vector<Database> direct_shards(benchmark::State& state, const Statement& query) {
  std::vector<Database> shards;
  if (!g_setup_error.empty()) {
    state.SkipWithError(g_setup_error.c_str());
    return shards;
  }
  for (int s = 0; s < 4; ++s) shards.push_back(Database::open(shard_uri(s, true)));
  for (auto& db : shards) db.execute(query);
  return shards;
}

void slowest_shard(benchmark::State& state, const char* table) {
  const Statement query{top100(table), {}};
  std::vector<Database> shards = direct_shards(state, query);
  for (auto _ : state) {
    std::chrono::nanoseconds slowest{0};
    for (auto& db : shards) {
      const auto start = std::chrono::steady_clock::now();
      const Rows rows = db.execute(query);
      slowest = std::max(slowest, std::chrono::steady_clock::now() - start);
      benchmark::DoNotOptimize(rows.size());
    }
    state.SetIterationTime(std::chrono::duration<double>(slowest).count());
  }
}

void slowest_parallel(benchmark::State& state, const char* table) {
  const Statement query{top100(table), {}};
  std::vector<Database> shards = direct_shards(state, query);
  for (auto _ : state) {
    std::array<std::chrono::nanoseconds, 4> took{};
    std::vector<std::thread> threads;
    for (std::size_t s = 0; s < 4; ++s) {
      threads.emplace_back([&, s] {
        const auto start = std::chrono::steady_clock::now();
        const Rows rows = shards[s].execute(query);
        took[s] = std::chrono::steady_clock::now() - start;
        benchmark::DoNotOptimize(rows.size());
      });
    }
    for (auto& t : threads) t.join();
    state.SetIterationTime(
        std::chrono::duration<double>(*std::max_element(took.begin(), took.end())).count());
  }
}

// The manager over the four shards, connected and with `query` prepared outside the timing;
// none when the setup failed (the benchmark is then skipped).
std::optional<ShardManager> warm_manager(benchmark::State& state, const Statement& query) {
  if (!g_setup_error.empty()) {
    state.SkipWithError(g_setup_error.c_str());
    return std::nullopt;
  }
  std::optional<ShardManager> shards(std::in_place, bench_config());
  for (int i = 0; i < 4; ++i) shards->execute(query);
  return shards;
}

// The fan-out as it ran before the calling thread sent every part itself.
void fan_out_threads(benchmark::State& state, const char* table) {
  const Statement query{top100(table), {}};
  std::optional<ShardManager> manager = warm_manager(state, query);
  if (!manager) return;
  ShardManager& shards = *manager;
  shard_detail::FanOutPool pool(3);
  for (auto _ : state) {
    const ShardPlan plan = shards.plan(query);
    std::vector<Rows> results(plan.parts().size());
    std::vector<std::function<void()>> tasks;
    for (std::size_t i = 0; i < plan.parts().size(); ++i) {
      tasks.emplace_back([&, i] {
        Lease lease = shards.read_lease(plan.parts()[i].shard);
        results[i] = lease->execute(plan.parts()[i].statement);
      });
    }
    pool.run(tasks);
    const Rows rows = plan.merge(std::move(results));
    if (rows.size() != 100) state.SkipWithError("the merged result does not have 100 rows");
    benchmark::DoNotOptimize(rows.size());
  }
}

void scatter_gather(benchmark::State& state, const char* table) {
  const Statement query{top100(table), {}};
  std::optional<ShardManager> manager = warm_manager(state, query);
  if (!manager) return;
  ShardManager& shards = *manager;
  for (auto _ : state) {
    const Rows rows = shards.execute(query);
    if (rows.size() != 100) state.SkipWithError("the merged result does not have 100 rows");
    benchmark::DoNotOptimize(rows.size());
  }
}

void BM_top100_slowest_shard_indexed(benchmark::State& state) {
  slowest_shard(state, "bench_orders_idx");
}
void BM_top100_scatter_gather_indexed(benchmark::State& state) {
  scatter_gather(state, "bench_orders_idx");
}
void BM_top100_fan_out_threads_indexed(benchmark::State& state) {
  fan_out_threads(state, "bench_orders_idx");
}
void BM_top100_fan_out_threads_scan(benchmark::State& state) {
  fan_out_threads(state, "bench_orders");
}
void BM_top100_slowest_shard_scan(benchmark::State& state) { slowest_shard(state, "bench_orders"); }
void BM_top100_slowest_parallel_indexed(benchmark::State& state) {
  slowest_parallel(state, "bench_orders_idx");
}
void BM_top100_slowest_parallel_scan(benchmark::State& state) {
  slowest_parallel(state, "bench_orders");
}
void BM_top100_scatter_gather_scan(benchmark::State& state) {
  scatter_gather(state, "bench_orders");
}
// Whole-process CPU (every fan-out thread counted); single-shard baselines time themselves.
void manual_time(benchmark::internal::Benchmark* b) {
  b->MeasureProcessCPUTime()->UseManualTime()->Unit(benchmark::kMicrosecond);
}
void real_time(benchmark::internal::Benchmark* b) {
  b->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_top100_slowest_shard_indexed)->Apply(manual_time);
BENCHMARK(BM_top100_slowest_parallel_indexed)->Apply(manual_time);
BENCHMARK(BM_top100_scatter_gather_indexed)->Apply(real_time);
BENCHMARK(BM_top100_fan_out_threads_indexed)->Apply(real_time);
BENCHMARK(BM_top100_slowest_shard_scan)->Apply(manual_time);
BENCHMARK(BM_top100_slowest_parallel_scan)->Apply(manual_time);
BENCHMARK(BM_top100_scatter_gather_scan)->Apply(real_time);
BENCHMARK(BM_top100_fan_out_threads_scan)->Apply(real_time);

}  // namespace

int main(int argc, char** argv) {
  try {
    prepare_shards();
  } catch (const std::exception& e) {
    g_setup_error =
        std::string(
            "the shard primaries are not reachable (scripts/pg-cluster start --shards 4): ") +
        e.what();
    fmt::print(stderr, "bench_shard: top-100 benchmarks will be skipped: {}\n", g_setup_error);
  }
  return nexdb::bench::run_with_ratios(
      argc, argv,
      {{"BM_shard_for_integer", "BM_baseline_xxh3_range"},
       {"BM_top100_scatter_gather_indexed/process_time/real_time",
        "BM_top100_slowest_shard_indexed/process_time/manual_time"},
       {"BM_top100_scatter_gather_indexed/process_time/real_time",
        "BM_top100_slowest_parallel_indexed/process_time/manual_time"},
       {"BM_top100_scatter_gather_scan/process_time/real_time",
        "BM_top100_slowest_shard_scan/process_time/manual_time"},
       {"BM_top100_scatter_gather_scan/process_time/real_time",
        "BM_top100_slowest_parallel_scan/process_time/manual_time"},
       {"BM_top100_scatter_gather_indexed/process_time/real_time",
        "BM_top100_fan_out_threads_indexed/process_time/real_time"},
       {"BM_top100_scatter_gather_scan/process_time/real_time",
        "BM_top100_fan_out_threads_scan/process_time/real_time"}});
}
