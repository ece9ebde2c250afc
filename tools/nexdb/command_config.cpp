#include <fmt/format.h>

#include "commands.hpp"
#include "context.hpp"

namespace nexdb::cli {

Config load_config(const GlobalOptions& global) {
  return global.config_path.empty() ? Config::load_default() : Config::load(global.config_path);
}

int run_config_check(const GlobalOptions& global) {
  const Config config = load_config(global);
  const ConfigReport report = config.describe();
  if (global.format == Format::json) {
    fmt::print("{}\n", report.to_json());
    return 0;
  }
  const Terminal term;
  fmt::print("{}", report.to_text());
  for (const auto& warning : report.warnings) fmt::print(stderr, "warning: {}\n", warning);
  fmt::print("{} {}\n", term.green("ok:"),
             report.source.empty() ? "no configuration file; built-in defaults are valid"
                                   : fmt::format("{} is valid", report.source));
  return 0;
}

void add_config_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto* config_cmd =
      app.add_subcommand("config", "Inspect the configuration")->require_subcommand(1);
  auto* check = config_cmd->add_subcommand(
      "check",
      "Validate the configuration and print the effective settings with where each came from");
  registry.on(check, [&global] { return run_config_check(global); });
}

}  // namespace nexdb::cli
