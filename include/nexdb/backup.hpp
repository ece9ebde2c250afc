// Backups you can trust: BackupManager takes logical (pg_dump), physical (pg_basebackup) and
// SQLite (online backup API) backups of one database or of every shard at once, writes a
// manifest with sizes, checksums, server and schema versions, verifies a backup by restoring it
// into a scratch database and checking it, restores into a named target, and prunes by policy.
//
//   BackupManager backups{{.repository = "/var/backups/nexdb"}};
//   BackupInfo taken = backups.create({{.name = "main", .uri = "postgresql://app@db/app"}});
//   VerifyReport check = backups.verify(taken.id);       // restores it, then checks it
//   backups.restore(taken.id, {.uri = "postgresql://app@db-restore/app"});
//   backups.prune();                                     // by settings.retention
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
#include <string_view>
#include <vector>

#include "nexdb/error.hpp"
#include "nexdb/value.hpp"

namespace nexdb {

struct Config;

/// A backup could not be taken, verified, restored or read (a tool failed, a file is missing
/// or corrupt, a target is not empty). The message names the backup, the target and the cause.
class BackupError : public Error {
 public:
  using Error::Error;
};

enum class BackupKind {
  logical,   // PostgreSQL: pg_dump (custom format by default), restored with pg_restore
  physical,  // PostgreSQL: pg_basebackup (plain format, WAL streamed), checked by pg_verifybackup
  sqlite,    // SQLite: the online backup API into a single file
};
std::string_view to_string(BackupKind kind) noexcept;
std::optional<BackupKind> backup_kind_from_string(std::string_view text) noexcept;

/// pg_dump's output: one compressed file (restorable in parallel), or a directory of files
/// (dumped in parallel too, with settings.jobs workers).
enum class DumpFormat { custom, directory };

/// One database to back up: a cluster's primary, or one shard. `uri` is a libpq URI (or
/// key=value string) or sqlite:path.
struct BackupTarget {
  std::string name{};
  std::string uri{};
};

/// The backup targets a configuration describes: each cluster's primary (every shard of a
/// sharded configuration), in file order; only `cluster` when given (ConfigError if unknown).
std::vector<BackupTarget> backup_targets(const Config& config, std::string_view cluster = {});

/// Which backups prune() keeps. The rules apply to each series on its own: backups of the same
/// kind of the same targets (a repository may hold several clusters' backups).
struct RetentionPolicy {
  /// Keep the newest N complete backups of each series that did not fail their last
  /// verification (0 = this rule keeps none). A backup that failed it does not count.
  std::size_t keep_last = 0;
  /// Keep every backup younger than this (0 = this rule keeps none).
  std::chrono::hours keep_for{0};
  /// A backup is kept when either rule keeps it; the newest backup of each series that passed
  /// its last verification is always kept. With both rules off, prune() keeps everything.
  bool enabled() const noexcept { return keep_last > 0 || keep_for.count() > 0; }
};

/// A port range for scratch PostgreSQL instances that verification starts and stops.
struct PortRange {
  int first = 23450;
  int count = 50;
};

struct BackupSettings {
  /// Where backups live: one directory per backup (its id) holding manifest.json.
  std::filesystem::path repository = "nexdb-data/backups";
  /// PostgreSQL client and server programs (pg_dump, pg_basebackup, initdb, pg_ctl, ...).
  std::filesystem::path pg_bindir = "/usr/lib/postgresql/15/bin";
  DumpFormat dump_format = DumpFormat::custom;
  /// Parallel workers: pg_restore -j (both formats) and pg_dump -j (directory format).
  int jobs = 2;
  RetentionPolicy retention{};
  /// Scratch instances for verification: ports, and where their data directories go.
  PortRange scratch_ports{};
  std::filesystem::path scratch_dir = std::filesystem::temp_directory_path();
  /// The operating-system user that runs scratch PostgreSQL servers (PostgreSQL refuses root).
  /// Empty: "postgres" when running as root, else the current user.
  std::string server_user{};
  /// Logical backups: verify into a temporary database created on this server (and dropped
  /// afterwards) instead of a scratch instance. A libpq URI whose user may CREATE DATABASE.
  std::string verify_server{};
  /// The schema-history table read for each target's schema version.
  std::string history_table = "nexdb_schema_history";
  /// pg_dump, pg_restore, pg_basebackup, pg_verifybackup and pg_amcheck are stopped (and the
  /// operation fails) when one runs longer than this; raise it for multi-terabyte databases.
  std::chrono::minutes command_timeout{24 * 60};
  /// A backup waits at most this long for a table lock (pg_dump --lock-wait-timeout, and the
  /// snapshot's lock_timeout), then fails instead of queueing behind, say, an ALTER TABLE.
  std::chrono::milliseconds lock_wait_timeout{std::chrono::seconds(60)};
};

/// One file of a backup, relative to the target's directory.
struct BackupFile {
  std::string path{};
  std::uint64_t size = 0;
  std::string checksum{};  // XXH3-128, 32 hex digits
};

/// Row count and key checksum of one table at the moment of the backup (logical and SQLite
/// backups: taken in the very snapshot that was backed up).
struct TableStats {
  std::string schema{};  // empty on SQLite
  std::string name{};
  std::int64_t rows = 0;
  /// The columns checksummed: the primary key; empty for a table without one (whole rows then).
  std::vector<std::string> key_columns{};
  /// Order-independent: a sum of 64-bit hashes of each row's key columns (PostgreSQL: of
  /// hashtextextended() in decimal; SQLite: of XXH3-64 modulo 2^64, in hex).
  std::string key_checksum{};
  friend bool operator==(const TableStats&, const TableStats&) = default;
};

/// One target inside a backup.
struct BackupPart {
  std::string name{};
  std::string source{};  // where it came from, without credentials
  Dialect dialect = Dialect::postgres;
  std::string server_version{};
  std::optional<std::string> schema_version{};  // from the history table, when it exists
  std::vector<BackupFile> files{};
  std::vector<TableStats> tables{};
  std::uint64_t size = 0;
  std::string start_lsn{};  // physical: pg_basebackup's WAL range; logical: the snapshot's LSN
  std::string end_lsn{};
  /// Physical: the cluster's bootstrap superuser, the role verification uses in the copy.
  std::string superuser{};
};

/// The last verification of a backup, as recorded beside its manifest.
struct VerifyRecord {
  Timestamp at{};
  bool ok = false;
  std::string summary{};
};

/// What manifest.json says about a backup.
struct BackupInfo {
  std::string id{};  // "20261125-101500-123-logical": sorts by time
  BackupKind kind = BackupKind::logical;
  std::string label{};
  Timestamp started_at{};
  Timestamp finished_at{};
  std::vector<BackupPart> parts{};  // one per target (shard), in the order given
  std::uint64_t size = 0;           // every file of every part
  std::filesystem::path directory{};
  std::optional<VerifyRecord> last_verified{};

