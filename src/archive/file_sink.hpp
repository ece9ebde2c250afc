// Archive files: CSV (RFC 4180, a header line first) or JSON lines, optionally gzip. Each batch
// is appended as one gzip member (or one plain chunk), flushed to disk, then read back and
// compared before the source rows are deleted. Truncating to a batch boundary undoes a batch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "nexdb/rows.hpp"

namespace nexdb::archive_detail {

enum class FileFormat { csv, jsonl };

class FileSink {
 public:
  /// Format from the name: .csv or .jsonl, either optionally followed by .gz. ConfigError else.
  explicit FileSink(std::filesystem::path path);
  const std::filesystem::path& path() const noexcept { return path_; }
  /// The file's length now (0 when it does not exist).
  std::uint64_t size() const;
  /// Cuts the file back to `size` (a batch boundary) and syncs it.
  void truncate(std::uint64_t size) const;
  /// Appends `rows` at `offset` (the committed end), syncs, reads the chunk back and checks it.
  /// Returns the new length. ArchiveError when the read-back differs.
  std::uint64_t append(const Rows& rows, std::uint64_t offset) const;
  /// The text a batch becomes before compression (a CSV header when `offset` is 0).
  std::string encode(const Rows& rows, bool header) const;

 private:
  std::filesystem::path path_;
  FileFormat format_ = FileFormat::csv;
  bool gzip_ = false;
};

}  // namespace nexdb::archive_detail
