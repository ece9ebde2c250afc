#include "driver/schema_epoch.hpp"

#include <cctype>

namespace nexdb::detail {
namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

/// The next word of `sql` from `pos` (skipping spaces and `--` comments), upper-cased.
std::string_view next_word(std::string_view sql, std::size_t& pos, char (&buffer)[16]) {
  while (pos < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[pos])) != 0 || sql[pos] == '(') {
      ++pos;
    } else if (sql.substr(pos, 2) == "--") {
      while (pos < sql.size() && sql[pos] != '\n') ++pos;
    } else {
      break;
    }
  }
  std::size_t n = 0;
  while (pos < sql.size() && is_word_char(sql[pos])) {
    if (n < sizeof(buffer))
      buffer[n++] = static_cast<char>(std::toupper(static_cast<unsigned char>(sql[pos])));
    ++pos;
  }
  return {buffer, n};
}

SchemaChange classify_piece(std::string_view piece) {
  char first_buffer[16];
  char buffer[16];
  std::size_t pos = 0;
  const std::string_view first = next_word(piece, pos, first_buffer);
  if (first == "ANALYZE" || first == "REINDEX") return {.plans = true, .result_types = false};
  if (first != "ALTER" && first != "DROP" && first != "CREATE") return {};
  std::string_view second = next_word(piece, pos, buffer);
  if (second == "OR") return {.plans = true, .result_types = true};  // CREATE OR REPLACE VIEW
  if (second == "UNIQUE") second = next_word(piece, pos, buffer);
  // Indexes never change a result type; temporary objects belong to one session.
  const bool types = second != "INDEX" && second != "TEMP" && second != "TEMPORARY";
  return {.plans = true, .result_types = types};
}

}  // namespace

SchemaChange classify_schema_change(std::string_view sql) noexcept {
  SchemaChange change;
  std::size_t start = 0;
  while (start < sql.size() && !(change.plans && change.result_types)) {
    std::size_t end = sql.find(';', start);
    if (end == std::string_view::npos) end = sql.size();
    const SchemaChange piece = classify_piece(sql.substr(start, end - start));
    change.plans |= piece.plans;
    change.result_types |= piece.result_types;
    start = end + 1;
  }
  return change;
}

}  // namespace nexdb::detail
