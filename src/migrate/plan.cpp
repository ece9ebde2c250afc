// Planning up/down/to runs from a status; refusing, with every reason at once, before anything
// runs.
#include "migrate/plan.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nexdb::detail {
namespace {

bool is_applied(MigrationState state) {
  return state == MigrationState::applied || state == MigrationState::checksum_mismatch ||
         state == MigrationState::missing;
}

bool is_runnable(MigrationState state) {
  return state == MigrationState::pending || state == MigrationState::failed ||
         state == MigrationState::undone || state == MigrationState::out_of_order;
}

std::string file_stem(const MigrationInfo& info) {
  std::string stem = info.description;
  std::replace(stem.begin(), stem.end(), ' ', '_');
  return fmt::format("{}__{}", info.version, stem);
}

Problem problem(const MigrationInfo& info, std::string text) {
  return Problem{.version = info.version,
                 .description = info.description,
                 .text = fmt::format("{} ({}) {}", info.version, info.description, text)};
}

/// Undo steps for `infos` (applied, highest first); every missing undo is a problem.
std::vector<Step> undo_steps(const Catalog& catalog, const SchemaStatus& status,
                             const std::vector<const MigrationInfo*>& infos) {
  std::vector<Problem> problems;
  std::vector<Step> steps;
  for (const MigrationInfo* info : infos) {
    const Migration* m = catalog.find(MigrationVersion::parse(info->version));
    if (m == nullptr || !m->has_undo(status.dialect)) {
      problems.push_back(problem(
          *info,
          fmt::format("has no undo: add U{}.sql{}", file_stem(*info),
                      m && m->kind == MigrationKind::cpp ? " or register an undo function" : "")));
      continue;
    }
    steps.push_back(Step{.migration = m, .direction = Direction::down});
  }
  if (!problems.empty()) {
    throw_problems(fmt::format("cannot undo on {}: nothing was run", status.database), status,
                   problems);
  }
  return steps;
}

/// Applied migrations above `floor` (all when nullopt), highest first.
std::vector<const MigrationInfo*> applied_above(const SchemaStatus& status,
                                                const std::optional<MigrationVersion>& floor) {
  std::vector<const MigrationInfo*> out;
  for (auto it = status.migrations.rbegin(); it != status.migrations.rend(); ++it) {
    if (!is_applied(it->state)) continue;
    if (floor && MigrationVersion::parse(it->version) <= *floor) continue;
    out.push_back(&*it);
  }
  return out;
}

}  // namespace

std::vector<Problem> validation_problems(const SchemaStatus& status,
                                         const MigrationSettings& settings) {
  std::vector<Problem> problems;
  for (const MigrationInfo& info : status.migrations) {
    if (info.state == MigrationState::checksum_mismatch) {
      problems.push_back(problem(
          info, fmt::format("was applied from {} which has changed since (checksum {} recorded, {} "
                            "now): restore the file, or run repair if the change is intended",
                            info.script, info.recorded_checksum.value_or("none"),
                            info.checksum.value_or("none"))));
    } else if (info.state == MigrationState::missing && !settings.ignore_missing) {
      problems.push_back(problem(
          info, fmt::format("is applied but not defined here ({} deleted or renamed?): restore "
                            "it, or set ignore_missing",
                            info.script)));
    } else if (info.state == MigrationState::out_of_order && !settings.allow_out_of_order) {
      problems.push_back(problem(
          info, fmt::format("is pending but lower than the current version {}: allow out-of-order "
                            "migrations, or give it a version above {}",
                            *status.current_version, *status.current_version)));
    }
  }
  return problems;
}

void throw_problems(std::string_view headline, const SchemaStatus& status,
                    const std::vector<Problem>& problems) {
  std::vector<std::string> lines;
  for (const Problem& p : problems) lines.push_back(p.text);
  const bool one = problems.size() == 1;
  throw MigrationError(fmt::format("{}; {} problem{}:\n  - {}", headline, problems.size(),
                                   one ? "" : "s", fmt::join(lines, "\n  - ")),
                       one ? problems[0].version : std::string{},
                       one ? problems[0].description : std::string{}, {.host = status.database});
}

std::vector<Step> plan_up(const Catalog& catalog, const SchemaStatus& status,
                          const MigrationSettings& settings,
                          const std::optional<MigrationVersion>& target) {
  std::vector<Problem> problems = validation_problems(status, settings);
  std::vector<Step> steps;
  for (const MigrationInfo& info : status.migrations) {
    if (!is_runnable(info.state)) continue;
    const MigrationVersion version = MigrationVersion::parse(info.version);
    if (target && version > *target) continue;
    const Migration* m = catalog.find(version);
    if (m == nullptr) continue;  // failed or undone, and no longer defined: nothing to run
    if (!m->has_up(status.dialect)) {
      problems.push_back(
          problem(info, fmt::format("has no script for {0}: add V{1}.sql or V{1}.{0}.sql",
                                    to_string(status.dialect), file_stem(info))));
    }
    steps.push_back(Step{.migration = m, .direction = Direction::up});
  }
  if (!problems.empty()) {
    throw_problems(fmt::format("cannot migrate {}: nothing was run", status.database), status,
                   problems);
  }
  return steps;
}

std::vector<Step> plan_down(const Catalog& catalog, const SchemaStatus& status, std::size_t count) {
  std::vector<const MigrationInfo*> applied = applied_above(status, std::nullopt);
  if (count > applied.size()) {
    throw MigrationError(fmt::format("cannot undo {} migration{} on {}: only {} {} applied{}",
                                     count, count == 1 ? "" : "s", status.database, applied.size(),
                                     applied.size() == 1 ? "is" : "are",
                                     status.baseline_version ? fmt::format(" above the baseline {}",
                                                                           *status.baseline_version)
                                                             : std::string{}),
                         {}, {}, {.host = status.database});
  }
  applied.resize(count);
  return undo_steps(catalog, status, applied);
}

std::vector<Step> plan_to(const Catalog& catalog, const SchemaStatus& status,
                          const MigrationSettings& settings, const MigrationVersion& target) {
  const auto current =
      status.current_version ? MigrationVersion::try_parse(*status.current_version) : std::nullopt;
  if (!current || target >= *current) return plan_up(catalog, status, settings, target);
  if (status.baseline_version && target < MigrationVersion::parse(*status.baseline_version)) {
    throw MigrationError(fmt::format("cannot go to {} on {}: it is below the baseline {}, which "
                                     "cannot be undone",
                                     target.text(), status.database, *status.baseline_version),
                         {}, {}, {.host = status.database});
  }
  return undo_steps(catalog, status, applied_above(status, target));
}

MigrationVersion known_version(std::string_view text, const Catalog& catalog,
                               const SchemaStatus& status) {
  const MigrationVersion version = MigrationVersion::parse(text);
  if (version == MigrationVersion::parse("0") || catalog.find(version)) return version;
  for (const MigrationInfo& info : status.migrations) {
    if (MigrationVersion::parse(info.version) == version) return version;
  }
  std::string known = "none";
  if (!catalog.migrations.empty()) {
    known = fmt::format("{} to {} ({} in all)", catalog.migrations.begin()->first.text(),
                        catalog.migrations.rbegin()->first.text(), catalog.migrations.size());
  }
  throw UsageError(
      fmt::format("unknown migration version {}: known versions are {}, or 0 for "
                  "none",
                  text, known));
}

}  // namespace nexdb::detail
