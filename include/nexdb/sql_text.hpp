// PostgreSQL's own parser (libpg_query) for raw SQL text: fingerprints that group statements by
// shape, normalised text with constants replaced by $n, the parse tree, and statement splitting.
// Used by monitoring (per-shape metrics), the optimizer (per-shape plans) and shard routing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nexdb::sql {

/// The shape of a statement: equal for statements that differ only in constants, whitespace,
/// comments or the order of IN-list values. Same value as pg_stat_statements' tools
/// (pganalyze, pg_query in other languages) compute for the text.
struct Fingerprint {
  std::uint64_t value = 0;
  std::string hex{};  // 16 lower-case hex digits
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};

/// Fingerprint of PostgreSQL SQL. Throws SqlError (SQLSTATE 42601) naming the position of a
/// syntax error.
Fingerprint fingerprint(std::string_view sql);

/// Like fingerprint(), but std::nullopt instead of an error (e.g. SQLite-only syntax).
std::optional<Fingerprint> try_fingerprint(std::string_view sql) noexcept;

/// The statement with every constant replaced by $1, $2, ... (existing parameters keep theirs).
/// Throws SqlError (42601) on a syntax error.
std::string normalize(std::string_view sql);

/// A normalised text for any dialect: normalize() when PostgreSQL's parser accepts the text;
/// otherwise literals (quoted, E'..', dollar-quoted, unterminated) and numbers are replaced by
/// '?' and whitespace collapsed (SQLite-only syntax, statements cut short). Comments are dropped
/// either way: they may carry anything (request ids, secrets). Never throws for bad SQL.
std::string normalize_any(std::string_view sql);

/// The text without its `--` and `/* */` comments (each leaves a space); strings, quoted
/// identifiers and dollar quotes are kept as they are.
std::string without_comments(std::string_view sql);

/// The parse tree as JSON (libpg_query's format: {"version":..,"stmts":[{"stmt":{..}}]}).
/// Throws SqlError (42601) on a syntax error.
std::string parse_tree_json(std::string_view sql);

/// Splits a script into statements with PostgreSQL's parser (semicolons inside strings,
/// dollar quotes and comments are not boundaries). Throws SqlError (42601) on a syntax error.
std::vector<std::string> split_statements(std::string_view sql);

}  // namespace nexdb::sql
