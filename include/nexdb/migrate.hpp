// Schema migrations: MigrationManager applies versioned migrations (SQL files and C++ functions)
// once, in order, under a lock; SchemaVersion is the history table that records them.
//
//   MigrationManager migrations{db};
//   migrations.load("migrations");                       // V1.0.0__create_users_table.sql, ...
//   migrations.version("1.2.0", "backfill status", [](Transaction& tx) { tx.execute(...); });
//   migrations.migrate();                                // up to the latest version
//
// See docs/migrations.md for file naming, locking, checksums and the error cases.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nexdb/database.hpp"
#include "nexdb/error.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb {

/// The history table's default name.
inline constexpr std::string_view default_history_table = "nexdb_schema_history";

/// A migration version: dot-separated non-negative integers (1, 1.2, 1.2.3, 2024.01.15.1).
/// Compared numerically part by part, so 1.10.0 comes after 1.9.0. Leading zeros and trailing
/// zero parts do not count: 1.2 == 1.2.0 == 1.02, which makes two of them a duplicate.
class MigrationVersion {
 public:
  /// Throws ConfigError naming `text` when it is not a version.
  static MigrationVersion parse(std::string_view text);
  static std::optional<MigrationVersion> try_parse(std::string_view text);

  /// The version as written ("1.02.0").
  const std::string& text() const noexcept { return text_; }
  /// The canonical form ("1.2"): what equality and ordering look at.
  std::string canonical() const;

  friend std::strong_ordering operator<=>(const MigrationVersion& a, const MigrationVersion& b);
  friend bool operator==(const MigrationVersion& a, const MigrationVersion& b) {
    return a.parts_ == b.parts_;
  }

 private:
  MigrationVersion() = default;
  std::string text_;
  std::vector<std::string> parts_;  // digits without leading zeros; trailing "0" parts dropped
};

/// A migration failed (the message names its version and description, and the cause), or the
/// set of migrations is inconsistent with the database (changed or missing files, out-of-order
/// versions, a missing undo). The SQLSTATE, host and statement are the cause's.
class MigrationError : public Error {
 public:
  explicit MigrationError(std::string message, std::string version = {},
                          std::string description = {}, Details details = {},
                          bool retryable = false);
  /// The migration that failed; empty for errors about the whole set.
  const std::string& version() const noexcept { return version_; }
  const std::string& description() const noexcept { return description_; }
  /// True when the cause was retryable (e.g. a deadlock or the lock wait timing out).
  bool retryable() const noexcept override { return retryable_; }

 private:
  std::string version_;
  std::string description_;
  bool retryable_;
};

/// What a history row records: a migration applied from SQL or C++, a baseline, or an undo.
enum class MigrationKind { sql, cpp, baseline, undo };
std::string_view to_string(MigrationKind kind) noexcept;

/// One migration's state in a database, as status() reports it.
enum class MigrationState {
  pending,            // not applied yet
  applied,            // applied, and its file still has the recorded checksum
  failed,             // the last attempt failed (and was rolled back); up() retries it
  undone,             // applied, then undone by down()/to(); up() applies it again
  missing,            // applied, but no such migration is known here (file deleted?)
  checksum_mismatch,  // applied, but its file changed since
  out_of_order,       // pending, yet lower than the current version
  baseline,           // the baseline row itself
  below_baseline,     // at or below the baseline: treated as applied, never run
};
std::string_view to_string(MigrationState state) noexcept;

/// One row of the history table.
struct HistoryEntry {
  std::int64_t id = 0;  // order of recording
  std::string version{};
  std::string description{};
  MigrationKind kind = MigrationKind::sql;
  std::string script{};                   // file name, "C++" or "baseline"
  std::optional<std::string> checksum{};  // 16 hex digits (XXH3-64 of the normalised SQL)
  std::string applied_by{};
  Timestamp applied_at{};
  std::int64_t duration_ms = 0;
  bool success = false;
};

/// SchemaVersion: the history table of one database (default `nexdb_schema_history`, in the
/// connection's current schema on PostgreSQL). The current version derives from it: the
/// highest version whose latest successful row applied it (or the baseline), not undone since.
class SchemaVersion {
 public:
  explicit SchemaVersion(Connection& connection,
                         std::string table = std::string(default_history_table));

