// Checksums of migration scripts. XXH3 is used header-only (XXH_INLINE_ALL), so the library needs
// no extra link dependency.
#define XXH_INLINE_ALL
#include <fmt/format.h>
#include <xxhash.h>

#include "migrate/catalog.hpp"

namespace nexdb::detail {
namespace {

std::string_view trim_line_end(std::string_view line) {
  const std::size_t end = line.find_last_not_of(" \t\r");
  return end == std::string_view::npos ? std::string_view{} : line.substr(0, end + 1);
}

/// The text the checksum sees: edits that cannot change what runs (CRLF vs LF, trailing
/// blanks, a BOM, blank lines around the script) do not count as a change to the file.
std::string normalise(std::string_view sql) {
  if (sql.starts_with("\xEF\xBB\xBF")) sql.remove_prefix(3);
  std::string out;
  out.reserve(sql.size());
  std::size_t pending_blank = 0;
  for (std::size_t begin = 0; begin <= sql.size();) {
    std::size_t end = sql.find('\n', begin);
    if (end == std::string_view::npos) end = sql.size();
    const std::string_view line = trim_line_end(sql.substr(begin, end - begin));
    if (line.empty()) {
      ++pending_blank;
    } else {
      // Blank lines inside the script are kept; those before the first line are not.
      if (!out.empty()) out.append(pending_blank + 1, '\n');
      out.append(line);
      pending_blank = 0;
    }
    begin = end + 1;
  }
  return out;
}

}  // namespace

std::string text_checksum(std::string_view text) {
  return fmt::format("{:016x}", XXH3_64bits(text.data(), text.size()));
}

std::string sql_checksum(std::string_view sql) { return text_checksum(normalise(sql)); }

}  // namespace nexdb::detail
