// nexdb: the operator's command. Exit codes: 0 ok, 1 database/runtime error, 2 usage or config error.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <map>

#include "demo.hpp"
#include "nexdb/error.hpp"

namespace {

int run(int argc, char** argv) {
  using nexdb::cli::Format;
  CLI::App app{"nexdb: connection pool, routing, query builder and operations for PostgreSQL and SQLite"};
  app.set_version_flag("--version", "nexdb 0.1.0");
  app.require_subcommand(1);
  Format format = Format::text;
  app.add_option("--format", format, "Output format")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Format>{{"text", Format::text}, {"json", Format::json}}))
      ->default_str("text");

  nexdb::cli::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand("demo", "Build the seed's users/orders world and run its queries");
  demo_cmd->add_flag("--postgres", demo.postgres, "Use the local PostgreSQL cluster (scripts/pg-cluster) instead of embedded SQLite");
  demo_cmd->add_option("--users", demo.users, "Sample users")->check(CLI::Range(1, 1000000));
  demo_cmd->add_option("--orders", demo.orders, "Sample orders")->check(CLI::Range(1, 10000000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  demo.format = format;
  if (demo_cmd->parsed()) return nexdb::cli::run_demo(demo);
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
