// `nexdb backup create|list|verify|restore|prune`.
#include "command_backup.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "nexdb/backup.hpp"
#include "nexdb/error.hpp"

namespace nexdb::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string human_size(std::uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

std::string when(Timestamp at) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(at));
}

BackupSettings settings_of(const Config& config, const BackupOptions& options) {
  BackupSettings s;
  s.repository = options.repository.empty() ? config.backup.repository : options.repository;
  s.pg_bindir = config.backup.pg_bindir;
  s.jobs = static_cast<int>(config.backup.jobs);
  s.verify_server = config.backup.verify_server;
  s.command_timeout = std::chrono::minutes(config.backup.command_timeout_minutes);
  s.lock_wait_timeout = std::chrono::seconds(config.backup.lock_wait_timeout_seconds);
  s.retention = {
      .keep_last = static_cast<std::size_t>(options.keep_last.value_or(config.backup.keep_last)),
      .keep_for = std::chrono::hours(24 * options.keep_days.value_or(config.backup.keep_days))};
  s.history_table = config.migrations.table;
  return s;
}

/// Progress bars for the phases of a backup, verification or restore (text mode, terminal only).
class Progress {
 public:
  explicit Progress(const GlobalOptions& global)
      : enabled_(global.format == Format::text && term_.interactive()) {}
  ~Progress() { close(); }
  BackupProgressFn callback() {
    if (!enabled_) return {};
    return [this](const BackupProgress& p) { update(p); };
  }

 private:
  void update(const BackupProgress& p) {
    const std::string label = fmt::format("{} {}", p.phase, p.target);
    if (label != label_ || p.total != total_) {
      close();
      label_ = label;
      total_ = p.total;
      done_ = 0;
      if (p.total == 0) {
        term_.line("    " + term_.dim(label));
      } else {
        bar_.emplace(term_, label, p.total);
      }
    }
    if (bar_ && p.done > done_) {
      bar_->advance(p.done - done_);
      done_ = p.done;
    }
  }
  void close() {
    if (bar_) bar_->finish();
    bar_.reset();
  }

  Terminal term_;
  bool enabled_;
  std::optional<ProgressBar> bar_;
  std::string label_;
  std::uint64_t total_ = 0;
  std::uint64_t done_ = 0;
};

Json part_json(const BackupPart& p) {
  Json tables = Json::array();
  for (const TableStats& t : p.tables) {
    tables.push_back(
        {{"table", t.schema.empty() ? t.name : t.schema + "." + t.name}, {"rows", t.rows}});
  }
  return {{"name", p.name},
          {"source", p.source},
          {"server_version", p.server_version},
          {"schema_version", p.schema_version.value_or("")},
          {"size", p.size},
          {"tables", tables}};
}

Json info_json(const BackupInfo& b) {
  Json parts = Json::array();
  for (const BackupPart& p : b.parts) parts.push_back(part_json(p));
  Json verified = nullptr;
  if (b.last_verified) {
    verified = {{"at", format_timestamp(b.last_verified->at)},
                {"ok", b.last_verified->ok},
                {"summary", b.last_verified->summary}};
  }
  return {{"id", b.id},
          {"kind", to_string(b.kind)},
          {"label", b.label},
          {"started_at", format_timestamp(b.started_at)},
          {"finished_at", format_timestamp(b.finished_at)},
          {"size", b.size},
          {"directory", b.directory.string()},
          {"parts", parts},
          {"last_verified", verified}};
}

