#include "nexdb/sql_text.hpp"

#include <fmt/format.h>
#include <pg_query.h>

#include <cctype>

#include "nexdb/error.hpp"

namespace nexdb::sql {
namespace {

// libpg_query wants a NUL-terminated string.
std::string terminated(std::string_view sql) { return std::string(sql); }

[[noreturn]] void throw_syntax_error(const PgQueryError& error, std::string_view sql) {
  std::string message = error.message != nullptr ? error.message : "syntax error";
  if (error.cursorpos > 0) message += fmt::format(" at character {}", error.cursorpos);
  throw_sql_error(std::move(message), {.sqlstate = "42601", .statement = std::string(sql)});
}

// Frees a libpg_query result on every path.
template <typename Result, void (*Free)(Result)>
struct Guard {
  Result result;
  ~Guard() { Free(result); }
};

}  // namespace

Fingerprint fingerprint(std::string_view sql) {
  const std::string text = terminated(sql);
  Guard<PgQueryFingerprintResult, pg_query_free_fingerprint_result> guard{
      pg_query_fingerprint(text.c_str())};
  if (guard.result.error != nullptr) throw_syntax_error(*guard.result.error, sql);
  return {.value = guard.result.fingerprint, .hex = guard.result.fingerprint_str};
}

std::optional<Fingerprint> try_fingerprint(std::string_view sql) noexcept {
  try {
    return fingerprint(sql);
  } catch (...) {
    return std::nullopt;
  }
}

std::string normalize(std::string_view sql) {
  const std::string text = terminated(sql);
  Guard<PgQueryNormalizeResult, pg_query_free_normalize_result> guard{
      pg_query_normalize(text.c_str())};
  if (guard.result.error != nullptr) throw_syntax_error(*guard.result.error, sql);
  return guard.result.normalized_query;
}

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The end of the literal, identifier, dollar-quoted string or comment that starts at `i`, or
// npos when none starts there. Unterminated ones run to the end of the text.
std::size_t token_end(std::string_view sql, std::size_t i) {
  const char c = sql[i];
  if (c == '\'' || c == '"') {  // '' and "" escape themselves; E'..' also takes backslashes
    const bool backslashes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                             (i == 1 || !ident_char(sql[i - 2]));
    for (std::size_t j = i + 1; j < sql.size(); ++j) {
      if (backslashes && sql[j] == '\\') {
        ++j;
      } else if (sql[j] == c) {
        if (j + 1 < sql.size() && sql[j + 1] == c) {
          ++j;
        } else {
          return j + 1;
        }
      }
    }
    return sql.size();
  }
  if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // to the end of the line, inclusive
    const std::size_t newline = sql.find('\n', i);
    return newline == std::string_view::npos ? sql.size() : newline + 1;
  }
  if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {  // PostgreSQL's nest
    int depth = 0;
    for (std::size_t j = i; j + 1 < sql.size(); ++j) {
      if (sql[j] == '/' && sql[j + 1] == '*') {
        ++depth;
        ++j;
      } else if (sql[j] == '*' && sql[j + 1] == '/') {
        ++j;
        if (--depth == 0) return j + 1;
      }
    }
    return sql.size();
  }
  if (c == '$' && (i == 0 || !ident_char(sql[i - 1]))) {  // $tag$ ... $tag$, not $1 or $name
    std::size_t j = i + 1;
    if (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
      return std::string_view::npos;
    while (j < sql.size() && ident_char(sql[j])) ++j;
    if (j >= sql.size() || sql[j] != '$') return std::string_view::npos;
    const std::string_view tag = sql.substr(i, j - i + 1);
    const auto close = sql.find(tag, j + 1);
    return close == std::string_view::npos ? sql.size() : close + tag.size();
  }
  return std::string_view::npos;
}

bool is_comment(std::string_view token) {
  return token.starts_with("--") || token.starts_with("/*");
}

// Comments dropped (a space stays); with `replace_literals`, string and dollar-quoted literals
// and numbers become '?' and whitespace runs one space.
std::string scrub(std::string_view sql, bool replace_literals) {
  std::string out;
  out.reserve(sql.size());
  const auto space = [&] {
    if (!out.empty() && !std::isspace(static_cast<unsigned char>(out.back()))) out += ' ';
  };
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (const std::size_t end = token_end(sql, i); end != std::string_view::npos) {
      const std::string_view token = sql.substr(i, end - i);
      if (is_comment(token)) {
        space();
      } else if (replace_literals && c != '"') {
        if (!out.empty() && (out.back() == 'E' || out.back() == 'e') &&
            (out.size() == 1 || !ident_char(out[out.size() - 2]))) {
          out.pop_back();
        }
        out += '?';
      } else {
        out += token;
      }
      i = end;
    } else if (replace_literals && std::isdigit(static_cast<unsigned char>(c)) &&
               (out.empty() || !(ident_char(out.back()) || out.back() == '$'))) {
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.'))
        ++i;
      out += '?';
    } else if (replace_literals && std::isspace(static_cast<unsigned char>(c))) {
      while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
      space();
    } else {
      out += c;
      ++i;
    }
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

}  // namespace

std::string without_comments(std::string_view sql) { return scrub(sql, false); }

std::string normalize_any(std::string_view sql) {
  try {
    return without_comments(normalize(sql));
  } catch (const Error&) {
  }
  return scrub(sql, true);
}

std::string parse_tree_json(std::string_view sql) {
  const std::string text = terminated(sql);
  Guard<PgQueryParseResult, pg_query_free_parse_result> guard{pg_query_parse(text.c_str())};
  if (guard.result.error != nullptr) throw_syntax_error(*guard.result.error, sql);
  return guard.result.parse_tree;
}

std::vector<std::string> split_statements(std::string_view sql) {
  const std::string text = terminated(sql);
  Guard<PgQuerySplitResult, pg_query_free_split_result> guard{
      pg_query_split_with_parser(text.c_str())};
  if (guard.result.error != nullptr) throw_syntax_error(*guard.result.error, sql);
  std::vector<std::string> statements;
  for (int i = 0; i < guard.result.n_stmts; ++i) {
    const auto* statement = guard.result.stmts[i];
    std::string piece = text.substr(static_cast<std::size_t>(statement->stmt_location),
                                    static_cast<std::size_t>(statement->stmt_len));
    const auto first = piece.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;
    statements.push_back(piece.substr(first));
  }
  return statements;
}

}  // namespace nexdb::sql
