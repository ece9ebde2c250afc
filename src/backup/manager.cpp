// BackupManager: one backup of several targets (every shard) under one manifest; verification
// that restores; restores that refuse to overwrite; retention.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "backup/parts.hpp"
#include "backup/repository.hpp"
#include "nexdb/backup.hpp"
#include "nexdb/config.hpp"

namespace nexdb {
namespace {

namespace fs = std::filesystem;
using namespace backup_detail;

void check_targets(std::span<const BackupTarget> targets) {
  if (targets.empty()) throw BackupError("nothing to back up: no targets given");
  std::set<std::string> names;
  for (const BackupTarget& t : targets) {
    const bool safe =
        !t.name.empty() && t.name != "." && t.name != ".." &&
        std::all_of(t.name.begin(), t.name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        });
    if (!safe) {
      throw BackupError(
          fmt::format("backup target name '{}' must be letters, digits, '-', '_' or '.'", t.name));
    }
    if (!names.insert(t.name).second)
      throw BackupError(fmt::format("two backup targets are named '{}'", t.name));
  }
}

BackupKind kind_for(std::span<const BackupTarget> targets,
                    const std::optional<BackupKind>& requested) {
  const Dialect dialect = dialect_of(targets.front().uri);
  for (const BackupTarget& t : targets) {
    if (dialect_of(t.uri) != dialect) {
      throw BackupError("one backup covers targets of one kind: these mix PostgreSQL and SQLite");
    }
  }
  const BackupKind kind =
      requested.value_or(dialect == Dialect::sqlite ? BackupKind::sqlite : BackupKind::logical);
  if ((kind == BackupKind::sqlite) != (dialect == Dialect::sqlite)) {
    throw BackupError(fmt::format("a {} backup cannot be taken of a {} database", to_string(kind),
                                  to_string(dialect)));
  }
  return kind;
}

/// Takes every part. Logical: every snapshot first, so the parts are as close in time as they
/// can be without stopping writes, then the dumps.
std::vector<BackupPart> take_parts(const BackupSettings& settings,
                                   std::span<const BackupTarget> targets, BackupKind kind,
                                   const std::string& id, const fs::path& dir,
                                   const BackupProgressFn& progress) {
  std::vector<BackupPart> parts;
  for (const BackupTarget& t : targets) fs::create_directories(dir / t.name);
  if (kind == BackupKind::logical) {
    std::vector<std::unique_ptr<LogicalSnapshot>> snapshots;
    for (const BackupTarget& t : targets) {
      if (progress) progress({.phase = "snapshot", .target = t.name});
      snapshots.push_back(std::make_unique<LogicalSnapshot>(settings, t));
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      snapshots[i]->dump(settings, dir / targets[i].name, progress);
      parts.push_back(snapshots[i]->part());
    }
    return parts;
  }
  for (const BackupTarget& t : targets) {
    parts.push_back(kind == BackupKind::physical
                        ? base_backup(settings, t, "nexdb " + id, dir / t.name, progress)
                        : sqlite_backup(settings, t, dir / t.name, progress));
  }
  return parts;
}

PartVerification verify_part(const BackupSettings& settings, const BackupInfo& info,
                             const BackupPart& part, const BackupProgressFn& progress) {
  const fs::path dir = info.directory / part.name;
  switch (info.kind) {
    case BackupKind::logical:
      return verify_logical(settings, part, dir, progress);
    case BackupKind::physical:
      return verify_physical(settings, part, dir, progress);
    case BackupKind::sqlite:
      return verify_sqlite(settings, part, dir, progress);
  }
  return {};
}

/// Backups compete for retention within a series: the same kind of backup of the same targets
/// (one repository may hold the backups of several clusters).
std::string series_of(const BackupInfo& info) {
  std::vector<std::string> names;
  for (const BackupPart& p : info.parts) names.push_back(p.name);
  std::sort(names.begin(), names.end());
  return fmt::format("{}:{}", to_string(info.kind), fmt::join(names, ","));
}

std::string summary_of(const VerifyReport& report) {
  if (report.ok) return fmt::format("{} checks passed", report.checks.size());
  const auto failed = std::count_if(report.checks.begin(), report.checks.end(),
                                    [](const VerifyCheck& c) { return !c.ok; });
  return fmt::format("{} of {} checks failed: {}", failed, report.checks.size(), report.failures());
}

}  // namespace

std::string_view to_string(BackupKind kind) noexcept {
  switch (kind) {
    case BackupKind::logical:
      return "logical";
    case BackupKind::physical:
      return "physical";
    case BackupKind::sqlite:
      return "sqlite";
  }
  return "?";
}

std::optional<BackupKind> backup_kind_from_string(std::string_view text) noexcept {
  for (BackupKind kind : {BackupKind::logical, BackupKind::physical, BackupKind::sqlite}) {
    if (text == to_string(kind)) return kind;
  }
  return std::nullopt;
}

std::vector<BackupTarget> backup_targets(const Config& config, std::string_view cluster) {
  std::vector<BackupTarget> targets;
  for (const ClusterConfig& c : config.clusters) {
    if (cluster.empty() || c.name == cluster) targets.push_back({.name = c.name, .uri = c.primary});
  }
  if (targets.empty()) config.cluster(cluster);  // throws ConfigError listing the clusters
  return targets;
}

