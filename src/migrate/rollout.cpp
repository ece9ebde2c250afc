// Several targets (each shard's primary), one after another; the first failure stops the rollout.
#include <fmt/format.h>

#include "migrate/run.hpp"

namespace nexdb {
namespace {

using TargetRun = std::function<RunReport(Database&, std::string_view name)>;

RolloutReport rollout(std::span<const MigrationTarget> targets, const TargetRun& run) {
  RolloutReport report;
  for (const MigrationTarget& target : targets)
    report.targets.push_back(TargetOutcome{.name = target.name});
  for (std::size_t i = 0; i < targets.size(); ++i) {
    TargetOutcome& outcome = report.targets[i];
    Database database = targets[i].database;  // a handle: copying shares the pool
    try {
      outcome.report = run(database, targets[i].name);
      outcome.result = TargetResult::done;
    } catch (const std::exception& e) {
      outcome.result = TargetResult::failed;
      outcome.error = e.what();
      if (const auto* error = dynamic_cast<const Error*>(&e)) outcome.sqlstate = error->sqlstate();
      if (const auto* error = dynamic_cast<const MigrationError*>(&e))
        outcome.failed_version = error->version();
      break;
    }
  }
  return report;
}

}  // namespace

RolloutReport MigrationManager::migrate(std::span<const MigrationTarget> targets,
                                        const RunOptions& options, std::string_view version) {
  return rollout(targets, [&](Database& db, std::string_view name) {
    return detail::run(
        db, *catalog_, settings_,
        [&](const SchemaStatus& status) {
          const auto target =
              version.empty() ? std::nullopt
                              : std::optional(detail::known_version(version, *catalog_, status));
          return detail::plan_up(*catalog_, status, settings_, target);
        },
        options, name);
  });
}

RolloutReport MigrationManager::to(std::span<const MigrationTarget> targets,
                                   std::string_view version, const RunOptions& options) {
  return rollout(targets, [&](Database& db, std::string_view name) {
    return detail::run(
        db, *catalog_, settings_,
        [&](const SchemaStatus& status) {
          return detail::plan_to(*catalog_, status, settings_,
                                 detail::known_version(version, *catalog_, status));
        },
        options, name);
  });
}

std::vector<TargetStatus> MigrationManager::status(std::span<const MigrationTarget> targets) {
  std::vector<TargetStatus> out;
  for (const MigrationTarget& target : targets) {
    TargetStatus& entry = out.emplace_back(TargetStatus{.name = target.name});
    Database database = target.database;
    try {
      entry.status = detail::read_status(database, *catalog_, settings_);
    } catch (const std::exception& e) {
      entry.error = e.what();  // one unreachable shard does not hide the others
    }
  }
  return out;
}

bool RolloutReport::ok() const { return failed() == nullptr; }

const TargetOutcome* RolloutReport::failed() const {
  for (const TargetOutcome& t : targets) {
    if (t.result == TargetResult::failed) return &t;
  }
  return nullptr;
}

std::string_view to_string(Direction direction) noexcept {
  return direction == Direction::up ? "up" : "down";
}

std::string_view to_string(TargetResult result) noexcept {
  switch (result) {
    case TargetResult::done:
      return "done";
    case TargetResult::failed:
      return "failed";
    case TargetResult::not_attempted:
      return "not attempted";
  }
  return "?";
}

}  // namespace nexdb
