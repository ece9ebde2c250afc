// Which statements implicit batching may put on a shared connection.
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "async/engine.hpp"

namespace nexdb::detail {
namespace {

// Statements that run in their own implicit transaction and leave nothing on the connection that
// a later statement of another caller could see (no BEGIN, SET, LISTEN, PREPARE, temporary
// tables, cursors, COPY). A session-level side effect of a function call (set_config(..., false),
// pg_advisory_lock) leaks to the next caller exactly as it would through a pooled connection.
constexpr std::array<std::string_view, 8> kSafe{"select", "with",   "insert", "update",
                                                "delete", "values", "table",  "merge"};

std::size_t skip_noise(std::string_view sql, std::size_t i) {
  for (;;) {
    while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) {
      ++i;
    }
    if (sql.substr(i, 2) == "--") {
      i = sql.find('\n', i);
    } else if (sql.substr(i, 2) == "/*") {
      i = sql.find("*/", i + 2);
      if (i != std::string_view::npos) i += 2;
    } else {
      return i;
    }
    if (i == std::string_view::npos) return sql.size();
  }
}

}  // namespace

bool lane_safe(std::string_view sql) noexcept {
  std::size_t i = skip_noise(sql, 0);
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])) && word.size() < 8) {
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++])));
  }
  if (i < sql.size() && std::isalnum(static_cast<unsigned char>(sql[i]))) return false;
  for (std::string_view safe : kSafe) {
    if (word == safe) return true;
  }
  return false;
}

}  // namespace nexdb::detail
