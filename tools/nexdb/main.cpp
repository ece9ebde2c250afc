// nexdb: the operator's command. Exit codes: 0 ok, 1 database/runtime error, 2 usage or config error.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <map>

#include "command_backup.hpp"
#include "command_migrate.hpp"
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

  nexdb::cli::BackupOptions backup;
  auto* backup_cmd = app.add_subcommand("backup", "Backups of every cluster: take, list, verify by restoring, restore, prune")
                         ->require_subcommand(1);
  backup_cmd->add_option("--repository", backup.repository, "Backup directory (default: [backup] repository)");
  auto* backup_create = backup_cmd->add_subcommand("create", "Back up every cluster (or --cluster) into one backup");
  backup_create->add_option("--cluster", backup.cluster, "Only this cluster");
  backup_create->add_option("--kind", backup.kind, "logical (pg_dump), physical (pg_basebackup) or sqlite")
      ->check(CLI::IsMember({"logical", "physical", "sqlite"}));
  backup_create->add_option("--label", backup.label, "A note kept in the manifest");
  backup_cmd->add_subcommand("list", "Every backup with its size and last verification");
  auto* backup_verify = backup_cmd->add_subcommand(
      "verify", "Restore a backup into a scratch database and check it (exit 1 if a check fails)");
  backup_verify->add_option("id", backup.id, "Backup id (default: the latest)");
  auto* backup_restore = backup_cmd->add_subcommand("restore", "Restore a backup into a database or data directory");
  backup_restore->add_option("id", backup.id, "Backup id, or latest")->required();
  backup_restore->add_option("--to", backup.to, "Target: a database URI, or a data directory for a physical backup")
      ->required();
  backup_restore->add_option("--part", backup.part, "Which cluster (shard) of a multi-part backup");
  backup_restore->add_flag("--force", backup.force, "Replace what a non-empty target holds");
  backup_restore->add_flag("--no-owner", backup.no_owner, "PostgreSQL: skip ownership and grants");
  auto* backup_prune = backup_cmd->add_subcommand("prune", "Delete backups the retention rules do not keep");
  backup_prune->add_option("--keep-last", backup.keep_last, "Keep the newest N of each kind")->check(CLI::NonNegativeNumber);
  backup_prune->add_option("--keep-days", backup.keep_days, "Keep everything younger than D days")
      ->check(CLI::NonNegativeNumber);
  backup_prune->add_flag("--dry-run", backup.dry_run, "Only say what would be deleted");

  nexdb::cli::ArchiveOptions archive;
  auto* archive_cmd = app.add_subcommand("archive", "Move old rows out of a table in batches, on every cluster");
  archive_cmd->add_option("--table", archive.table, "Source table")->required();
  archive_cmd->add_option("--where", archive.where, "Which rows, as SQL (e.g. \"created_at < now() - interval '90 days'\")")
      ->required();
  archive_cmd->add_option("--to", archive.to,
                          "A table in the same database (default <table>_archive), a database URI, or a file "
                          "(.csv / .jsonl, optionally .gz)");
  archive_cmd->add_option("--to-table", archive.to_table, "The table in the database --to names (default: the source's name)");
  archive_cmd->add_option("--key", archive.key, "Unique column the batches follow (default: the primary key)");
  archive_cmd->add_option("--batch-size", archive.batch_size, "Rows per batch")->check(CLI::Range(1, 1000000));
  archive_cmd->add_option("--sleep", archive.sleep_ms, "Milliseconds to sleep between batches")->check(CLI::NonNegativeNumber);
  archive_cmd->add_option("--max-lag-bytes", archive.max_lag_bytes, "Pause while a replica is further behind (bytes of WAL)");
  archive_cmd->add_option("--max-lag-seconds", archive.max_lag_seconds, "Pause while a replica is further behind (seconds)")
      ->check(CLI::NonNegativeNumber);
  archive_cmd->add_option("--max-rows", archive.max_rows, "Stop after this many rows (resume later)");
  archive_cmd->add_option("--job", archive.job, "Checkpoint name (default: from table and destination)");
  archive_cmd->add_option("--cluster", archive.cluster, "Only this cluster");
  archive_cmd->add_flag("--dry-run", archive.dry_run, "Count the matching rows, print the statements, change nothing");
  archive_cmd->add_flag("--no-count", archive.no_count, "Do not count the matching rows first (no progress total)");

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
  if (backup_cmd->parsed()) {
    backup.action = backup_cmd->get_subcommands().front()->get_name();
    return nexdb::cli::run_backup(global, backup);
  }
  if (archive_cmd->parsed()) return nexdb::cli::run_archive(global, archive);
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
