#include "migrate/run.hpp"

#include <fmt/format.h>

#include "migrate/lock.hpp"
#include "migrate/runner.hpp"

namespace nexdb::detail {
namespace {

std::string applied_by(Connection& connection, const MigrationSettings& settings) {
  return settings.applied_by.empty() ? default_applied_by(connection) : settings.applied_by;
}

/// The version the history would imply after `steps` succeed.
std::optional<std::string> version_after(std::vector<HistoryEntry> entries,
                                         const std::vector<Step>& steps) {
  for (const Step& step : steps) {
    entries.push_back(HistoryEntry{
        .version = step.migration->version.text(),
        .kind = step.direction == Direction::up ? step.migration->kind : MigrationKind::undo,
        .success = true});
  }
  return current_version_of(entries);
}

RunReport plan_only(Database& db, Connection& connection, const Catalog& catalog,
                    const MigrationSettings& settings, const Planner& planner) {
  SchemaVersion history(connection, settings.history_table);
  const bool exists = history.exists();
  const auto entries = exists ? history.entries() : std::vector<HistoryEntry>{};
  const SchemaStatus status =
      build_status(catalog, connection.dialect(), db.description(), entries, exists);
  const std::vector<Step> steps = planner(status);
  RunReport report{.version_before = status.current_version,
                   .version_after = version_after(entries, steps),
                   .dry_run = true};
  for (const Step& step : steps) report.steps.push_back(describe(step, connection.dialect()));
  return report;
}

}  // namespace

RunReport run(Database& db, const Catalog& catalog, const MigrationSettings& settings,
              const Planner& planner, const RunOptions& options, std::string_view target) {
  Lease lease = db.connection();
  if (options.dry_run) return plan_only(db, *lease, catalog, settings, planner);

  RunLock lock(*lease, settings.history_table, settings.lock_timeout);
  SchemaVersion history(*lease, settings.history_table);
  history.create_if_missing();
  // Read under the lock: whatever another runner applied before we got it is seen here.
  const auto entries = history.entries();
  const SchemaStatus status =
      build_status(catalog, lease->dialect(), db.description(), entries, true);
  const std::vector<Step> steps = planner(status);
  RunContext context{.connection = *lease,
                     .history = history,
                     .applied_by = applied_by(*lease, settings),
                     .target = target,
                     .progress = &options.progress};
  RunReport report{.version_before = status.current_version,
                   .version_after = version_after(entries, steps),
                   .steps = execute_steps(context, steps)};
  return report;
}

SchemaStatus read_status(Database& db, const Catalog& catalog, const MigrationSettings& settings) {
  Lease lease = db.connection();
  SchemaVersion history(*lease, settings.history_table);
  const bool exists = history.exists();
  const auto entries = exists ? history.entries() : std::vector<HistoryEntry>{};
  return build_status(catalog, lease->dialect(), db.description(), entries, exists);
}

RepairReport repair(Database& db, const Catalog& catalog, const MigrationSettings& settings) {
  Lease lease = db.connection();
  RunLock lock(*lease, settings.history_table, settings.lock_timeout);
  SchemaVersion history(*lease, settings.history_table);
  if (!history.exists()) return {};
  const auto entries = history.entries();
  const SchemaStatus status =
      build_status(catalog, lease->dialect(), db.description(), entries, true);
  RepairReport report;
  Transaction tx(*lease);
  for (const MigrationInfo& info : status.migrations) {
    if (info.state != MigrationState::checksum_mismatch) continue;
    const MigrationVersion version = MigrationVersion::parse(info.version);
    // The row that applied it: its latest successful one.
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      if (it->success && MigrationVersion::try_parse(it->version) == version) {
        history.update_checksum(it->id, info.checksum);
        break;
      }
    }
    report.checksums_updated.push_back(info.version);
  }
  report.failed_rows_removed = history.remove_failed();
  tx.commit();
  return report;
}

void baseline(Database& db, const MigrationSettings& settings, const MigrationVersion& version,
              std::string_view description) {
  Lease lease = db.connection();
  RunLock lock(*lease, settings.history_table, settings.lock_timeout);
  SchemaVersion history(*lease, settings.history_table);
  history.create_if_missing();
  if (auto current = current_version_of(history.entries())) {
    throw MigrationError(fmt::format("cannot baseline {} at {}: it already has applied migrations "
                                     "(current version {}); baseline is for a database that has "
                                     "none yet",
                                     db.description(), version.text(), *current),
                         version.text(), std::string(description), {.host = db.description()});
  }
  history.record(HistoryEntry{.version = version.text(),
                              .description = std::string(description),
                              .kind = MigrationKind::baseline,
                              .script = "baseline",
                              .applied_by = applied_by(*lease, settings),
                              .success = true});
}

}  // namespace nexdb::detail
