// The demo's backup and archive steps: a backup of the embedded database that is trusted only
// after it was restored and checked, and the oldest orders moved out in batches.
#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "demo_step.hpp"
#include "nexdb/archive.hpp"
#include "nexdb/backup.hpp"

namespace nexdb::cli {

void demo_backup(DemoContext& demo) {
  demo.heading("A backup, verified by restoring it into a scratch file");
  // A repository of the demo's own: pruning it never touches the backups `nexdb backup` keeps
  // in the default repository (nexdb-data/backups).
  BackupManager backups({.repository = std::filesystem::path("nexdb-data") / "demo-backups"});
  const std::vector<BackupTarget> targets{
      {.name = "demo", .uri = std::string(default_database_uri)}};
  const BackupInfo taken = backups.create(targets, {.label = "nexdb demo"});
  const VerifyReport check = backups.verify(taken.id);
  const PruneReport pruned = backups.prune(RetentionPolicy{.keep_last = 3});
  demo.line(fmt::format(
      "    backup {} ({} bytes, schema {}) through SQLite's online backup API, the pool still open",
      taken.id, taken.size, taken.parts[0].schema_version.value_or("none")));
  demo.line(fmt::format(
      "    verify: restored into a scratch file, {} checks {} (integrity_check, the checksum, row "
      "counts and key checksums of {} tables against the manifest)",
      check.checks.size(), check.ok ? demo.term.green("passed") : demo.term.red("FAILED"),
      check.restored.size()));
  demo.line(
      fmt::format("    retention: the newest 3 demo backups (nexdb-data/demo-backups) are kept, "
                  "{} older pruned (`nexdb backup list|verify|restore|prune`)",
                  pruned.removed.size()));
  demo.report["backup"] = {{"id", taken.id},
                           {"size", taken.size},
                           {"verified", check.ok},
                           {"checks", check.checks.size()}};
}

void demo_archive(DemoContext& demo) {
  using namespace std::chrono;
  demo.heading("Archiving the oldest orders in batches");
  const Timestamp cutoff = time_point_cast<microseconds>(sys_days(2026y / January / 31));
  std::optional<ProgressBar> bar;
  std::uint64_t shown = 0;
  const bool postgres = demo.db.dialect() == Dialect::postgres;
  ArchiveSettings settings{.table = "orders",
                           .where = postgres ? "created_at < $1" : "created_at < ?",
                           .where_params = {cutoff},
                           .batch_size = 1000};
  if (demo.text()) {
    settings.progress = [&](const ArchiveProgress& p) {
      if (!bar) bar.emplace(demo.term, "old orders", p.total);
      bar->advance(p.rows - shown);
      shown = p.rows;
    };
  }
  const ArchiveReport moved = Archiver(demo.db, settings).run();
  if (bar) bar->finish();
  demo.line(fmt::format(
      "    {} orders from before 2026-01-31 moved to orders_archive in {} batches ({:.0f} rows/s)",
      moved.rows, moved.batches, moved.rows_per_second()));
  demo.line(postgres ? "    each batch is one statement: WITH moved AS (DELETE ... RETURNING *) "
                       "INSERT ... (`nexdb archive`)"
                     : "    each batch is one transaction: INSERT ... SELECT, then DELETE of the "
                       "same rows (`nexdb archive`)");
  demo.report["archive"] = {{"rows", moved.rows},
                            {"batches", moved.batches},
                            {"rows_per_second", moved.rows_per_second()}};
}

}  // namespace nexdb::cli
