// `nexdb demo`: the seed's world, start to finish, as a list of steps (demo_step.hpp).
#include "demo.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

#include "commands.hpp"
#include "demo_step.hpp"
#include "nexdb/error.hpp"

namespace nexdb::cli {
namespace {

void demo_pool_report(DemoContext& demo) {
  demo.heading("Connection pool");
  const PoolStats s = demo.db.pool().stats();
  demo.line(fmt::format(
      "    {} connections open ({} idle, {} active), {} leases served, {} created, {} timeouts",
      s.total, s.idle, s.active, s.acquired, s.created, s.timeouts));
  demo.report["pool"] = {
      {"total", s.total}, {"idle", s.idle}, {"acquired", s.acquired}, {"created", s.created}};
}

// In the order they run. A capability adds its step here and in a demo_<module>.cpp file.
constexpr DemoStep kSteps[] = {
    {.name = "migrations", .run = demo_migrations},
    {.name = "sample data", .run = demo_sample_data},
    {.name = "seed query", .run = demo_seed_query},
    {.name = "optimizer", .run = demo_optimizer},
    {.name = "aggregate", .run = demo_aggregate},
    {.name = "failing transaction", .run = demo_failing_transaction},
    {.name = "async", .run = demo_async},
    {.name = "replicas", .postgres_only = true, .run = demo_replicas},
    {.name = "shards", .run = demo_shards},
    {.name = "backup", .sqlite_only = true, .run = demo_backup},
    {.name = "archive", .run = demo_archive},
    {.name = "monitoring", .run = demo_monitoring},
    {.name = "pool", .run = demo_pool_report},
};

Json run_steps(Database& db, const DemoOptions& options) {
  const Terminal term;
  Json report = Json::object();
  DemoContext demo{.db = db, .options = options, .term = term, .report = report};
  for (const DemoStep& step : kSteps) demo.total += step.runs(options) ? 1 : 0;
  for (const DemoStep& step : kSteps) {
    if (!step.runs(options)) continue;
    ++demo.index;
    step.run(demo);
  }
  demo.line("\n" + term.bold("Done.") +
            (options.postgres
                 ? " The tables stay in the local cluster for you to explore with psql."
                 : " Next: `nexdb demo --postgres` runs the same on the local PostgreSQL "
                   "cluster (scripts/pg-cluster start)."));
  return report;
}

}  // namespace

std::vector<std::string> local_replica_uris() {
  std::vector<std::string> uris;
  for (const char* name : {"NEXDB_PG_REPLICA1", "NEXDB_PG_REPLICA2"}) {
    const char* uri = std::getenv(name);
    if (uri != nullptr && *uri != '\0') uris.emplace_back(uri);
  }
  if (!uris.empty()) return uris;
  const char* port_text = std::getenv("NEXDB_PG_PORT");
  const int port = port_text != nullptr && *port_text != '\0' ? std::atoi(port_text) : 54320;
  for (int i = 1; i <= 2; ++i)
    uris.push_back(fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", port + i));
  return uris;
}

std::string local_cluster_uri() {
  // Set-but-empty counts as unset, so `NEXDB_PG_PRIMARY= nexdb demo --postgres` falls back.
  const char* uri = std::getenv("NEXDB_PG_PRIMARY");
  if (uri != nullptr && *uri != '\0') return uri;
  const char* port = std::getenv("NEXDB_PG_PORT");
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb",
                     port != nullptr && *port != '\0' ? port : "54320");
}

int run_demo(const DemoOptions& options) {
  DatabaseSettings settings;
  settings.connection.uri =
      options.postgres ? local_cluster_uri() : std::string(default_database_uri);
  settings.connection.connect_timeout = std::chrono::seconds(3);
  Database db = Database::open(std::move(settings));
  Json report;
  try {
    report = run_steps(db, options);
  } catch (const ConnectionError& e) {
    if (options.postgres) {
      throw ConnectionError(
          std::string(e.message()) + ". Start the local cluster first: scripts/pg-cluster start",
          {.host = e.host()});
    }
    throw;
  }
  if (options.format == Format::json) fmt::print("{}\n", report.dump(2));
  return 0;
}

void add_demo_command(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto options = std::make_shared<DemoOptions>();
  auto* demo =
      app.add_subcommand("demo", "Build the seed's users/orders world and run its queries");
  demo->add_flag(
      "--postgres", options->postgres,
      "Use the local PostgreSQL cluster (scripts/pg-cluster) instead of embedded SQLite");
  demo->add_option("--users", options->users, "Sample users")->check(CLI::Range(1, 1000000));
  demo->add_option("--orders", options->orders, "Sample orders")->check(CLI::Range(1, 10000000));
  registry.on(demo, [&global, options] {
    options->format = global.format;
    return run_demo(*options);
  });
}

}  // namespace nexdb::cli
