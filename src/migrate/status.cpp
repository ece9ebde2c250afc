// build_status: the known migrations merged with the history table into one view.
#include <algorithm>
#include <map>

#include "migrate/plan.hpp"

namespace nexdb::detail {
namespace {

/// A version's rows: its latest row of any kind and its latest successful one.
struct VersionRows {
  const HistoryEntry* last = nullptr;
  const HistoryEntry* last_success = nullptr;

  bool baseline() const { return last_success && last_success->kind == MigrationKind::baseline; }
  /// The latest attempt to apply it failed (a failed undo leaves the migration applied).
  bool failed_up() const { return last && !last->success && last->kind != MigrationKind::undo; }
};

std::map<MigrationVersion, VersionRows> group(std::span<const HistoryEntry> entries) {
  std::map<MigrationVersion, VersionRows> out;
  for (const HistoryEntry& e : entries) {
    auto version = MigrationVersion::try_parse(e.version);
    if (!version) continue;  // not written by nexdb; nothing to match it with
    VersionRows& rows = out.try_emplace(*version).first->second;
    rows.last = &e;
    if (e.success) rows.last_success = &e;
  }
  return out;
}

void take_row(MigrationInfo& info, const HistoryEntry& row) {
  info.applied_at = row.applied_at;
  info.duration_ms = row.duration_ms;
  info.applied_by = row.applied_by;
  if (row.kind != MigrationKind::undo) info.recorded_checksum = row.checksum;
}

MigrationInfo known_info(const Migration& m, Dialect dialect, const VersionRows* rows,
                         const std::optional<MigrationVersion>& baseline) {
  MigrationInfo info{.version = m.version.text(),
                     .description = m.description,
                     .kind = m.kind,
                     .script = m.script_name(dialect),
                     .has_undo = m.has_undo(dialect),
                     .checksum = m.checksum(dialect)};
  if (rows && rows->baseline()) {
    info.state = MigrationState::below_baseline;
  } else if (rows && rows->failed_up()) {
    info.state = MigrationState::failed;
    take_row(info, *rows->last);
  } else if (rows && rows->last_success) {
    const HistoryEntry& row = *rows->last_success;
    take_row(info, row);
    if (row.kind == MigrationKind::undo) {
      info.state = MigrationState::undone;
    } else {
      // The recorded row's version keeps its spelling ("1.2" applied, file now "1.2.0").
      info.state = row.checksum == info.checksum ? MigrationState::applied
                                                 : MigrationState::checksum_mismatch;
    }
  } else if (baseline && m.version <= *baseline) {
    info.state = MigrationState::below_baseline;
  }
  return info;
}

/// A version only the history knows: a baseline, or a migration whose file is gone.
MigrationInfo history_only_info(const VersionRows& rows) {
  const HistoryEntry& row = rows.last_success ? *rows.last_success : *rows.last;
  MigrationInfo info{.version = row.version,
                     .description = row.description,
                     .kind = row.kind,
                     .script = row.script};
  take_row(info, row);
  if (rows.baseline()) {
    info.state = MigrationState::baseline;
  } else if (rows.failed_up()) {
    info.state = MigrationState::failed;
    take_row(info, *rows.last);
  } else if (row.kind == MigrationKind::undo) {
    info.state = MigrationState::undone;
  } else {
    info.state = MigrationState::missing;
  }
  return info;
}

std::optional<MigrationVersion> baseline_of(const std::map<MigrationVersion, VersionRows>& groups) {
  std::optional<MigrationVersion> baseline;
  for (const auto& [version, rows] : groups) {
    if (rows.baseline()) baseline = version;  // ascending: the highest wins
  }
  return baseline;
}

using Keyed = std::pair<MigrationVersion, MigrationInfo>;

void sort_into(std::vector<Keyed>& keyed, std::vector<MigrationInfo>& out) {
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (const auto order = a.first <=> b.first; order != 0) return order < 0;
    return a.second.state == MigrationState::baseline && b.second.state != MigrationState::baseline;
  });
  out.reserve(keyed.size());
  for (auto& [version, info] : keyed) out.push_back(std::move(info));
}

}  // namespace

SchemaStatus build_status(const Catalog& catalog, Dialect dialect, std::string database,
                          std::span<const HistoryEntry> entries, bool history_exists) {
  const auto groups = group(entries);
  const auto baseline = baseline_of(groups);
  SchemaStatus status{
      .database = std::move(database),
      .dialect = dialect,
      .history_exists = history_exists,
      .current_version = current_version_of(entries),
      .baseline_version = baseline ? std::optional(baseline->text()) : std::nullopt};
  const auto current =
      status.current_version ? MigrationVersion::try_parse(*status.current_version) : std::nullopt;
  std::vector<Keyed> keyed;
  keyed.reserve(catalog.migrations.size() + 1);
  for (const auto& [version, migration] : catalog.migrations) {
    auto rows = groups.find(version);
    MigrationInfo info =
        known_info(migration, dialect, rows == groups.end() ? nullptr : &rows->second, baseline);
    if (info.state == MigrationState::pending && current && version < *current) {
      info.state = MigrationState::out_of_order;
    }
    keyed.emplace_back(version, std::move(info));
  }
  for (const auto& [version, rows] : groups) {
    if (rows.baseline() || !catalog.find(version))
      keyed.emplace_back(version, history_only_info(rows));
  }
  sort_into(keyed, status.migrations);
  return status;
}

}  // namespace nexdb::detail

namespace nexdb {

std::size_t SchemaStatus::count(MigrationState state) const {
  return static_cast<std::size_t>(
      std::count_if(migrations.begin(), migrations.end(),
                    [&](const MigrationInfo& m) { return m.state == state; }));
}

std::string_view to_string(MigrationState state) noexcept {
  switch (state) {
    case MigrationState::pending:
      return "pending";
    case MigrationState::applied:
      return "applied";
    case MigrationState::failed:
      return "failed";
    case MigrationState::undone:
      return "undone";
    case MigrationState::missing:
      return "missing";
    case MigrationState::checksum_mismatch:
      return "checksum-mismatch";
    case MigrationState::out_of_order:
      return "out-of-order";
    case MigrationState::baseline:
      return "baseline";
    case MigrationState::below_baseline:
      return "below-baseline";
  }
  return "?";
}

}  // namespace nexdb
