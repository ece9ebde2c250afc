// The three kinds of backup, each as take / verify / restore of one part (one target).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nexdb/backup.hpp"
#include "nexdb/connection.hpp"

namespace nexdb::backup_detail {

/// What verifying one part produces.
struct PartVerification {
  std::vector<VerifyCheck> checks{};
  std::vector<TableStats> restored{};
};

/// Files of a part (relative to `dir`) with sizes and checksums, in path order.
std::vector<BackupFile> files_of(const std::filesystem::path& dir);
/// One check per file of the manifest: present, same size, same checksum.
void check_files(const BackupPart& part, const std::filesystem::path& dir,
                 std::vector<VerifyCheck>& checks);
/// The schema version recorded in `history_table`; nullopt when it does not exist.
std::optional<std::string> schema_version_of(Connection& connection,
                                             const std::string& history_table);
/// A schema-version check: the restored copy's against the manifest's.
VerifyCheck schema_version_check(const BackupPart& part,
                                 const std::optional<std::string>& restored);
bool all_ok(const std::vector<VerifyCheck>& checks);

// --- logical (pg_dump) -------------------------------------------------------------------

/// A repeatable-read transaction whose snapshot pg_dump imports, so the table statistics in
/// the manifest describe exactly the data dumped. Held open until the dump is done.
class LogicalSnapshot {
 public:
  LogicalSnapshot(const BackupSettings& settings, const BackupTarget& target);
  ~LogicalSnapshot();
  BackupPart& part() noexcept { return part_; }
  /// Runs pg_dump into `dir` and fills part().files and size.
  void dump(const BackupSettings& settings, const std::filesystem::path& dir,
            const BackupProgressFn& progress);

 private:
  std::unique_ptr<Connection> connection_;
  std::string snapshot_;
  std::string uri_;
  BackupPart part_;
};

PartVerification verify_logical(const BackupSettings& settings, const BackupPart& part,
                                const std::filesystem::path& dir, const BackupProgressFn& progress);
void restore_logical(const BackupSettings& settings, const BackupPart& part,
                     const std::filesystem::path& dir, const RestoreTarget& target);

// --- physical (pg_basebackup) ------------------------------------------------------------

BackupPart base_backup(const BackupSettings& settings, const BackupTarget& target,
                       const std::string& label, const std::filesystem::path& dir,
                       const BackupProgressFn& progress);
PartVerification verify_physical(const BackupSettings& settings, const BackupPart& part,
                                 const std::filesystem::path& dir,
                                 const BackupProgressFn& progress);
void restore_physical(const BackupSettings& settings, const BackupPart& part,
                      const std::filesystem::path& dir, const RestoreTarget& target);

// --- SQLite (online backup API) ----------------------------------------------------------

BackupPart sqlite_backup(const BackupSettings& settings, const BackupTarget& target,
                         const std::filesystem::path& dir, const BackupProgressFn& progress);
PartVerification verify_sqlite(const BackupSettings& settings, const BackupPart& part,
                               const std::filesystem::path& dir, const BackupProgressFn& progress);
void restore_sqlite(const BackupPart& part, const std::filesystem::path& dir,
                    const RestoreTarget& target);

}  // namespace nexdb::backup_detail
