// Read-heavy workload over a primary and two streaming replicas (issue 4, "Benchmark"):
// 90% point selects, 10% single-row updates, random ids, 16 client threads, real time.
//
//   BM_primary_only_libpq       every operation on the primary, one libpq connection per thread
//   BM_pgpool_libpq             the same through pgpool-II in load-balancing mode (scripts/pgpool)
//   BM_nexdb_pools_round_robin  STAND-IN for the ReplicaManager: one nexdb::ConnectionPool per
//                               host, reads round-robin over the two replicas, writes to the
//                               primary
//   BM_nexdb_replicas           nexdb::ReplicaManager: reads by preference `replica`, writes to
//                               the primary
//   BM_routing_round_robin      cost of the stand-in's routing decision alone (no I/O)
//   BM_replica_host_selection   cost of ReplicaManager's routing decision alone (no I/O, no lease)
//   BM_classify_raw_sql_*       classifying raw SQL as read or write: seen before / new text
//
// Needs `scripts/pg-cluster start` and `scripts/pgpool start` (same NEXDB_PG_PORT); a variant whose
// servers are not reachable is skipped with a message. See docs/pgpool.md.
#include <libpq-fe.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nexdb/nexdb.hpp"
#include "ratio_main.hpp"

#if __has_include("nexdb/replica.hpp")
#include "cluster/replica_state.hpp"  // host selection, benchmarked alone
#include "nexdb/replica.hpp"
#define NEXDB_BENCH_HAVE_REPLICA_MANAGER 1
#endif

namespace {

constexpr std::int64_t kRows = 10000;
constexpr int kThreads = 16;
constexpr const char* kSelectSql = "SELECT balance, name FROM bench_accounts WHERE id = $1";
constexpr const char* kUpdateSql = "UPDATE bench_accounts SET balance = balance + 1 WHERE id = $1";

int env_port(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}
int pg_port() { return env_port("NEXDB_PG_PORT", 54320); }
int primary_port() { return pg_port(); }
int replica_port(int n) { return pg_port() + n; }  // n = 1, 2
int pgpool_port() { return env_port("NEXDB_PGPOOL_PORT", pg_port() + 5); }

std::string uri(int port) {
  return "postgresql://nexdb@127.0.0.1:" + std::to_string(port) + "/nexdb";
}
std::string libpq_conninfo(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " user=nexdb dbname=nexdb connect_timeout=5 application_name=bench_replica";
}

// Operation i of a thread: every 10th is an update, the rest point selects; ids are uniform.
struct Workload {
  explicit Workload(int thread)
      : rng(0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(thread + 1)) {}
  std::int64_t next_id() { return static_cast<std::int64_t>(rng() % kRows) + 1; }
  bool next_is_update() { return ++op % 10 == 0; }
  std::mt19937_64 rng;
  std::uint64_t op = 0;
};

// Set by main() when the table could not be prepared: every variant skips with it.
std::string g_setup_error;

// ---------------------------------------------------------------------------------------------
// Setup: the table on the primary, then wait until both replicas have replayed it.

struct PgConn {
  PGconn* c = nullptr;
  explicit PgConn(int port) : c(PQconnectdb(libpq_conninfo(port).c_str())) {}
  ~PgConn() { PQfinish(c); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  bool ok() const { return PQstatus(c) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(c); }
  // Runs a command without parameters; returns the first value (or "").
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string msg = sql + ": " + PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(msg);
    }
    std::string v = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return v;
  }
};

