// nexdb: the operator's command. Exit codes: 0 ok, 1 database/runtime error, 2 usage or config error.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <map>

#include "command_migrate.hpp"
#include "command_monitor.hpp"
#include "context.hpp"
#include "demo.hpp"
#include "nexdb/error.hpp"

namespace {

int run(int argc, char** argv) {
  using nexdb::cli::Format;
  CLI::App app{"nexdb: connection pool, routing, query builder and operations for PostgreSQL and SQLite"};
  app.footer("Exit codes: 0 success, 1 database or runtime error, 2 usage or configuration error.");
  app.set_version_flag("--version", "nexdb 0.1.0");
  app.require_subcommand(1);
  nexdb::cli::GlobalOptions global;
  app.add_option("--config", global.config_path,
                 "Configuration file (default: $NEXDB_CONFIG, else ./nexdb.toml, else built-in defaults)");
  app.add_option("--format", global.format, "Output format")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Format>{{"text", Format::text}, {"json", Format::json}}))
      ->default_str("text");

  nexdb::cli::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand("demo", "Build the seed's users/orders world and run its queries");
  demo_cmd->add_flag("--postgres", demo.postgres, "Use the local PostgreSQL cluster (scripts/pg-cluster) instead of embedded SQLite");
  demo_cmd->add_option("--users", demo.users, "Sample users")->check(CLI::Range(1, 1000000));
  demo_cmd->add_option("--orders", demo.orders, "Sample orders")->check(CLI::Range(1, 10000000));

  nexdb::cli::MigrateOptions migrate;
  auto* migrate_cmd = app.add_subcommand("migrate", "Versioned schema migrations on every cluster of the configuration")
                          ->require_subcommand(1);
  migrate_cmd->add_option("--folder", migrate.folder, "Migration folder (default: [migrations] folder, \"migrations\")");
  migrate_cmd->add_option("--cluster", migrate.cluster, "Only this cluster (default: every cluster, in order)");
  auto add_dry_run = [&](CLI::App* cmd) {
    cmd->add_flag("--dry-run", migrate.dry_run, "Print the SQL that would run and change nothing");
  };
  migrate_cmd->add_subcommand("status", "Each cluster's version and every migration's state");
  auto* up = migrate_cmd->add_subcommand("up", "Apply pending migrations (up to VERSION)");
  up->add_option("version", migrate.version, "Stop after this version");
  add_dry_run(up);
  auto* down = migrate_cmd->add_subcommand("down", "Undo the newest applied migrations with their U*.sql files");
  down->add_option("--steps", migrate.steps, "How many to undo")->check(CLI::PositiveNumber);
  add_dry_run(down);
  auto* to = migrate_cmd->add_subcommand("to", "Move to VERSION, applying or undoing as needed (0: undo all)");
  to->add_option("version", migrate.version, "Target version")->required();
  add_dry_run(to);
  migrate_cmd->add_subcommand("verify", "Fail if an applied migration's file changed or is missing");
  migrate_cmd->add_subcommand("repair", "Re-record checksums of changed files and forget failed attempts");
  auto* baseline = migrate_cmd->add_subcommand("baseline", "Mark an existing database as being at VERSION");
  baseline->add_option("version", migrate.version, "Version the database is at")->required();
  baseline->add_option("--description", migrate.description, "Recorded description");

  std::string replica_cluster;
  auto* replica_cmd = app.add_subcommand("replica", "Primary and read replicas")->require_subcommand(1);
  auto* replica_status = replica_cmd->add_subcommand(
      "status", "Each host of each PostgreSQL cluster: role, round-trip time, replication lag, health");
  replica_status->add_option("--cluster", replica_cluster, "Only this cluster");

  nexdb::cli::MonitorCommandOptions monitoring;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve Prometheus metrics of every cluster at /metrics, health at /healthz and a dashboard at /");
  serve_cmd->add_option("--listen", monitoring.listen, "host:port (default: [metrics] listen, 127.0.0.1:9477)");
  serve_cmd->add_option("--cluster", monitoring.cluster, "Only this cluster");
  serve_cmd->add_option("--interval-ms", monitoring.interval_ms, "Sampling interval (default: [monitor] interval_ms)")
      ->check(CLI::PositiveNumber);
  auto* monitor_cmd = app.add_subcommand(
      "monitor", "Live view of every cluster: hosts, connections, lag, slowest statements, alerts");
  monitor_cmd->require_subcommand(0, 1);
  monitor_cmd->add_option("--cluster", monitoring.cluster, "Only this cluster");
  monitor_cmd->add_option("--interval-ms", monitoring.interval_ms, "Refresh interval (default: [monitor] interval_ms)")
      ->check(CLI::PositiveNumber);
  monitor_cmd->add_flag("--once", monitoring.once, "Print one snapshot and exit (exit 1 if a host is down)");
  auto* rules_cmd = monitor_cmd->add_subcommand(
      "rules", "Write the configured alerts as a Prometheus alerting rules file");
  rules_cmd->add_option("--output,-o", monitoring.output, "File to write (default: stdout)");

  auto* config_cmd = app.add_subcommand("config", "Inspect the configuration")->require_subcommand(1);
  auto* config_check = config_cmd->add_subcommand(
      "check", "Validate the configuration and print the effective settings with where each came from");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  demo.format = global.format;
  if (demo_cmd->parsed()) return nexdb::cli::run_demo(demo);
  if (config_check->parsed()) return nexdb::cli::run_config_check(global);
  if (replica_status->parsed()) return nexdb::cli::run_replica_status(global, replica_cluster);
  if (serve_cmd->parsed()) return nexdb::cli::run_serve(global, monitoring);
  if (rules_cmd->parsed()) return nexdb::cli::run_monitor_rules(global, monitoring);
  if (monitor_cmd->parsed()) return nexdb::cli::run_monitor_view(global, monitoring);
  if (migrate_cmd->parsed()) {
    migrate.action = migrate_cmd->get_subcommands().front()->get_name();
    return nexdb::cli::run_migrate(global, migrate);
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Library warnings go to stderr so that stdout stays machine-readable with --format json.
  spdlog::set_default_logger(spdlog::stderr_color_mt("nexdb"));
  try {
    return run(argc, argv);
  } catch (const nexdb::ConfigError& e) {
    fmt::print(stderr, "nexdb: configuration error: {}\n", e.what());
    return 2;
  } catch (const nexdb::UsageError& e) {
    fmt::print(stderr, "nexdb: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nexdb: {}\n", e.what());
    return 1;
  }
}
