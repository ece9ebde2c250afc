// How the nexdb command is put together: each module's file adds its subcommands to the CLI11 app
// and registers what runs when one of them is parsed. main.cpp only lists the modules, so adding
// a command touches one line there.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "context.hpp"

namespace nexdb::cli {

class CommandRegistry {
 public:
  using Runner = std::function<int()>;

  /// `run` is called when `command` (a subcommand at any depth) was given on the command line.
  /// Options it reads should live in a std::shared_ptr captured by `run`.
  void on(CLI::App* command, Runner run) { entries_.emplace_back(command, std::move(run)); }

  /// Runs the most specific registered command that was parsed; nullopt when none was.
  std::optional<int> run_parsed() const {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->first->parsed()) return it->second();
    }
    return std::nullopt;
  }

 private:
  std::vector<std::pair<CLI::App*, Runner>> entries_;
};

// One function per module; each adds its commands and registers their runners. `global` outlives
// the registry's runners (it lives in main).
void add_demo_command(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_migrate_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_replica_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_config_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_monitor_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_index_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_shard_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_backup_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);
void add_archive_command(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry);

}  // namespace nexdb::cli
