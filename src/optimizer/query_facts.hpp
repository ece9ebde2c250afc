// What a statement reads, writes and filters on, from PostgreSQL's parse tree (libpg_query).
// The optimizer uses it once per SQL text: tables for the result cache, predicates and ordering
// for index advice. SQLite's `?` placeholders are renumbered so the same parser reads both.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nexdb/value.hpp"

namespace nexdb::detail {

/// A column as the query names it: `qualifier` is a table name or alias, or empty.
struct ColumnName {
  std::string qualifier{};
  std::string column{};
  friend bool operator==(const ColumnName&, const ColumnName&) = default;
};

struct Predicate {
  enum class Kind { equality, range, join };
  Kind kind = Kind::equality;
  ColumnName column{};
  ColumnName other{};  // join: the column on the other side
};

struct OrderColumn {
  ColumnName column{};
  bool descending = false;
};

/// One SELECT (or UPDATE/DELETE) level: its base tables, the ANDed conditions that could use an
/// index, and its ORDER BY when every term is a plain column.
struct QueryBlock {
  struct Source {
    std::string schema{};
    std::string table{};
    std::string alias{};  // empty: referred to by the table name
  };
  std::vector<Source> sources{};
  std::vector<Predicate> predicates{};
  std::vector<OrderColumn> order{};
  bool has_limit = false;
};

struct QueryFacts {
  enum class Kind { select, insert, update, delete_, other };
  Kind kind = Kind::other;
  bool parsed = false;
  /// Base tables named anywhere in the statement (CTE names excluded), unqualified.
  std::vector<std::string> tables_read{};
  /// Tables INSERT/UPDATE/DELETE/MERGE/TRUNCATE write to, unqualified.
  std::vector<std::string> tables_written{};
  /// The statement may write to tables we cannot name (DDL, an unparsable non-SELECT).
  bool writes_unknown = false;
  std::vector<QueryBlock> blocks{};

  /// A plain read whose tables are known: its result may be cached.
  bool cacheable() const noexcept {
    return parsed && kind == Kind::select && tables_written.empty() && !writes_unknown;
  }
};

/// The facts of one statement; never throws (an unparsable statement has parsed = false).
QueryFacts analyze_statement(std::string_view sql, Dialect dialect);

/// `sql` with SQLite's `?` / `?NNN` placeholders (outside quotes and comments) as `$n`.
std::string with_dollar_placeholders(std::string_view sql);

}  // namespace nexdb::detail