  bool exists();
  /// CREATE TABLE IF NOT EXISTS, in the dialect's form.
  void create_if_missing();
  /// Every row, oldest first; empty when the table does not exist (nothing is created).
  std::vector<HistoryEntry> entries();
  std::optional<std::string> current_version();
  /// Appends a row (its id and applied_at are ignored: the table assigns the id).
  void record(const HistoryEntry& entry);
  /// Deletes the rows of failed attempts; returns how many.
  std::int64_t remove_failed();
  void update_checksum(std::int64_t id, const std::optional<std::string>& checksum);

 private:
  Connection& connection_;
  std::string table_;
  std::string quoted_;
};

/// The current version that `entries` (oldest first) describe; nullopt when nothing is applied.
std::optional<std::string> current_version_of(std::span<const HistoryEntry> entries);

struct MigrationSettings {
  std::string history_table = std::string(default_history_table);
  /// Apply a pending migration lower than the current version instead of refusing.
  bool allow_out_of_order = false;
  /// Do not fail when the history has applied versions that no file or function here defines
  /// (an older build running against a newer database).
  bool ignore_missing = false;
  /// How long a runner waits for another runner's lock before giving up.
  std::chrono::milliseconds lock_timeout{std::chrono::minutes{10}};
  /// Recorded in applied_by; empty: "<os user>@<host>", prefixed by the role on PostgreSQL.
  std::string applied_by{};
};

enum class Direction { up, down };
std::string_view to_string(Direction direction) noexcept;

/// Reported before and after each migration of a run (for progress bars).
struct MigrationEvent {
  enum class Phase { started, finished, failed };
  Phase phase = Phase::started;
  std::string_view target{};  // the target's name in a multi-target run; empty otherwise
  std::string_view version{};
  std::string_view description{};
  Direction direction = Direction::up;
  std::size_t index = 0;                  // 1-based position in this run
  std::size_t total = 0;                  // migrations in this run
  std::chrono::milliseconds duration{0};  // finished / failed only
};
using ProgressCallback = std::function<void(const MigrationEvent&)>;

struct RunOptions {
  /// Plan only: report what would run, with its SQL, and change nothing. No lock is taken and
  /// the history table is not created; the plan reflects the database at that moment.
  bool dry_run = false;
  ProgressCallback progress{};
};

/// One migration of a run: executed, or planned in a dry run.
struct MigrationStep {
  std::string version{};
  std::string description{};
  Direction direction = Direction::up;
  MigrationKind kind = MigrationKind::sql;  // sql or cpp (the undo's source for a down step)
  std::string script{};                     // file name, or "C++"
  std::string sql{};                        // what runs; empty for C++ migrations
  std::chrono::milliseconds duration{0};
};

struct RunReport {
  std::optional<std::string> version_before{};
  std::optional<std::string> version_after{};  // in a dry run: the version it would reach
  std::vector<MigrationStep> steps{};
  bool dry_run = false;
  /// The steps as one SQL text, a comment naming each migration before its SQL.
  std::string script() const;
};

/// status(): one migration as this database sees it.
struct MigrationInfo {
  std::string version{};
  std::string description{};
  MigrationKind kind = MigrationKind::sql;
  MigrationState state = MigrationState::pending;
  std::string script{};
  bool has_undo = false;
  std::optional<std::string> checksum{};           // of the file here
  std::optional<std::string> recorded_checksum{};  // in the history
  std::optional<Timestamp> applied_at{};
  std::optional<std::int64_t> duration_ms{};
  std::string applied_by{};
};

struct SchemaStatus {
  std::string database{};  // where, without credentials
  Dialect dialect = Dialect::sqlite;
  bool history_exists = false;
  std::optional<std::string> current_version{};
  std::optional<std::string> baseline_version{};
  std::vector<MigrationInfo> migrations{};  // by version; a baseline row comes first at its version
  std::size_t count(MigrationState state) const;
};

struct RepairReport {
  std::vector<std::string> checksums_updated{};  // versions
  std::int64_t failed_rows_removed = 0;
};

/// A named database for multi-target runs (each shard's primary). `database` has no default:
/// give both members, `{.name = "shard-1", .database = db}`.
struct MigrationTarget {
  std::string name{};
  Database database;
};

