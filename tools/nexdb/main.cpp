// nexdb: the operator's command. Exit codes: 0 ok, 1 database/runtime error, 2 usage or config
// error.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "nexdb/error.hpp"

namespace {

int run(int argc, char** argv) {
  using nexdb::cli::Format;
  CLI::App app{
      "nexdb: connection pool, routing, query builder and operations for PostgreSQL and SQLite"};
  app.footer("Exit codes: 0 success, 1 database or runtime error, 2 usage or configuration error.");
  app.set_version_flag("--version", "nexdb 0.1.0");
  app.require_subcommand(1);
  nexdb::cli::GlobalOptions global;
  app.add_option(
      "--config", global.config_path,
      "Configuration file (default: $NEXDB_CONFIG, else ./nexdb.toml, else built-in defaults)");
  std::string format = "text";
  app.add_option("--format", format, "Output: text for people, json for scripts")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("text|json")
      ->capture_default_str();

  nexdb::cli::CommandRegistry commands;
  nexdb::cli::add_demo_command(app, global, commands);
  nexdb::cli::add_migrate_commands(app, global, commands);
  nexdb::cli::add_replica_commands(app, global, commands);
  nexdb::cli::add_monitor_commands(app, global, commands);
  nexdb::cli::add_config_commands(app, global, commands);
  nexdb::cli::add_index_commands(app, global, commands);
  nexdb::cli::add_shard_commands(app, global, commands);
  nexdb::cli::add_backup_commands(app, global, commands);
  nexdb::cli::add_archive_command(app, global, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  global.format = format == "json" ? Format::json : Format::text;
  return commands.run_parsed().value_or(2);
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
