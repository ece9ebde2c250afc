// The backup repository on disk: one directory per backup, named by its id, holding
// manifest.json (written last, atomically: a directory without one is an unfinished backup) and
// verify.json (the last verification). Backups being written live in ".partial-<id>".
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nexdb/backup.hpp"

namespace nexdb::backup_detail {

inline constexpr std::string_view kManifestFile = "manifest.json";
inline constexpr std::string_view kVerifyFile = "verify.json";
inline constexpr std::string_view kPartialPrefix = ".partial-";

inline constexpr std::string_view kInProgressFile = ".nexdb-in-progress";

/// An unfinished backup's directory, locked (flock on kInProgressFile inside it) for as long as
/// this object lives, so that prune() can tell a backup being written from one whose writer
/// died, however long either has been there.
class PartialBackup {
 public:
  PartialBackup(std::filesystem::path directory, int lock_fd) noexcept
      : directory_(std::move(directory)), lock_fd_(lock_fd) {}
  ~PartialBackup();
  PartialBackup(const PartialBackup&) = delete;
  PartialBackup& operator=(const PartialBackup&) = delete;
  const std::filesystem::path& path() const noexcept { return directory_; }

 private:
  std::filesystem::path directory_;
  int lock_fd_;
};

/// Whether an unfinished backup directory is still being written: its lock is held, or (a
/// directory without a lock file: being created, or left by an earlier nexdb) something in it
/// changed within the last day.
bool in_progress(const std::filesystem::path& partial);

class Repository {
 public:
  explicit Repository(const std::filesystem::path& root);
  const std::filesystem::path& root() const noexcept { return root_; }

  /// A new, unused id for a backup of `kind` started at `at`.
  std::string new_id(BackupKind kind, Timestamp at) const;
  /// Creates (and locks) the directory an unfinished backup is written into.
  PartialBackup begin(const std::string& id) const;
  /// Writes the manifest into the unfinished directory and moves it into place.
  std::filesystem::path commit(const PartialBackup& partial, BackupInfo& info) const;

  std::vector<BackupInfo> list() const;
  /// A backup by id or "latest"; BackupError naming the repository when there is none.
  BackupInfo get(std::string_view id) const;
  void record_verification(const BackupInfo& info, const VerifyRecord& record) const;
  /// Unfinished backup directories.
  std::vector<std::filesystem::path> partials() const;

 private:
  std::filesystem::path root_;
};

/// manifest.json <-> BackupInfo (the directory and last verification are not stored in it).
std::string manifest_to_json(const BackupInfo& info);
BackupInfo manifest_from_json(const std::string& text, const std::filesystem::path& where);

Timestamp now_utc();

}  // namespace nexdb::backup_detail