const BackupPart& BackupInfo::part(std::string_view name) const {
  if (name.empty() && parts.size() == 1) return parts.front();
  std::string names;
  for (const BackupPart& p : parts) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  throw BackupError(fmt::format("backup {} has no part '{}' (its parts: {})", id, name, names));
}

std::string VerifyReport::failures() const {
  std::string out;
  for (const VerifyCheck& c : checks) {
    if (c.ok) continue;
    out += fmt::format("{}{}{}: {}\n", c.target, c.target.empty() ? "" : ": ", c.name, c.detail);
  }
  if (!out.empty()) out.pop_back();
  return out;
}

BackupManager::BackupManager(BackupSettings settings) : settings_(std::move(settings)) {
  settings_.repository = fs::absolute(settings_.repository);
  settings_.scratch_dir = fs::absolute(settings_.scratch_dir);
}

BackupInfo BackupManager::create(std::span<const BackupTarget> targets,
                                 const CreateOptions& options) {
  check_targets(targets);
  const BackupKind kind = kind_for(targets, options.kind);
  const Repository repository(settings_.repository);
  BackupInfo info{.kind = kind, .label = options.label, .started_at = now_utc()};
  info.id = repository.new_id(kind, info.started_at);
  const PartialBackup partial = repository.begin(info.id);
  try {
    info.parts = take_parts(settings_, targets, kind, info.id, partial.path(), options.progress);
    for (const BackupPart& p : info.parts) info.size += p.size;
    info.finished_at = now_utc();
    repository.commit(partial, info);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial.path(), ignored);
    throw;
  }
  return info;
}

std::vector<BackupInfo> BackupManager::list() const {
  return Repository(settings_.repository).list();
}

BackupInfo BackupManager::get(std::string_view id) const {
  return Repository(settings_.repository).get(id);
}

VerifyReport BackupManager::verify(std::string_view id, BackupProgressFn progress) {
  const auto start = std::chrono::steady_clock::now();
  const Repository repository(settings_.repository);
  const BackupInfo info = repository.get(id);
  VerifyReport report{.id = info.id};
  for (const BackupPart& part : info.parts) {
    PartVerification result;
    try {
      result = verify_part(settings_, info, part, progress);
    } catch (const Error& e) {
      // A failure of the machinery (a scratch server that cannot start) fails the backup's
      // verification too: it was not shown to restore.
      result.checks.push_back(
          {.target = part.name, .name = "verification", .ok = false, .detail = e.what()});
    }
    report.checks.insert(report.checks.end(), result.checks.begin(), result.checks.end());
    for (TableStats& t : result.restored) report.restored.emplace_back(part.name, std::move(t));
  }
  report.ok = !report.checks.empty() && all_ok(report.checks);
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  repository.record_verification(info,
                                 {.at = now_utc(), .ok = report.ok, .summary = summary_of(report)});
  return report;
}

void BackupManager::restore(std::string_view id, const RestoreTarget& target) {
  const BackupInfo info = get(id);
  const BackupPart& part = info.part(target.part);
  const fs::path dir = info.directory / part.name;
  switch (info.kind) {
    case BackupKind::logical:
      if (dialect_of(target.uri) != Dialect::postgres)
        throw BackupError("restore a logical backup into PostgreSQL");
      restore_logical(settings_, part, dir, target);
      return;
    case BackupKind::physical:
      restore_physical(settings_, part, dir, target);
      return;
    case BackupKind::sqlite:
      if (dialect_of(target.uri) != Dialect::sqlite)
        throw BackupError("restore a SQLite backup into sqlite:path");
      restore_sqlite(part, dir, target);
      return;
  }
}

PruneReport BackupManager::prune(std::optional<RetentionPolicy> policy, bool dry_run) {
  const RetentionPolicy rules = policy.value_or(settings_.retention);
  const Repository repository(settings_.repository);
  PruneReport report{.dry_run = dry_run};
  const std::vector<BackupInfo> all = repository.list();
  const Timestamp now = now_utc();
  // Newest first, each series on its own: the newest keep_last backups that did not fail
  // verification are kept, and so is the newest one that passed it, whatever the rules say.
  std::map<std::string, std::size_t> counted;
  std::set<std::string> has_verified;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::string series = series_of(*it);
    const bool failed = it->last_verified && !it->last_verified->ok;
    const bool verified = it->last_verified && it->last_verified->ok;
    const bool by_count = !failed && counted[series]++ < rules.keep_last;
    const bool by_age = rules.keep_for.count() > 0 && now - it->started_at < rules.keep_for;
    const bool newest_verified = verified && has_verified.insert(series).second;
    if (!rules.enabled() || by_count || by_age || newest_verified) {
      report.kept.push_back(it->id);
      continue;
    }
    report.removed.push_back(it->id);
    if (!dry_run) fs::remove_all(it->directory);
  }
  for (const fs::path& partial : repository.partials()) {
    if (in_progress(partial)) continue;  // being written
    report.removed.push_back(partial.filename().string());
    if (!dry_run) fs::remove_all(partial);
  }
  return report;
}

}  // namespace nexdb