  /// The part called `name`; BackupError listing the parts when there is none.
  const BackupPart& part(std::string_view name) const;
};

/// Progress of a long operation, for progress bars. `total` is 0 when unknown.
struct BackupProgress {
  std::string_view phase{};   // "snapshot", "dump", "copy", "checksum", "restore", "check"
  std::string_view target{};  // the part's name
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::string_view unit{};  // "tables", "kB", "pages", "files"
};
using BackupProgressFn = std::function<void(const BackupProgress&)>;

struct CreateOptions {
  /// Empty: logical for PostgreSQL targets, sqlite for SQLite ones (all targets must agree).
  std::optional<BackupKind> kind{};
  std::string label{};
  BackupProgressFn progress{};
};

/// One check of a verification.
struct VerifyCheck {
  std::string target{};  // the part's name; empty for checks of the whole backup
  std::string name{};    // "checksum dump.pgc", "restore", "pg_verifybackup", "rows public.orders"
  bool ok = false;
  std::string detail{};
};

struct VerifyReport {
  std::string id{};
  bool ok = false;
  std::vector<VerifyCheck> checks{};
  /// The tables as found in the restored copy (what the checks compared with the manifest).
  std::vector<std::pair<std::string, TableStats>> restored{};  // part name, table
  std::chrono::milliseconds duration{0};
  /// The failed checks, one per line ("" when ok).
  std::string failures() const;
};

struct RestoreTarget {
  /// PostgreSQL logical: a libpq URI of the database (created when it does not exist).
  /// SQLite: sqlite:path. Physical: empty (use `directory`).
  std::string uri{};
  /// Physical: the data directory to restore into (must be absent or empty unless `force`).
  std::filesystem::path directory{};
  /// Which part of a multi-target backup (empty: the only part).
  std::string part{};
  /// Restore into a database that already has tables (replacing the objects the backup has).
  bool force = false;
  /// PostgreSQL logical: do not restore ownership and grants (the roles may not exist there).
  bool no_owner = false;
  BackupProgressFn progress{};
};

struct PruneReport {
  std::vector<std::string> removed{};  // ids (and unfinished directories) deleted
  std::vector<std::string> kept{};
  bool dry_run = false;
};

class BackupManager {
 public:
  explicit BackupManager(BackupSettings settings = {});

  /// Backs up every target into one new backup with one manifest. For several PostgreSQL
  /// targets the snapshots are all taken before the first dump starts. Throws BackupError (the
  /// partial backup is removed) or ConnectionError.
  BackupInfo create(std::span<const BackupTarget> targets, const CreateOptions& options = {});

  /// Every complete backup, oldest first, with its last verification.
  std::vector<BackupInfo> list() const;
  /// One backup by id, or "latest". BackupError when there is none.
  BackupInfo get(std::string_view id) const;

  /// Checks file checksums, restores each part into a scratch database or instance, runs the
  /// integrity checks and compares with the manifest; records the outcome beside the manifest.
  /// Failed checks are reported, not thrown; BackupError only when the backup cannot be read.
  VerifyReport verify(std::string_view id, BackupProgressFn progress = {});

  /// Restores one part into `target`. Refuses (BackupError) a target that already holds
  /// tables or files unless `target.force`.
  void restore(std::string_view id, const RestoreTarget& target);

  /// Deletes backups the retention policy does not keep (never the newest verified backup of a
  /// series), and unfinished backups whose writer is gone (a backup being written holds a lock
  /// in its directory). `policy` overrides settings.retention. Nothing is deleted in a dry run.
  PruneReport prune(std::optional<RetentionPolicy> policy = {}, bool dry_run = false);

  const BackupSettings& settings() const noexcept { return settings_; }

 private:
  BackupSettings settings_;
};

}  // namespace nexdb