int create(const GlobalOptions& global, const Config& config, BackupManager& manager,
           const BackupOptions& o) {
  const Terminal term;
  CreateOptions options{.label = o.label};
  if (!o.kind.empty()) options.kind = backup_kind_from_string(o.kind);
  Progress progress(global);
  options.progress = progress.callback();
  const auto targets = backup_targets(config, o.cluster);
  const BackupInfo b = manager.create(targets, options);
  if (global.format == Format::json) {
    fmt::print("{}\n", info_json(b).dump(2));
    return 0;
  }
  const auto seconds = std::chrono::duration<double>(b.finished_at - b.started_at).count();
  fmt::print("{} backup {} ({}): {} part(s), {} in {:.1f} s\n", term.green("ok"), term.bold(b.id),
             to_string(b.kind), b.parts.size(), human_size(b.size), seconds);
  for (const BackupPart& p : b.parts) {
    fmt::print("    {}: {}, server {}, schema {}, {} tables, {}\n", p.name, p.source,
               p.server_version, p.schema_version.value_or("none"), p.tables.size(),
               human_size(p.size));
  }
  fmt::print("    in {}; a backup never restored is not trusted: nexdb backup verify {}\n",
             b.directory.string(), b.id);
  return 0;
}

int list(const GlobalOptions& global, BackupManager& manager) {
  const Terminal term;
  const auto all = manager.list();
  if (global.format == Format::json) {
    Json out = Json::array();
    for (const BackupInfo& b : all) out.push_back(info_json(b));
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const BackupInfo& b : all) {
    std::string verified = term.dim("never");
    if (b.last_verified) {
      verified = b.last_verified->ok ? term.green("ok " + when(b.last_verified->at))
                                     : term.red("FAILED " + when(b.last_verified->at));
    }
    std::string parts;
    for (const BackupPart& p : b.parts) parts += (parts.empty() ? "" : ",") + p.name;
    rows.push_back({b.id, std::string(to_string(b.kind)), parts, human_size(b.size),
                    when(b.started_at), verified, b.label});
  }
  if (rows.empty()) {
    fmt::print("no backups in {}\n", manager.settings().repository.string());
    return 0;
  }
  term.table({"id", "kind", "parts", "size", "started (UTC)", "verified", "label"}, rows);
  return 0;
}

