// Internal helpers of the index module: column specs, qualified names, catalog reads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nexdb/index.hpp"

namespace nexdb::detail {

/// "created_at DESC NULLS LAST" parsed.
struct ColumnSpec {
  std::string name{};
  bool descending = false;
  std::string nulls{};  // "", " NULLS FIRST", " NULLS LAST"
  /// "created_at" or "created_at DESC": how IndexInfo::columns spells it.
  std::string canonical() const;
  /// The quoted SQL form.
  std::string sql() const;
};
/// Throws UsageError for an invalid column name.
ColumnSpec parse_column_spec(std::string_view spec);

struct QualifiedName {
  std::string schema{};
  std::string name{};
};
/// "sales.orders", "\"Sales\".orders" or "orders".
QualifiedName split_qualified(std::string_view name);
std::string unquote(std::string_view text);
std::string quote_qualified(const QualifiedName& name);
/// Throws UsageError unless `where` is exactly one SQL expression.
void validate_predicate(std::string_view where);

/// Indexes of tables in the search-path schemas (PostgreSQL) or of every table (SQLite),
/// optionally of one table. A schema (qualifying `table`, or given) looks there instead of the
/// search path. `target` fills IndexInfo::target.
std::vector<IndexInfo> read_indexes(Connection& connection, std::string_view target,
                                    std::string_view table = {}, std::string_view schema = {});
/// PostgreSQL: schema.index -> idx_scan on this server (for adding replicas' usage).
std::vector<std::pair<std::string, std::int64_t>> read_index_scans(Connection& connection);
/// The columns of a table, in order (empty when there is no such table).
std::vector<std::string> read_table_columns(Connection& connection, std::string_view table);
/// The leading columns of `info` without directions: what a candidate is compared with.
std::vector<std::string> key_column_names(const IndexInfo& info);

}  // namespace nexdb::detail
