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

class Repository {
 public:
  explicit Repository(const std::filesystem::path& root);
  const std::filesystem::path& root() const noexcept { return root_; }

  /// A new, unused id for a backup of `kind` started at `at`.
  std::string new_id(BackupKind kind, Timestamp at) const;
  /// Creates the directory an unfinished backup is written into.
  std::filesystem::path begin(const std::string& id) const;
  /// Writes the manifest into the unfinished directory and moves it into place.
  std::filesystem::path commit(const std::filesystem::path& partial, BackupInfo& info) const;

  std::vector<BackupInfo> list() const;
  /// A backup by id or "latest"; BackupError naming the repository when there is none.
  BackupInfo get(std::string_view id) const;
  void record_verification(const BackupInfo& info, const VerifyRecord& record) const;
  /// Unfinished backup directories, with their age.
  std::vector<std::filesystem::path> partials() const;

 private:
  std::filesystem::path root_;
};

/// manifest.json <-> BackupInfo (the directory and last verification are not stored in it).
std::string manifest_to_json(const BackupInfo& info);
BackupInfo manifest_from_json(const std::string& text, const std::filesystem::path& where);

Timestamp now_utc();

}  // namespace nexdb::backup_detail
