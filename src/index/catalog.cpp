// Reading indexes and columns from each backend's catalog.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "index/index_sql.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

// Key columns by name (expressions as PostgreSQL prints them), with DESC where the index stores
// them descending; INCLUDE columns are not keys.
constexpr std::string_view kPostgresIndexes = R"sql(
SELECT n.nspname, t.relname, i.relname, am.amname, ix.indisunique, ix.indisprimary, ix.indisvalid,
       ix.indpred IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.conrelid = ix.indrelid),
       pg_relation_size(i.oid), COALESCE(s.idx_scan, 0), pg_get_indexdef(i.oid),
       array_to_json(ARRAY(
         SELECT CASE WHEN ix.indkey[k - 1] = 0 THEN pg_get_indexdef(ix.indexrelid, k, true)
                     ELSE (SELECT a.attname::text FROM pg_attribute a
                           WHERE a.attrelid = ix.indrelid AND a.attnum = ix.indkey[k - 1]) END
                || CASE WHEN ix.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END
         FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k))::text
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = ix.indexrelid
WHERE ($1 = '' OR t.relname = $1)
  AND (($2 = '' AND n.nspname = ANY (current_schemas(false))) OR n.nspname = $2)
ORDER BY 1, 2, 3)sql";

// Every index of every table, with its key columns from index_xinfo (key = 1), in order.
constexpr std::string_view kSqliteIndexes = R"sql(
SELECT m.name, il.name, il."unique", il.origin, il.partial, s.sql,
       (SELECT json_group_array(c) FROM (
          SELECT CASE WHEN x.cid = -2 THEN '<expression>' ELSE x.name END
                 || CASE WHEN x."desc" THEN ' DESC' ELSE '' END AS c
          FROM pragma_index_xinfo(il.name) x WHERE x.key = 1 ORDER BY x.seqno))
FROM sqlite_master m
JOIN pragma_index_list(m.name) il
LEFT JOIN sqlite_master s ON s.type = 'index' AND s.name = il.name
WHERE m.type = 'table' AND (? = '' OR m.name = ?)
ORDER BY m.name, il.name)sql";

std::vector<std::string> json_strings(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& item : nlohmann::json::parse(text))
    out.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

std::vector<IndexInfo> read_postgres(Connection& connection, std::string_view target,
                                     const QualifiedName& table) {
  const Rows rows =
      connection.execute(Statement{std::string(kPostgresIndexes), {table.name, table.schema}});
  std::vector<IndexInfo> out;
  for (Row row : rows) {
    out.push_back(IndexInfo{
        .target = std::string(target),
        .schema = row.get<std::string>(0),
        .table = row.get<std::string>(1),
        .name = row.get<std::string>(2),
        .columns = json_strings(row.get<std::string>(12)),
        .type = row.get<std::string>(3),
        .unique = row.get<bool>(4),
        .primary = row.get<bool>(5),
        .valid = row.get<bool>(6),
        .partial = row.get<bool>(7),
        .backs_constraint = row.get<bool>(8),
        .size_bytes = row.get<std::int64_t>(9),
        .scans = row.get<std::int64_t>(10),
        .definition = row.get<std::string>(11),
    });
  }
  return out;
}

std::vector<IndexInfo> read_sqlite(Connection& connection, std::string_view target,
                                   const QualifiedName& table) {
  const Rows rows =
      connection.execute(Statement{std::string(kSqliteIndexes), {table.name, table.name}});
  std::vector<IndexInfo> out;
  for (Row row : rows) {
    const auto origin = row.get<std::string>(3);
    out.push_back(IndexInfo{
        .target = std::string(target),
        .schema = "main",
        .table = row.get<std::string>(0),
        .name = row.get<std::string>(1),
        .columns = json_strings(row.get<std::string>(6)),
        .type = "btree",
        .unique = row.get<std::int64_t>(2) != 0,
        .primary = origin == "pk",
        .valid = true,
        .partial = row.get<std::int64_t>(4) != 0,
        .backs_constraint = origin != "c",  // created by PRIMARY KEY or UNIQUE, not CREATE INDEX
        .size_bytes = std::nullopt,
        .scans = std::nullopt,
        .definition = row.get<std::optional<std::string>>(5).value_or(""),
    });
  }
  return out;
}

}  // namespace

std::vector<IndexInfo> read_indexes(Connection& connection, std::string_view target,
                                    std::string_view table, std::string_view schema) {
  QualifiedName name = table.empty() ? QualifiedName{} : split_qualified(table);
  if (!schema.empty()) name.schema = std::string(schema);
  return connection.dialect() == Dialect::postgres ? read_postgres(connection, target, name)
                                                   : read_sqlite(connection, target, name);
}

std::vector<std::pair<std::string, std::int64_t>> read_index_scans(Connection& connection) {
  const Rows rows = connection.execute(
      "SELECT schemaname || '.' || indexrelname, idx_scan FROM pg_stat_all_indexes "
      "WHERE schemaname = ANY (current_schemas(false))");
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (Row row : rows) out.emplace_back(row.get<std::string>(0), row.get<std::int64_t>(1));
  return out;
}

std::vector<std::string> read_table_columns(Connection& connection, std::string_view table) {
  const QualifiedName name = split_qualified(table);
  Rows rows;
  if (connection.dialect() == Dialect::postgres) {
    rows = connection.execute(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        quote_qualified(name));
  } else {
    rows = connection.execute("SELECT name FROM pragma_table_info(?)", name.name);
  }
  std::vector<std::string> out;
  for (Row row : rows) out.push_back(row.get<std::string>(0));
  return out;
}

std::vector<std::string> key_column_names(const IndexInfo& info) {
  std::vector<std::string> out;
  for (const std::string& column : info.columns) {
    out.push_back(column.ends_with(" DESC") ? column.substr(0, column.size() - 5) : column);
  }
  return out;
}

}  // namespace nexdb::detail
