#include "command_migrate.hpp"
#include "commands.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "nexdb/database.hpp"
#include "nexdb/error.hpp"
#include "nexdb/migrate.hpp"

namespace nexdb::cli {
namespace {

using Json = nlohmann::ordered_json;

std::vector<MigrationTarget> targets_of(const Config& config, const MigrateOptions& options) {
  std::vector<MigrationTarget> targets;
  for (const ClusterConfig& cluster : config.clusters) {
    if (!options.cluster.empty() && cluster.name != options.cluster) continue;
    targets.push_back({.name = cluster.name, .database = Database::open(config, cluster.name)});
  }
  if (targets.empty()) {
    throw ConfigError(fmt::format("no cluster named '{}' in the configuration", options.cluster));
  }
  return targets;
}

std::string folder_of(const Config& config, const MigrateOptions& options) {
  const std::string folder = options.folder.empty() ? config.migrations.folder : options.folder;
  if (!std::filesystem::is_directory(folder)) {
    throw ConfigError(
        fmt::format("migration folder '{}' does not exist; set [migrations] folder in "
                    "nexdb.toml or pass --folder",
                    folder));
  }
  return folder;
}

MigrationSettings settings_of(const Config& config) {
  return {.history_table = config.migrations.table,
          .allow_out_of_order = config.migrations.allow_out_of_order};
}

std::string when(const std::optional<Timestamp>& at) {
  return at ? fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(*at))
            : "";
}

int print_status(const GlobalOptions& global, MigrationManager& manager,
                 std::span<const MigrationTarget> targets) {
  const Terminal term;
  Json json = Json::array();
  bool all_readable = true;
  for (const TargetStatus& target : manager.status(targets)) {
    if (!target.status) {
      all_readable = false;
      json.push_back({{"cluster", target.name}, {"error", target.error}});
      if (global.format == Format::text)
        fmt::print("{} {}: {}\n", term.red("error"), target.name, target.error);
      continue;
    }
    const SchemaStatus& s = *target.status;
    Json migrations = Json::array();
    std::vector<std::vector<std::string>> rows;
    for (const MigrationInfo& m : s.migrations) {
      migrations.push_back({{"version", m.version},
                            {"description", m.description},
                            {"state", to_string(m.state)},
                            {"applied_at", when(m.applied_at)},
                            {"script", m.script}});
      rows.push_back(
          {m.version, m.description, std::string(to_string(m.state)), when(m.applied_at)});
    }
    json.push_back({{"cluster", target.name},
                    {"database", s.database},
                    {"current_version", s.current_version.value_or("")},
                    {"pending", s.count(MigrationState::pending)},
                    {"migrations", migrations}});
    if (global.format == Format::text) {
      fmt::print("{} {} ({}): at version {}, {} pending\n", term.bold("cluster"), target.name,
                 s.database, s.current_version.value_or("none"), s.count(MigrationState::pending));
      term.table({"version", "description", "state", "applied at"}, rows);
    }
  }
  if (global.format == Format::json) fmt::print("{}\n", json.dump(2));
  return all_readable ? 0 : 1;
}

/// Runs `action` on each target in order and stops at the first failure, like a rollout.
template <class Action>
int for_each_target(const GlobalOptions& global, const Config& config,
                    std::span<const MigrationTarget> targets, const MigrateOptions& options,
                    Action action) {
  const Terminal term;
  Json json = Json::array();
  int exit_code = 0;
  for (const MigrationTarget& target : targets) {
    if (exit_code != 0) {
      json.push_back({{"cluster", target.name}, {"result", "not_attempted"}});
      if (global.format == Format::text)
        fmt::print("{} {}: not attempted\n", term.dim("skip"), target.name);
      continue;
    }
    try {
      MigrationManager manager(target.database, settings_of(config));
      manager.load(folder_of(config, options));
      json.push_back(action(manager, target));
    } catch (const Error& e) {
      exit_code = 1;
      json.push_back({{"cluster", target.name}, {"result", "failed"}, {"error", e.what()}});
      if (global.format == Format::text)
        fmt::print(stderr, "{} {}: {}\n", term.red("failed"), target.name, e.what());
    }
  }
  if (global.format == Format::json) fmt::print("{}\n", json.dump(2));
  return exit_code;
}

void print_report(const GlobalOptions& global, const std::string& name, const RunReport& report) {
  if (global.format != Format::text) return;
  const Terminal term;
  if (report.dry_run) {
    fmt::print("{} {}: {} step(s) would run, reaching version {}\n", term.cyan("dry run"), name,
               report.steps.size(), report.version_after.value_or("none"));
    if (!report.steps.empty()) fmt::print("{}\n", report.script());
    return;
  }
  fmt::print("{} {}: {} -> {} ({} step(s))\n", term.green("ok"), name,
             report.version_before.value_or("none"), report.version_after.value_or("none"),
             report.steps.size());
}

Json report_json(const std::string& name, const RunReport& report) {
  Json steps = Json::array();
  for (const MigrationStep& step : report.steps) {
    steps.push_back({{"version", step.version},
                     {"description", step.description},
                     {"direction", to_string(step.direction)},
                     {"duration_ms", step.duration.count()},
                     {"sql", step.sql}});
  }
  return {{"cluster", name},
          {"result", "done"},
          {"dry_run", report.dry_run},
          {"version_before", report.version_before.value_or("")},
          {"version_after", report.version_after.value_or("")},
          {"steps", steps}};
}

int run_moves(const GlobalOptions& global, const Config& config, const MigrateOptions& options,
              std::span<const MigrationTarget> targets) {
  const Terminal term;
  std::optional<ProgressBar> bar;
  RunOptions run{.dry_run = options.dry_run, .progress = {}};
  if (global.format == Format::text && !options.dry_run) {
    run.progress = [&](const MigrationEvent& event) {
      if (event.phase == MigrationEvent::Phase::started && event.index == 1) {
        bar.emplace(term,
                    fmt::format("{} {}", to_string(event.direction),
                                event.target.empty() ? "" : event.target),
                    event.total);
      }
      if (!bar) return;
      if (event.phase == MigrationEvent::Phase::failed) {
        bar->stop();
      } else if (event.phase == MigrationEvent::Phase::finished) {
        bar->advance(1);
        if (event.index == event.total) bar->finish();
      }
    };
  }
  return for_each_target(global, config, targets, options,
                         [&](MigrationManager& manager, const MigrationTarget& target) {
                           RunReport report;
                           if (options.action == "up")
                             report = options.version.empty() ? manager.migrate(run)
                                                              : manager.up(options.version, run);
                           else if (options.action == "down")
                             report = manager.down(options.steps, run);
                           else
                             report = manager.to(options.version, run);
                           bar.reset();
                           print_report(global, target.name, report);
                           return report_json(target.name, report);
                         });
}

}  // namespace

