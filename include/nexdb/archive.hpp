// Archiver: moves old rows out of a table in batches, pt-archiver style, without losing or
// duplicating one — into an archive table of the same database (each batch one statement:
// WITH moved AS (DELETE ... RETURNING *) INSERT ...), into another database or into a CSV /
// JSON-lines file, gzip-compressed when its name ends in .gz (each batch copied, verified, then
// deleted, with a checkpoint that makes a crash at any point resumable).
//
//   Archiver archiver{db, {.table = "orders",
//                          .where = "created_at < now() - interval '90 days'",
//                          .to = {.table = "orders_archive"},
//                          .batch_size = 10000}};
//   ArchiveReport report = archiver.run();
//
// See docs/backup.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nexdb/database.hpp"
#include "nexdb/error.hpp"
#include "nexdb/value.hpp"

namespace nexdb {

/// Archiving stopped: a batch did not verify, a checkpoint is inconsistent, another archiver
/// runs the same job or writes the same file, or a replica stayed behind (or unreachable) for
/// longer than allowed.
class ArchiveError : public Error {
 public:
  using Error::Error;
};

/// Where archived rows go: set exactly one of `database` (another database; `table` names the
/// table there), `file`, or only `table` (a table in the source database).
struct ArchiveDestination {
  /// The archive table. Empty: "<source table>_archive" (same database) or the source table's
  /// name (another database). Created like the source table when missing.
  std::string table{};
  std::optional<Database> database{};
  /// .csv, .jsonl (JSON lines), optionally followed by .gz. Appended to, one gzip member (or
  /// plain chunk) per batch; the checkpoint is a sidecar file "<file>.checkpoint".
  std::filesystem::path file{};
};

/// Stop or pause when a replica falls behind: before each batch the archiver measures every
/// replica's lag and waits while any is above a bound.
struct LagLimit {
  /// libpq URIs of the replicas to watch (typically the source cluster's replicas).
  std::vector<std::string> replicas{};
  /// Bytes of WAL the replica has not replayed yet (0 = no bound).
  std::uint64_t max_bytes = 0;
  /// Time since the replica last replayed a commit, while it is behind (0 = no bound).
  std::chrono::milliseconds max_delay{0};
  /// How often to look again while paused.
  std::chrono::milliseconds check_interval{500};
  /// Give up (ArchiveError; the job resumes where it stopped on its next run) after waiting
  /// this long in one pause. A replica that cannot be reached counts as behind, so without a
  /// bound a replica that is down would hold the archiver for ever. 0 = wait for ever.
  std::chrono::milliseconds max_wait{std::chrono::minutes(5)};
  bool enabled() const noexcept {
    return !replicas.empty() && (max_bytes > 0 || max_delay.count() > 0);
  }
};

/// Reported after every batch and while paused for lag.
struct ArchiveProgress {
  std::uint64_t rows = 0;       // moved so far in this run
  std::uint64_t batches = 0;    // this run
  std::uint64_t total = 0;      // rows matching when the run started (0 when not counted)
  bool paused = false;          // waiting for a replica
  std::string replica{};        // the replica that is behind, while paused
  std::string replica_error{};  // it could not be reached (which counts as behind): why
  std::uint64_t lag_bytes = 0;
  std::chrono::milliseconds lag_delay{0};
};

struct ArchiveSettings {
  /// The source table, "orders" or "schema.orders".
  std::string table{};
  /// Which rows to archive: an SQL condition on the source table, in its dialect
  /// (`created_at < now() - interval '90 days'`). It is trusted SQL text, like a migration's: an
  /// operator's, never built from end-user input — put values in `where_params`.
  std::string where{};
  /// Values for placeholders in `where`: $1, $2 ... on PostgreSQL, ? on SQLite.
  std::vector<Value> where_params{};
  /// The column that orders the batches (unique, not null). Empty: the single-column primary key.
  std::string key{};
  ArchiveDestination to{};
  std::size_t batch_size = 1000;
  /// Sleep between batches, to leave room for the application's own load.
  std::chrono::milliseconds pause{0};
  LagLimit lag{};
  /// Stop after this many rows (0 = every matching row).
  std::uint64_t max_rows = 0;
  /// Count the matching rows first (for ArchiveProgress::total and a progress bar).
  bool count_first = true;
  /// Report what would happen (matching rows, the statements) and change nothing.
  bool dry_run = false;
  /// The checkpoint's name. Empty: derived from the source table and the destination. A run
  /// whose job did not finish resumes from its checkpoint.
  std::string job{};
  /// How long to wait for another run of the same job, or another archiver writing the same
  /// file, to finish before giving up (ArchiveError).
  std::chrono::milliseconds lock_wait{std::chrono::seconds(30)};
  std::function<void(const ArchiveProgress&)> progress{};
};

struct ArchiveReport {
  std::string job{};
  std::uint64_t rows = 0;
  std::uint64_t batches = 0;
  /// This run continued an interrupted one.
  bool resumed = false;
  /// Rows of a batch that an interrupted run had copied but not yet deleted: found in the
  /// archive on resume and deleted from the source now.
  std::uint64_t recovered_rows = 0;
  /// Rows of such a batch that were still in the source: removed from the archive again and
  /// archived afresh.
  std::uint64_t uncopied_rows = 0;
  std::uint64_t lag_pauses = 0;
  std::chrono::milliseconds paused{0};
  std::chrono::milliseconds duration{0};
  bool dry_run = false;
  /// Dry run: rows that match now, and the statements a batch runs.
  std::uint64_t matching = 0;
  std::vector<std::string> statements{};
  double rows_per_second() const;
};

class Archiver {
 public:
  /// Checks the settings (ConfigError for a missing table name or condition, an ambiguous
  /// destination, a zero batch size); touches no database yet.
  Archiver(Database source, ArchiveSettings settings);

  /// Moves matching rows batch by batch until none is left (or max_rows). Throws ArchiveError,
  /// SqlError or ConnectionError; every batch that completed stays done, and a later run of the
  /// same job picks up where this one stopped.
  ArchiveReport run();

  const ArchiveSettings& settings() const noexcept { return settings_; }

 private:
  Database source_;
  ArchiveSettings settings_;
};

/// One shard of a per-shard archive run: its source database and, when archiving to another
/// database, the destination for that shard (empty: settings.to as given).
struct ArchiveShard {
  std::string name{};
  Database source;
  std::optional<Database> destination{};
  /// The shard's replicas, watched when settings.lag has a bound (empty: settings.lag.replicas).
  std::vector<std::string> replicas{};
};

struct ArchiveShardOutcome {
  std::string name{};
  std::optional<ArchiveReport> report{};  // nullopt when it failed
  std::string error{};
};

/// Runs the archiver on each shard in turn. With more than one shard, the job name is suffixed
/// with the shard's name and a file destination gets it before its extension. A failing shard
/// does not stop the others; its error is in the outcome.
std::vector<ArchiveShardOutcome> archive_shards(std::span<const ArchiveShard> shards,
                                                const ArchiveSettings& settings);

}  // namespace nexdb
