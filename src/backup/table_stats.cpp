#define XXH_INLINE_ALL
#include "backup/table_stats.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#include <xxhash.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "nexdb/identifier.hpp"

namespace nexdb::backup_detail {
namespace {

// User tables with their primary-key columns (JSON array, in key order). Tables that belong to
// an extension are the extension's to recreate; temporary and toast schemas are not data.
constexpr std::string_view kPostgresTables = R"(
SELECT n.nspname::text, c.relname::text,
       coalesce((SELECT array_to_json(array_agg(a.attname::text ORDER BY k.ord))::text
                 FROM pg_index i
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE i.indrelid = c.oid AND i.indisprimary), '[]')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2)";

std::string key_expression(const TableStats& table) {
  if (table.key_columns.empty()) return "t";  // the whole row
  std::string out = "ROW(";
  for (std::size_t i = 0; i < table.key_columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += "t." + quote_identifier(table.key_columns[i]);
  }
  return out + ")";
}

/// Finalizes a statement when it goes out of scope.
using StatementPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

StatementPtr prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    throw BackupError(fmt::format("SQLite: {} ({})", sqlite3_errmsg(db), sql));
  }
  return StatementPtr(raw, &sqlite3_finalize);
}

std::vector<std::string> sqlite_primary_key(sqlite3* db, const std::string& table) {
  StatementPtr info =
      prepare(db, "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk");
  sqlite3_bind_text(info.get(), 1, table.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::string> out;
  while (sqlite3_step(info.get()) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 0)));
  }
  return out;
}

/// Rows and the wrapping sum of XXH3-64 over each row's key columns (type, length, bytes).
void scan_sqlite_table(sqlite3* db, TableStats& table) {
  std::string columns = "*";
  if (!table.key_columns.empty()) {
    columns.clear();
    for (const auto& c : table.key_columns)
      columns += (columns.empty() ? "" : ", ") + quote_identifier(c);
  }
  StatementPtr scan =
      prepare(db, fmt::format("SELECT {} FROM {}", columns, quote_identifier(table.name)));
  std::uint64_t sum = 0;
  std::string buffer;
  int rc;
  while ((rc = sqlite3_step(scan.get())) == SQLITE_ROW) {
    ++table.rows;
    buffer.clear();
    for (int i = 0; i < sqlite3_column_count(scan.get()); ++i) {
      const int type = sqlite3_column_type(scan.get(), i);
      const void* data = type == SQLITE_BLOB
                             ? sqlite3_column_blob(scan.get(), i)
                             : static_cast<const void*>(sqlite3_column_text(scan.get(), i));
      const int size = sqlite3_column_bytes(scan.get(), i);
      buffer += static_cast<char>('0' + type);
      buffer += std::to_string(size) + ':';
      if (size > 0) buffer.append(static_cast<const char*>(data), static_cast<std::size_t>(size));
    }
    sum += XXH3_64bits(buffer.data(), buffer.size());
  }
  if (rc != SQLITE_DONE)
    throw BackupError(fmt::format("SQLite: reading {}: {}", table.name, sqlite3_errmsg(db)));
  table.key_checksum = fmt::format("{:016x}", sum);
}

}  // namespace

std::string file_checksum(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BackupError(fmt::format("cannot read {}", path.string()));
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  XXH3_128bits_reset(state.get());
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    XXH3_128bits_update(state.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  const XXH128_hash_t hash = XXH3_128bits_digest(state.get());
  return fmt::format("{:016x}{:016x}", hash.high64, hash.low64);
}

std::vector<TableStats> postgres_table_stats(Connection& connection) {
  // ROW(...)::text depends on these: a timestamptz prints in the session's TimeZone, dates in
  // its DateStyle, and so on. The source, a scratch instance fresh from initdb and a temporary
  // database on another server (pg_dump does not carry ALTER DATABASE ... SET) must all print
  // the same value the same way.
  connection.execute_script(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
      "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET lc_monetary = 'C'");
  std::vector<TableStats> tables;
  const Rows list = connection.execute(std::string(kPostgresTables));
  for (Row row : list) {
    TableStats table{.schema = row.get<std::string>(0), .name = row.get<std::string>(1)};
    table.key_columns =
        nlohmann::json::parse(row.get<std::string>(2)).get<std::vector<std::string>>();
    const Rows stats = connection.execute(fmt::format(
        "SELECT count(*), coalesce(sum(hashtextextended({}::text, 0)), 0)::text FROM {}.{} AS t",
        key_expression(table), quote_identifier(table.schema), quote_identifier(table.name)));
    table.rows = stats[0].get<std::int64_t>(0);
    table.key_checksum = stats[0].get<std::string>(1);
    tables.push_back(std::move(table));
  }
  return tables;
}

std::vector<TableStats> sqlite_table_stats(sqlite3* db) {
  std::vector<TableStats> tables;
  StatementPtr list = prepare(db,
                              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                              "LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  while (sqlite3_step(list.get()) == SQLITE_ROW) {
    tables.push_back({.name = reinterpret_cast<const char*>(sqlite3_column_text(list.get(), 0))});
  }
  for (TableStats& table : tables) {
    table.key_columns = sqlite_primary_key(db, table.name);
    scan_sqlite_table(db, table);
  }
  return tables;
}

std::string qualified_name(const TableStats& table) {
  return table.schema.empty() ? table.name : table.schema + "." + table.name;
}

void compare_tables(const std::string& part, const std::vector<TableStats>& expected,
                    const std::vector<TableStats>& actual, std::vector<VerifyCheck>& checks) {
  std::map<std::string, const TableStats*> found;
  for (const TableStats& t : actual) found[qualified_name(t)] = &t;
  for (const TableStats& want : expected) {
    const std::string name = qualified_name(want);
    VerifyCheck check{.target = part, .name = "table " + name};
    auto it = found.find(name);
    if (it == found.end()) {
      check.detail = "missing from the restored copy";
    } else {
      const TableStats& got = *it->second;
      check.ok = got.rows == want.rows && got.key_checksum == want.key_checksum;
      check.detail =
          check.ok ? fmt::format("{} rows, key checksum {}", got.rows, got.key_checksum)
                   : fmt::format("expected {} rows (checksum {}), restored {} rows (checksum {})",
                                 want.rows, want.key_checksum, got.rows, got.key_checksum);
      found.erase(it);
    }
    checks.push_back(std::move(check));
  }
  for (const auto& [name, table] : found) {
    checks.push_back({.target = part,
                      .name = "table " + name,
                      .ok = false,
                      .detail = fmt::format(
                          "in the restored copy ({} rows) but not in the manifest", table->rows)});
  }
}

}  // namespace nexdb::backup_detail