int run_migrate(const GlobalOptions& global, const MigrateOptions& given) {
  const Config config = load_config(global);
  MigrateOptions options = given;
  options.folder = folder_of(config, given);  // missing: a configuration error (exit 2) up front
  const std::vector<MigrationTarget> targets = targets_of(config, options);
  const Terminal term;
  if (options.action == "status") {
    MigrationManager manager(settings_of(config));
    manager.load(folder_of(config, options));
    return print_status(global, manager, targets);
  }
  if (options.action == "up" || options.action == "down" || options.action == "to") {
    return run_moves(global, config, options, targets);
  }
  if (options.action == "verify") {
    return for_each_target(
        global, config, targets, options, [&](MigrationManager& m, const MigrationTarget& t) {
          m.verify();
          if (global.format == Format::text)
            fmt::print("{} {}: applied migrations match their files\n", term.green("ok"), t.name);
          return Json{{"cluster", t.name}, {"result", "done"}};
        });
  }
  if (options.action == "repair") {
    return for_each_target(
        global, config, targets, options, [&](MigrationManager& m, const MigrationTarget& t) {
          const RepairReport r = m.repair();
          if (global.format == Format::text) {
            fmt::print("{} {}: {} checksum(s) re-recorded, {} failed attempt(s) removed\n",
                       term.green("ok"), t.name, r.checksums_updated.size(), r.failed_rows_removed);
          }
          return Json{{"cluster", t.name},
                      {"result", "done"},
                      {"checksums_updated", r.checksums_updated},
                      {"failed_rows_removed", r.failed_rows_removed}};
        });
  }
  // baseline
  return for_each_target(
      global, config, targets, options, [&](MigrationManager& m, const MigrationTarget& t) {
        m.baseline(options.version, options.description);
        if (global.format == Format::text)
          fmt::print("{} {}: baselined at {}\n", term.green("ok"), t.name, options.version);
        return Json{{"cluster", t.name}, {"result", "done"}, {"baseline", options.version}};
      });
}

void add_migrate_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto options = std::make_shared<MigrateOptions>();
  MigrateOptions& migrate = *options;
  auto* migrate_cmd =
      app.add_subcommand("migrate",
                         "Versioned schema migrations on every cluster of the configuration")
          ->require_subcommand(1);
  migrate_cmd->add_option("--folder", migrate.folder,
                          "Migration folder (default: [migrations] folder, \"migrations\")");
  migrate_cmd->add_option("--cluster", migrate.cluster,
                          "Only this cluster (default: every cluster, in order)");
  auto add_dry_run = [&](CLI::App* cmd) {
    cmd->add_flag("--dry-run", migrate.dry_run, "Print the SQL that would run and change nothing");
  };
  migrate_cmd->add_subcommand("status", "Each cluster's version and every migration's state");
  auto* up = migrate_cmd->add_subcommand("up", "Apply pending migrations (up to VERSION)");
  up->add_option("version", migrate.version, "Stop after this version");
  add_dry_run(up);
  auto* down = migrate_cmd->add_subcommand(
      "down", "Undo the newest applied migrations with their U*.sql files");
  down->add_option("--steps", migrate.steps, "How many to undo")->check(CLI::PositiveNumber);
  add_dry_run(down);
  auto* to = migrate_cmd->add_subcommand(
      "to", "Move to VERSION, applying or undoing as needed (0: undo all)");
  to->add_option("version", migrate.version, "Target version")->required();
  add_dry_run(to);
  migrate_cmd->add_subcommand("verify",
                              "Fail if an applied migration's file changed or is missing");
  migrate_cmd->add_subcommand("repair",
                              "Re-record checksums of changed files and forget failed attempts");
  auto* baseline =
      migrate_cmd->add_subcommand("baseline", "Mark an existing database as being at VERSION");
  baseline->add_option("version", migrate.version, "Version the database is at")->required();
  baseline->add_option("--description", migrate.description, "Recorded description");
  registry.on(migrate_cmd, [&global, options, migrate_cmd] {
    options->action = migrate_cmd->get_subcommands().front()->get_name();
    return run_migrate(global, *options);
  });
}

}  // namespace nexdb::cli