std::string setup_cluster() {
  PgConn primary(primary_port());
  if (!primary.ok()) {
    return "PostgreSQL primary on 127.0.0.1:" + std::to_string(primary_port()) +
           " not reachable (run scripts/pg-cluster start with the same NEXDB_PG_PORT): " +
           primary.error();
  }
  try {
    primary.exec("DROP TABLE IF EXISTS bench_accounts");
    primary.exec("CREATE TABLE bench_accounts (id BIGINT PRIMARY KEY, balance BIGINT, name TEXT)");
    primary.exec(
        "INSERT INTO bench_accounts SELECT g, 1000, 'account ' || g FROM generate_series(1, " +
        std::to_string(kRows) + ") g");
    primary.exec("VACUUM ANALYZE bench_accounts");
    const std::string target = primary.exec("SELECT pg_current_wal_lsn()");
    for (int n = 1; n <= 2; ++n) {
      PgConn replica(replica_port(n));
      if (!replica.ok()) {
        return "replica" + std::to_string(n) + " on 127.0.0.1:" + std::to_string(replica_port(n)) +
               " not reachable (run scripts/pg-cluster start): " + replica.error();
      }
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (replica.exec("SELECT pg_last_wal_replay_lsn() >= '" + target + "'::pg_lsn") != "t") {
        if (std::chrono::steady_clock::now() > deadline) {
          return "replica" + std::to_string(n) + " did not replay the primary's WAL up to " +
                 target + " within 30 s";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  } catch (const std::exception& e) {
    return std::string("setting up bench_accounts failed: ") + e.what();
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// libpq: one connection per thread, both statements prepared once, PQexecPrepared per operation.

void run_libpq(benchmark::State& state, int port, const char* what) {
  std::string error = g_setup_error;
  std::optional<PgConn> conn;
  if (error.empty()) {
    conn.emplace(port);
    if (!conn->ok()) {
      error = std::string(what) + " on 127.0.0.1:" + std::to_string(port) +
              " not reachable: " + conn->error();
    } else {
      for (auto [name, sql] : {std::pair{"sel", kSelectSql}, std::pair{"upd", kUpdateSql}}) {
        PGresult* r = PQprepare(conn->c, name, sql, 1, nullptr);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
          error = std::string("PQprepare failed: ") + PQresultErrorMessage(r);
        PQclear(r);
      }
    }
  }
  if (!error.empty()) state.SkipWithError(error.c_str());  // the loop below then does not run

  Workload w(state.thread_index());
  std::string failure;
  for (auto _ : state) {
    if (!failure.empty()) continue;  // finish the iterations quietly; reported after the loop
    const std::string id = std::to_string(w.next_id());
    const char* values[] = {id.c_str()};
    const bool update = w.next_is_update();
    PGresult* r = PQexecPrepared(conn->c, update ? "upd" : "sel", 1, values, nullptr, nullptr, 0);
    const auto st = PQresultStatus(r);
    if (update ? st != PGRES_COMMAND_OK : (st != PGRES_TUPLES_OK || PQntuples(r) != 1)) {
      failure = std::string(update ? "update" : "select") + " failed: " + PQresultErrorMessage(r);
    } else if (!update) {
      benchmark::DoNotOptimize(std::atoll(PQgetvalue(r, 0, 0)));
      std::string name = PQgetvalue(r, 0, 1);
      benchmark::DoNotOptimize(name);
    }
    PQclear(r);
  }
  // Multi-threaded runs must not leave the loop early (the threads meet at a barrier at its end).
  if (!failure.empty()) state.SkipWithError(failure.c_str());
  state.SetItemsProcessed(state.iterations());
}

void BM_primary_only_libpq(benchmark::State& state) {
  run_libpq(state, primary_port(), "PostgreSQL primary");
}
void BM_pgpool_libpq(benchmark::State& state) {
  run_libpq(state, pgpool_port(),
            "pgpool-II (run scripts/pgpool start with the same NEXDB_PG_PORT)");
}

// ---------------------------------------------------------------------------------------------
// nexdb stand-in: a ConnectionPool per host; reads round-robin over the replicas, writes to the
// primary. nexdb's statement cache prepares each SQL text once per connection.

class RoundRobinPools {
 public:
  RoundRobinPools() {
    const nexdb::PoolSettings settings{
        .min_idle = 0, .max_size = kThreads, .acquire_timeout = std::chrono::seconds(10)};
    primary_ = std::make_unique<nexdb::ConnectionPool>(
        nexdb::ConnectOptions{.uri = uri(primary_port())}, settings);
    for (int n = 0; n < 2; ++n) {
      replicas_[n] = std::make_unique<nexdb::ConnectionPool>(
          nexdb::ConnectOptions{.uri = uri(replica_port(n + 1))}, settings);
    }
  }
  // The routing decision: writes to the primary, reads to the next replica.
  nexdb::ConnectionPool& route(bool write) noexcept {
    if (write) return *primary_;
    return *replicas_[next_.fetch_add(1, std::memory_order_relaxed) % 2];
  }
  // Opens kThreads connections on each host (so the timed loop does not pay for connecting)
  // and proves they are reachable; "" when all are.
  std::string check() {
    try {
      std::vector<nexdb::Lease> leases;
      for (int i = 0; i < kThreads; ++i) {
        leases.push_back(primary_->acquire());
        for (auto& r : replicas_) leases.push_back(r->acquire());
      }
    } catch (const nexdb::Error& e) {
      return std::string(
                 "nexdb: a cluster host is not reachable (run scripts/pg-cluster start): ") +
             e.what();
    }
    return {};
  }

 private:
  std::unique_ptr<nexdb::ConnectionPool> primary_;
  std::array<std::unique_ptr<nexdb::ConnectionPool>, 2> replicas_;
  std::atomic<std::uint64_t> next_{0};
};

// Shared by the 16 threads of one run. Thread 0 creates it before the loop and destroys it
// after; the barriers at the start and end of the benchmark loop order that against the others.
std::unique_ptr<RoundRobinPools> g_pools;
std::string g_pools_error;

void BM_nexdb_pools_round_robin(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_pools_error = g_setup_error;
    if (g_pools_error.empty()) {
      g_pools = std::make_unique<RoundRobinPools>();
      g_pools_error = g_pools->check();
    }
  }
  Workload w(state.thread_index());
  std::string failure;
  bool first = true;
  for (auto _ : state) {
    if (first) {  // after the start barrier: thread 0's setup is visible
      first = false;
      failure = g_pools_error;
    }
    if (!failure.empty()) continue;  // finish the iterations quietly; reported after the loop
    const std::int64_t id = w.next_id();
    const bool update = w.next_is_update();
    try {
      nexdb::Lease lease = g_pools->route(update).acquire();
      if (update) {
        lease->execute(nexdb::Statement{kUpdateSql, {nexdb::Value(id)}});
      } else {
        const nexdb::Rows rows = lease->execute(nexdb::Statement{kSelectSql, {nexdb::Value(id)}});
        benchmark::DoNotOptimize(rows[0].get<std::int64_t>(0));
        benchmark::DoNotOptimize(rows[0].get<std::string>(1));
      }
    } catch (const nexdb::Error& e) {
      failure = std::string(update ? "update" : "select") + " failed: " + e.what();
    }
  }
  if (!failure.empty()) state.SkipWithError(failure.c_str());
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_pools.reset();  // after the end barrier: nobody uses them
}

// The stand-in's routing decision alone: classify + pick a pool, no I/O.
void BM_routing_round_robin(benchmark::State& state) {
  RoundRobinPools pools;  // opens nothing (min_idle = 0)
  Workload w(0);
  for (auto _ : state) benchmark::DoNotOptimize(&pools.route(w.next_is_update()));
  state.SetItemsProcessed(state.iterations());
}

#ifdef NEXDB_BENCH_HAVE_REPLICA_MANAGER
nexdb::ReplicaSettings replica_settings() {
  return {.primary = uri(primary_port()),
          .replicas = {uri(replica_port(1)), uri(replica_port(2))},
          .read_preference = nexdb::ReadPreference::replica,
          .pool = {.min_idle = 0, .max_size = kThreads}};
}

// Shared by the 16 threads like g_pools: reads by preference `replica`, updates to the primary.
std::unique_ptr<nexdb::ReplicaManager> g_replicas;

void BM_nexdb_replicas(benchmark::State& state) {
  if (state.thread_index() == 0 && g_setup_error.empty()) {
    g_replicas = std::make_unique<nexdb::ReplicaManager>(replica_settings());
    g_replicas->refresh();
  }
  Workload w(state.thread_index());
  std::string failure;
  bool first = true;
  for (auto _ : state) {
    if (first) {  // after the start barrier: thread 0's setup is visible
      first = false;
      failure = g_setup_error;
    }
    if (!failure.empty()) continue;
    const std::int64_t id = w.next_id();
    const bool is_update = w.next_is_update();
    try {
      if (is_update) {
        g_replicas->execute_write(nexdb::Statement{kUpdateSql, {nexdb::Value(id)}});
      } else {
        const nexdb::Rows rows =
            g_replicas->execute_read(nexdb::Statement{kSelectSql, {nexdb::Value(id)}});
        benchmark::DoNotOptimize(rows[0].get<std::int64_t>(0));
      }
    } catch (const nexdb::Error& e) {
      failure = std::string(is_update ? "update" : "select") + " failed: " + e.what();
    }
  }
  if (!failure.empty()) state.SkipWithError(failure.c_str());
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_replicas.reset();
}
BENCHMARK(BM_nexdb_replicas)->Threads(kThreads)->UseRealTime()->Unit(benchmark::kMicrosecond);

// ReplicaManager's routing decision plus the lease from the chosen host's pool, no query.
void BM_replica_manager_route_read(benchmark::State& state) {
  if (!g_setup_error.empty()) {
    state.SkipWithError(g_setup_error.c_str());
    return;
  }
  nexdb::ReplicaManager replicas(replica_settings());
  replicas.refresh();
  for (auto _ : state) {
    nexdb::Lease lease = replicas.read();
    benchmark::DoNotOptimize(lease.connection());
  }
}
BENCHMARK(BM_replica_manager_route_read);

// The routing decision alone, no lease and no lock: host selection over a primary and two
// replicas as the health checks see them, for `replica` and `nearest` (random pick in window).
void BM_replica_host_selection(benchmark::State& state) {
  nexdb::detail::HostList hosts;
  for (int i = 0; i < 3; ++i) {
    auto host = std::make_unique<nexdb::detail::ReplicaHost>();
    host->index = static_cast<std::size_t>(i);
    host->stats.role = i == 0 ? nexdb::HostRole::primary : nexdb::HostRole::replica;
    host->stats.healthy = true;
    host->rtt_us = 200.0 + i;
    hosts.push_back(std::move(host));
  }
  const nexdb::ReplicaSettings settings = replica_settings();
  const auto preference = static_cast<nexdb::ReadPreference>(state.range(0));
  std::minstd_rand random{42};
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        nexdb::detail::pick_read_host(hosts, preference, settings, nullptr, random));
  }
}
BENCHMARK(BM_replica_host_selection)
    ->Arg(static_cast<int>(nexdb::ReadPreference::replica))
    ->Arg(static_cast<int>(nexdb::ReadPreference::nearest));

// Raw SQL classification: a text seen before (a hash lookup) and a new text (a parse).
void BM_classify_raw_sql_seen(benchmark::State& state) {
  const std::string sql = "SELECT balance, name FROM bench_accounts WHERE id = $1";
  for (auto _ : state) benchmark::DoNotOptimize(nexdb::classify_sql(sql));
}
BENCHMARK(BM_classify_raw_sql_seen);

void BM_classify_raw_sql_new(benchmark::State& state) {
  std::uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string sql = "SELECT balance, name FROM bench_accounts WHERE id = $1 AND " +
                            std::to_string(++n) + " > 0";
    state.ResumeTiming();
    benchmark::DoNotOptimize(nexdb::classify_sql(sql));
  }
}
BENCHMARK(BM_classify_raw_sql_new);
#endif

BENCHMARK(BM_primary_only_libpq)->Threads(kThreads)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_pgpool_libpq)->Threads(kThreads)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_nexdb_pools_round_robin)
    ->Threads(kThreads)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_routing_round_robin)->Unit(benchmark::kNanosecond);

}  // namespace

int main(int argc, char** argv) {
  g_setup_error = setup_cluster();
  if (!g_setup_error.empty())
    fmt::print(stderr, "bench_replica: benchmarks will be skipped: {}\n", g_setup_error);
  // Ratios of real time per operation (lower is better): nexdb over each baseline.
  return nexdb::bench::run_with_ratios(
      argc, argv,
      {
#ifdef NEXDB_BENCH_HAVE_REPLICA_MANAGER
          {"BM_nexdb_replicas/real_time/threads:16", "BM_pgpool_libpq/real_time/threads:16"},
          {"BM_nexdb_replicas/real_time/threads:16", "BM_primary_only_libpq/real_time/threads:16"},
#endif
          {"BM_nexdb_pools_round_robin/real_time/threads:16",
           "BM_pgpool_libpq/real_time/threads:16"},
          {"BM_nexdb_pools_round_robin/real_time/threads:16",
           "BM_primary_only_libpq/real_time/threads:16"},
          {"BM_pgpool_libpq/real_time/threads:16", "BM_primary_only_libpq/real_time/threads:16"},
      });
}
