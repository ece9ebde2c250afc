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

std::string normalize_any(std::string_view sql) {
  try {
    return normalize(sql);
  } catch (const Error&) {
  }
  std::string out;
  out.reserve(sql.size());
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '\'') {  // string literal, '' escapes a quote
      ++i;
      while (i < sql.size()) {
        if (sql[i] == '\'' && (i + 1 >= sql.size() || sql[i + 1] != '\'')) break;
        i += sql[i] == '\'' ? 2 : 1;
      }
      ++i;
      out += '?';
    } else if (std::isdigit(static_cast<unsigned char>(c)) &&
               (out.empty() || !(std::isalnum(static_cast<unsigned char>(out.back())) ||
                                 out.back() == '_'))) {
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.'))
        ++i;
      out += '?';
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
      if (!out.empty()) out += ' ';
    } else {
      out += c;
      ++i;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
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
