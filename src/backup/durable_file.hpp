// Files that survive a crash: written whole or not at all, and on disk before we go on.
#pragma once

#include <filesystem>
#include <string>

namespace nexdb::backup_detail {

/// Writes `text` to `path` durably: a temporary file, fsync, rename, fsync of the directory.
/// Throws BackupError naming the path.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

/// The whole file; BackupError when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// fsync of a file or directory (a directory: so that a rename in it is durable).
void sync_path(const std::filesystem::path& path);

}  // namespace nexdb::backup_detail
