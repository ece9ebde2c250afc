// Conservative classification of raw SQL for routing. A wrong "read" would send a write to a
// replica (which refuses it) or a locking read away from the primary, so only statements that
// are plainly reads are reads; anything the scanner is unsure about is a write.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "nexdb/replica.hpp"

namespace nexdb {

namespace {

// Words that make a statement a write wherever they appear outside literals: DML in a CTE,
// locking clauses (FOR UPDATE/SHARE; also catches harmless substring(x FOR n), which is fine),
// SELECT INTO, and functions with side effects or that need a primary.
constexpr std::array<std::string_view, 30> write_words{"insert",
                                                       "update",
                                                       "delete",
                                                       "merge",
                                                       "for",
                                                       "into",
                                                       "call",
                                                       "do",
                                                       "copy",
                                                       "lock",
                                                       "nextval",
                                                       "setval",
                                                       "currval",
                                                       "lastval",
                                                       "set_config",
                                                       "pg_notify",
                                                       "txid_current",
                                                       "pg_current_xact_id",
                                                       "pg_terminate_backend",
                                                       "pg_cancel_backend",
                                                       "pg_reload_conf",
                                                       "pg_switch_wal",
                                                       "pg_promote",
                                                       "pg_create_restore_point",
                                                       "pg_wal_replay_pause",
                                                       "pg_wal_replay_resume",
                                                       "dblink_exec",
                                                       "lo_create",
                                                       "lo_unlink",
                                                       "lo_import"};
// Prefixes of function families with side effects.
constexpr std::array<std::string_view, 5> write_prefixes{"pg_advisory", "pg_try_advisory", "lo_",
                                                         "dblink", "pg_logical_emit"};
constexpr std::array<std::string_view, 4> read_starts{"select", "with", "values", "table"};

struct Scan {
  std::vector<std::string> words;
  bool multiple_statements = false;
  bool unterminated = false;
};

// Skips a literal or comment starting at i; returns the index after it, or npos if unterminated.
std::size_t skip_quoted(std::string_view sql, std::size_t i, char quote) {
  for (++i; i < sql.size(); ++i) {
    if (sql[i] != quote) continue;
    if (i + 1 < sql.size() && sql[i + 1] == quote) {  // '' or "" escape
      ++i;
      continue;
    }
    return i + 1;
  }
  return std::string_view::npos;
}

std::size_t skip_dollar(std::string_view sql, std::size_t i) {
  auto close = sql.find('$', i + 1);
  if (close == std::string_view::npos) return close;
  std::string_view tag = sql.substr(i, close - i + 1);
  auto end = sql.find(tag, close + 1);
  return end == std::string_view::npos ? end : end + tag.size();
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
}

// Returns the index after a comment or literal at i, i when there is none, npos when open.
std::size_t skip_non_code(std::string_view sql, std::size_t i) {
  char c = sql[i];
  char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
  if (c == '-' && next == '-') {
    auto end = sql.find('\n', i);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  if (c == '/' && next == '*') {  // PostgreSQL comments nest; treat nesting as unsure
    auto end = sql.find("*/", i + 2);
    if (end == std::string_view::npos) return end;
    if (sql.substr(i + 2, end - i - 2).find("/*") != std::string_view::npos) {
      return std::string_view::npos;
    }
    return end + 2;
  }
  if (c == '\'' || c == '"') return skip_quoted(sql, i, c);
  if (c == '$' && (i == 0 || !is_word_char(sql[i - 1])) && next != '\0' &&
      !std::isdigit(static_cast<unsigned char>(next))) {
    return skip_dollar(sql, i);
  }
  return i;
}

Scan scan(std::string_view sql) {
  Scan result;
  bool after_semicolon = false;
  for (std::size_t i = 0; i < sql.size();) {
    std::size_t skipped = skip_non_code(sql, i);
    if (skipped == std::string_view::npos) {
      result.unterminated = true;
      return result;
    }
    if (skipped != i) {
      i = skipped;
      continue;
    }
    char c = sql[i];
    if (c == ';') {
      after_semicolon = true;
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
      continue;
    }
    if (after_semicolon) result.multiple_statements = true;
    if (!is_word_char(c)) {
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < sql.size() && is_word_char(sql[i])) ++i;
    std::string word(sql.substr(start, i - start));
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    result.words.push_back(std::move(word));
  }
  return result;
}

bool is_write_word(std::string_view word) {
  if (std::find(write_words.begin(), write_words.end(), word) != write_words.end()) return true;
  return std::any_of(write_prefixes.begin(), write_prefixes.end(),
                     [&](std::string_view prefix) { return word.starts_with(prefix); });
}

}  // namespace

StatementKind classify_sql(std::string_view sql) noexcept {
  try {
    Scan s = scan(sql);
    if (s.unterminated || s.multiple_statements || s.words.empty()) return StatementKind::write;
    if (std::find(read_starts.begin(), read_starts.end(), s.words.front()) == read_starts.end()) {
      return StatementKind::write;
    }
    bool writes = std::any_of(s.words.begin(), s.words.end(), is_write_word);
    return writes ? StatementKind::write : StatementKind::read;
  } catch (...) {
    return StatementKind::write;  // out of memory while scanning: the safe answer
  }
}

}  // namespace nexdb