int verify(const GlobalOptions& global, BackupManager& manager, const BackupOptions& o) {
  const Terminal term;
  Progress progress(global);
  const VerifyReport r = manager.verify(o.id.empty() ? "latest" : o.id, progress.callback());
  if (global.format == Format::json) {
    Json checks = Json::array();
    for (const VerifyCheck& c : r.checks) {
      checks.push_back({{"part", c.target}, {"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    }
    fmt::print(
        "{}\n",
        Json{{"id", r.id}, {"ok", r.ok}, {"duration_ms", r.duration.count()}, {"checks", checks}}
            .dump(2));
    return r.ok ? 0 : 1;
  }
  std::vector<std::vector<std::string>> rows;
  for (const VerifyCheck& c : r.checks) {
    const std::string detail =
        c.detail.size() > 90 && c.ok ? c.detail.substr(0, 87) + "..." : c.detail;
    rows.push_back({c.target, c.name, c.ok ? term.green("ok") : term.red("FAILED"), detail});
  }
  term.table({"part", "check", "result", "detail"}, rows);
  const double seconds = static_cast<double>(r.duration.count()) / 1000.0;
  if (r.ok) {
    fmt::print("{} backup {} restored and checked ({} checks) in {:.1f} s\n", term.green("ok"),
               r.id, r.checks.size(), seconds);
  } else {
    fmt::print(stderr, "{} backup {} failed verification:\n{}\n", term.red("FAILED"), r.id,
               r.failures());
  }
  return r.ok ? 0 : 1;
}

int restore(const GlobalOptions& global, BackupManager& manager, const BackupOptions& o) {
  if (o.to.empty())
    throw UsageError(
        "backup restore needs --to: a database URI, or a data directory for a physical backup");
  const BackupInfo b = manager.get(o.id);
  RestoreTarget target{.part = o.part, .force = o.force, .no_owner = o.no_owner};
  if (b.kind == BackupKind::physical) {
    target.directory = o.to;
  } else {
    target.uri = o.to;
  }
  Progress progress(global);
  target.progress = progress.callback();
  manager.restore(b.id, target);
  const std::string part = b.part(o.part).name;
  if (global.format == Format::json) {
    fmt::print(
        "{}\n",
        Json{{"id", b.id}, {"part", part}, {"restored_into", redact_password(o.to)}}.dump(2));
  } else {
    const Terminal term;
    fmt::print("{} restored part {} of backup {} into {}\n", term.green("ok"), part, b.id,
               redact_password(o.to));
    if (b.kind == BackupKind::physical) fmt::print("    start it with: pg_ctl -D {} start\n", o.to);
  }
  return 0;
}

int prune(const GlobalOptions& global, BackupManager& manager, const BackupOptions& o) {
  const RetentionPolicy policy = manager.settings().retention;
  if (!policy.enabled()) {
    throw ConfigError(
        "no retention rule: pass --keep-last N and/or --keep-days D, or set [backup] keep_last / "
        "keep_days");
  }
  const PruneReport r = manager.prune(policy, o.dry_run);
  if (global.format == Format::json) {
    fmt::print("{}\n",
               Json{{"dry_run", r.dry_run}, {"removed", r.removed}, {"kept", r.kept}}.dump(2));
    return 0;
  }
  const Terminal term;
  for (const auto& id : r.removed)
    fmt::print("{} {}\n", o.dry_run ? term.cyan("would remove") : term.red("removed"), id);
  fmt::print(
      "{} backup(s) kept (per cluster and kind: the newest {} not failing verification, those "
      "younger than {} days, and always the newest verified one)\n",
      r.kept.size(), policy.keep_last, policy.keep_for.count() / 24);
  return 0;
}

}  // namespace

void add_backup_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto o = std::make_shared<BackupOptions>();
  auto* backup =
      app.add_subcommand(
             "backup", "Backups of every cluster: take, list, verify by restoring, restore, prune")
          ->require_subcommand(1);
  backup->add_option("--repository", o->repository,
                     "Backup directory (default: [backup] repository)");
  auto* create =
      backup->add_subcommand("create", "Back up every cluster (or --cluster) into one backup");
  create->add_option("--cluster", o->cluster, "Only this cluster");
  create->add_option("--kind", o->kind, "logical (pg_dump), physical (pg_basebackup) or sqlite")
      ->check(CLI::IsMember({"logical", "physical", "sqlite"}));
  create->add_option("--label", o->label, "A note kept in the manifest");
  auto* list = backup->add_subcommand("list", "Every backup with its size and last verification");
  auto* verify = backup->add_subcommand(
      "verify", "Restore a backup into a scratch database and check it (exit 1 if a check fails)");
  verify->add_option("id", o->id, "Backup id (default: the latest)");
  auto* restore =
      backup->add_subcommand("restore", "Restore a backup into a database or data directory");
  restore->add_option("id", o->id, "Backup id, or latest")->required();
  restore
      ->add_option("--to", o->to,
                   "Target: a database URI, or a data directory for a physical backup")
      ->required();
  restore->add_option("--part", o->part, "Which cluster (shard) of a multi-part backup");
  restore->add_flag("--force", o->force, "Replace what a non-empty target holds");
  restore->add_flag("--no-owner", o->no_owner, "PostgreSQL: skip ownership and grants");
  auto* prune = backup->add_subcommand("prune", "Delete backups the retention rules do not keep");
  prune->add_option("--keep-last", o->keep_last, "Keep the newest N of each kind")
      ->check(CLI::NonNegativeNumber);
  prune->add_option("--keep-days", o->keep_days, "Keep everything younger than D days")
      ->check(CLI::NonNegativeNumber);
  prune->add_flag("--dry-run", o->dry_run, "Only say what would be deleted");
  for (CLI::App* command : {create, list, verify, restore, prune}) {
    registry.on(command, [&global, o, command] {
      o->action = command->get_name();
      return run_backup(global, *o);
    });
  }
}

int run_backup(const GlobalOptions& global, const BackupOptions& options) {
  const Config config = load_config(global);
  BackupManager manager(settings_of(config, options));
  if (options.action == "create") return create(global, config, manager, options);
  if (options.action == "list") return list(global, manager);
  if (options.action == "verify") return verify(global, manager, options);
  if (options.action == "restore") return restore(global, manager, options);
  if (options.action == "prune") return prune(global, manager, options);
  return 2;
}

}  // namespace nexdb::cli