enum class TargetResult { done, failed, not_attempted };
std::string_view to_string(TargetResult result) noexcept;

struct TargetOutcome {
  std::string name{};
  TargetResult result = TargetResult::not_attempted;
  RunReport report{};   // done: what ran (or would run)
  std::string error{};  // failed: the error's what()
  std::string sqlstate{};
  std::string failed_version{};
};

struct RolloutReport {
  std::vector<TargetOutcome> targets{};  // in the order given
  bool ok() const;
  /// The target that failed, or nullptr.
  const TargetOutcome* failed() const;
};

struct TargetStatus {
  std::string name{};
  std::optional<SchemaStatus> status{};  // nullopt when it could not be read
  std::string error{};
};

/// A C++ migration or undo: runs inside the migration's transaction (use `tx`, not the pool).
using MigrationFn = std::function<void(Transaction& tx)>;

namespace detail {
struct Catalog;
}

/// Applies a set of migrations to a database (or several), once, in order, under a lock.
/// Register everything first, then run; one manager is used by one thread at a time
/// (concurrent runners each use their own manager and coordinate through the database).
class MigrationManager {
 public:
  explicit MigrationManager(Database database, MigrationSettings settings = {});
  /// Without a default database: for the multi-target overloads.
  explicit MigrationManager(MigrationSettings settings = {});
  ~MigrationManager();
  MigrationManager(MigrationManager&&) noexcept;
  MigrationManager& operator=(MigrationManager&&) noexcept;

  /// Registers a C++ migration. `fingerprint` (e.g. a revision string) is checksummed so that
  /// verify() notices when it changes; without one, no checksum is recorded.
  /// Throws ConfigError for a bad or duplicate version.
  MigrationManager& version(std::string_view version, std::string_view description, MigrationFn up,
                            MigrationFn undo = {}, std::string_view fingerprint = {});
  /// Loads V<version>__<description>[.postgres|.sqlite].sql and U... undo files from `folder`
  /// (not recursive; files not ending in .sql are ignored). Throws ConfigError listing every bad
  /// file name, duplicate version or orphan undo file.
  MigrationManager& load(const std::filesystem::path& folder);

  /// Applies every pending migration (up to the latest version).
  RunReport migrate(const RunOptions& options = {});
  /// Applies pending migrations up to and including `target` (a known version).
  RunReport up(std::string_view target, const RunOptions& options = {});
  /// Undoes the `steps` highest applied migrations, highest first.
  RunReport down(std::size_t steps = 1, const RunOptions& options = {});
  /// Moves to `version`: applies up to it when higher, undoes everything above it when lower
  /// ("0" undoes everything down to the baseline).
  RunReport to(std::string_view version, const RunOptions& options = {});

  SchemaStatus status();
  /// Throws MigrationError listing every applied migration whose file changed or is missing
  /// and every out-of-order pending one (unless allowed): what up() would refuse.
  void verify();
  /// Re-records the checksums of applied migrations whose files changed, and removes the rows
  /// of failed attempts.
  RepairReport repair();
  /// Marks a database that has no applied migrations as being at `version`: migrations at or
  /// below it are treated as applied and never run.
  void baseline(std::string_view version, std::string_view description = "baseline");
  std::optional<std::string> current_version();

  /// Applies (up to `version`, or the latest when empty) to each target in order, each under
  /// its own lock. A target that fails stops the rollout: the report says which targets are
  /// done, which one failed and which were not attempted. Errors are reported, not thrown.
  RolloutReport migrate(std::span<const MigrationTarget> targets, const RunOptions& options = {},
                        std::string_view version = {});
  /// to(version) on each target in order, stopping at the first failure.
  RolloutReport to(std::span<const MigrationTarget> targets, std::string_view version,
                   const RunOptions& options = {});
  std::vector<TargetStatus> status(std::span<const MigrationTarget> targets);

  /// The registered migrations' versions, in order.
  std::vector<std::string> versions() const;
  const MigrationSettings& settings() const noexcept { return settings_; }

 private:
  Database& database();

  MigrationSettings settings_;
  std::optional<Database> database_;
  std::unique_ptr<detail::Catalog> catalog_;
};

}  // namespace nexdb
