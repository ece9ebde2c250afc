// What the three kinds of backup share: file lists with checksums and their checks, and the
// schema version from the history table.
#include <fmt/format.h>

#include <algorithm>

#include "backup/parts.hpp"
#include "backup/table_stats.hpp"
#include "nexdb/migrate.hpp"

namespace nexdb::backup_detail {

namespace fs = std::filesystem;

std::vector<BackupFile> files_of(const fs::path& dir) {
  std::vector<BackupFile> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    files.push_back({.path = fs::relative(entry.path(), dir).generic_string(),
                     .size = entry.file_size(),
                     .checksum = file_checksum(entry.path())});
  }
  std::sort(files.begin(), files.end(),
            [](const BackupFile& a, const BackupFile& b) { return a.path < b.path; });
  return files;
}

void check_files(const BackupPart& part, const fs::path& dir, std::vector<VerifyCheck>& checks) {
  for (const BackupFile& file : part.files) {
    VerifyCheck check{.target = part.name, .name = "checksum " + file.path};
    const fs::path path = dir / file.path;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) {
      check.detail = "missing";
    } else if (size != file.size) {
      check.detail = fmt::format("size {} bytes, the manifest says {}", size, file.size);
    } else {
      const std::string sum = file_checksum(path);
      check.ok = sum == file.checksum;
      check.detail = check.ok
                         ? fmt::format("{} bytes, xxh3-128 {}", size, sum)
                         : fmt::format("xxh3-128 {}, the manifest says {}: the file is corrupt",
                                       sum, file.checksum);
    }
    checks.push_back(std::move(check));
  }
}

std::optional<std::string> schema_version_of(Connection& connection,
                                             const std::string& history_table) {
  SchemaVersion history(connection, history_table);
  return history.current_version();
}

VerifyCheck schema_version_check(const BackupPart& part,
                                 const std::optional<std::string>& restored) {
  VerifyCheck check{.target = part.name, .name = "schema version"};
  check.ok = restored == part.schema_version;
  check.detail = check.ok
                     ? restored.value_or("none (no history table)")
                     : fmt::format("restored copy at {}, the manifest says {}",
                                   restored.value_or("none"), part.schema_version.value_or("none"));
  return check;
}

bool all_ok(const std::vector<VerifyCheck>& checks) {
  return std::all_of(checks.begin(), checks.end(), [](const VerifyCheck& c) { return c.ok; });
}

}  // namespace nexdb::backup_detail
