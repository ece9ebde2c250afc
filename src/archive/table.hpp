// The tables an archive run touches: the source's columns and key, the destination created
// like it, and SQL fragments (quoted names, placeholders) in each dialect.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/value.hpp"

namespace nexdb::archive_detail {

/// A possibly schema-qualified table name, validated and quoted.
struct TableName {
  std::string schema{};  // empty: the connection's default
  std::string name{};
  std::string quoted{};  // "schema"."name" or "name"
  std::string text{};    // schema.name or name, for messages and job names
};
TableName parse_table_name(std::string_view text);

struct Column {
  std::string name{};
  std::string type{};  // as the dialect declares it: format_type() on PostgreSQL
  bool not_null = false;
  /// A collation other than the type's default, ready for COLLATE: pg_catalog."en-x-icu" on
  /// PostgreSQL; on SQLite the key column's, when its unique index uses NOCASE or RTRIM.
  std::string collation{};
};

struct TableInfo {
  TableName table{};
  Dialect dialect = Dialect::postgres;
  std::vector<Column> columns{};  // insertable columns (PostgreSQL generated columns left out)
  std::string key{};
  std::string quoted_key{};
  /// The quoted column list "a", "b", ...
  std::string column_list() const;
};

/// The table's columns; nullopt when it does not exist.
std::optional<TableInfo> describe(Connection& connection, const TableName& table);
/// The source: its columns and key (`key` or the single-column primary key). ArchiveError when
/// the table is missing, has no usable key, or (SQLite, whose non-INTEGER primary keys may hold
/// NULL) has rows with a NULL key.
TableInfo describe_source(Connection& connection, const TableName& table, std::string_view key);
/// Creates the destination like the source (same columns and collations, primary key on the
/// key column) unless it exists; then checks it has every source column. Returns true when it
/// was created.
bool prepare_destination(Connection& destination, const TableInfo& source, const TableName& table,
                         bool dry_run);

/// $n on PostgreSQL, ? on SQLite.
std::string placeholder(Dialect dialect, int n);
/// "(p1, p2, ...), (...)" for `rows` rows of `columns` values, numbered from `first`.
std::string values_list(Dialect dialect, std::size_t rows, std::size_t columns, int first);

/// A value's exact text: integers and doubles as numbers (shortest round-trip form), text as is,
/// bytes as \x hex, timestamps as format_timestamp(), booleans as true/false, NULL as "".
std::string exact_text(const Value& value);

/// Keys in the checkpoint: the value's type and its text, so it binds back exactly.
std::string encode_key(const Value& key);
Value decode_key(std::string_view text);

}  // namespace nexdb::archive_detail
