#include "archive/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "nexdb/archive.hpp"
#include "nexdb/identifier.hpp"

namespace nexdb::archive_detail {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return out;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

/// A column type for the other dialect (the same type text within one dialect).
std::string type_for(const Column& column, Dialect from, Dialect to) {
  if (from == to) return column.type;
  const std::string t = upper(column.type);
  if (to == Dialect::sqlite) {
    if (contains(t, "INT")) return "INTEGER";
    if (t == "BOOLEAN") return "BOOLEAN";
    if (t == "REAL" || t == "DOUBLE PRECISION") return "REAL";
    if (t.starts_with("TIMESTAMP")) return "TIMESTAMP";
    if (t == "BYTEA") return "BLOB";
    return "TEXT";  // numeric too: its exact decimal text, never rounded through a double
  }
  if (contains(t, "INT")) return "BIGINT";
  if (contains(t, "BOOL")) return "BOOLEAN";
  if (contains(t, "TIMESTAMP") || contains(t, "DATETIME")) return "TIMESTAMPTZ";
  if (t == "DATE") return "DATE";
  if (contains(t, "REAL") || contains(t, "FLOA") || contains(t, "DOUB")) return "DOUBLE PRECISION";
  if (contains(t, "NUMERIC") || contains(t, "DECIMAL")) return "NUMERIC";
  if (contains(t, "BLOB")) return "BYTEA";
  return "TEXT";
}

std::vector<Column> postgres_columns(Connection& c, const TableName& table) {
  std::vector<Column> out;
  const Rows rows = c.execute(
      "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      "a.attgenerated <> '', "
      // format_type() leaves the collation out; name it when it is not the type's own.
      "CASE WHEN a.attcollation <> t.typcollation THEN "
      "quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END "
      "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
      "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
      "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace "
      "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
      "ORDER BY a.attnum",
      table.quoted);
  for (Row r : rows) {
    if (r.get<bool>(3)) continue;  // generated: computed again on insert, cannot be written
    out.push_back({.name = r.get<std::string>(0),
                   .type = r.get<std::string>(1),
                   .not_null = r.get<bool>(2),
                   .collation = r.get<std::string>(4)});
  }
  return out;
}

std::vector<Column> sqlite_columns(Connection& c, const TableName& table) {
  std::vector<Column> out;
  const Rows rows =
      table.schema.empty()
          ? c.execute("SELECT name, type, \"notnull\" FROM pragma_table_info(?)", table.name)
          : c.execute("SELECT name, type, \"notnull\" FROM pragma_table_info(?, ?)", table.name,
                      table.schema);
  for (Row r : rows) {
    out.push_back(
        {.name = r.get<std::string>(0), .type = r.get<std::string>(1), .not_null = r.get<bool>(2)});
  }
  return out;
}

std::vector<std::string> primary_key(Connection& c, const TableName& table) {
  std::vector<std::string> out;
  const Rows rows =
      c.dialect() == Dialect::postgres
          ? c.execute(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                "i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass($1) AND "
                "i.indisprimary",
                table.quoted)
          : c.execute("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", table.name);
  for (Row r : rows) out.push_back(r.get<std::string>(0));
  return out;
}

/// True when `column` alone is the primary key or carries a unique index without a predicate.
bool unique_column(Connection& c, const TableName& table, const std::string& column) {
  if (primary_key(c, table) == std::vector<std::string>{column}) return true;
  if (c.dialect() == Dialect::postgres) {
    return !c.execute(
                 "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                 "AND a.attnum = i.indkey[0] WHERE i.indrelid = to_regclass($1) AND i.indisunique "
                 "AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $2",
                 table.quoted, column)
                .empty();
  }
  return !c.execute(
               "SELECT 1 FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii "
               "WHERE il.\"unique\" = 1 AND il.partial = 0 GROUP BY il.name "
               "HAVING count(*) = 1 AND max(ii.name) = ?",
               table.name, column)
              .empty();
}

/// SQLite: the collation of the key's unique index (the primary key's or another's), when it
/// is not the default BINARY.
std::string sqlite_key_collation(Connection& c, const TableName& table, const std::string& key) {
  const Rows rows = c.execute(
      "SELECT ii.coll FROM pragma_index_list(?) AS il, pragma_index_xinfo(il.name) AS ii "
      "WHERE il.\"unique\" = 1 AND il.partial = 0 AND ii.key = 1 AND ii.name = ? "
      "AND (SELECT count(*) FROM pragma_index_info(il.name)) = 1",
      table.name, key);
  for (Row r : rows) {
    const std::string coll = upper(r.get<std::string>(0));
    if (coll == "NOCASE" || coll == "RTRIM") return coll;
  }
  return "";
}

/// COLLATE for a column in the destination's dialect: PostgreSQL's collations carry over to
/// PostgreSQL, SQLite's built-in ones to SQLite. Across dialects keys are compared by equality
/// only (never ordered by the destination), so nothing is needed there.
std::string collate_clause(const Column& column, Dialect from, Dialect to) {
  if (column.collation.empty() || from != to) return "";
  return " COLLATE " + column.collation;
}

std::string create_sql(const TableInfo& source, const TableName& table, Dialect dialect) {
  std::string columns;
  for (const Column& c : source.columns) {
    columns +=
        fmt::format("{}  {} {}{}{}", columns.empty() ? "" : ",\n", quote_identifier(c.name),
                    type_for(c, source.dialect, dialect),
                    collate_clause(c, source.dialect, dialect), c.not_null ? " NOT NULL" : "");
  }
  return fmt::format("CREATE TABLE IF NOT EXISTS {} (\n{},\n  PRIMARY KEY ({}))", table.quoted,
                     columns, source.quoted_key);
}

}  // namespace

TableName parse_table_name(std::string_view text) {
  TableName out;
  const auto dot = text.find('.');
  if (dot != std::string_view::npos) {
    out.schema = std::string(text.substr(0, dot));
    out.name = std::string(text.substr(dot + 1));
  } else {
    out.name = std::string(text);
  }
  try {
    out.quoted =
        (out.schema.empty() ? "" : quote_identifier(out.schema) + ".") + quote_identifier(out.name);
  } catch (const UsageError& e) {
    throw ConfigError(fmt::format("table '{}': {}", text, e.message()));
  }
  out.text = std::string(text);
  return out;
}

std::string TableInfo::column_list() const {
  std::string out;
  for (const Column& c : columns) out += (out.empty() ? "" : ", ") + quote_identifier(c.name);
  return out;
}

std::optional<TableInfo> describe(Connection& connection, const TableName& table) {
  TableInfo info{.table = table, .dialect = connection.dialect()};
  info.columns = info.dialect == Dialect::postgres ? postgres_columns(connection, table)
                                                   : sqlite_columns(connection, table);
  if (info.columns.empty()) return std::nullopt;
  return info;
}

namespace {

Column& key_column(TableInfo& info, std::string_view key) {
  const auto column = std::find_if(info.columns.begin(), info.columns.end(),
                                   [&](const Column& c) { return c.name == key; });
  if (column == info.columns.end())
    throw ArchiveError(fmt::format("{} has no column '{}'", info.table.text, key));
  return *column;
}

/// SQLite lets a primary key other than INTEGER PRIMARY KEY hold NULLs (a compatibility quirk),
/// and batches are cut, deleted and looked up by the key: such rows could never be archived.
void refuse_null_keys(Connection& c, const TableInfo& info, const Column& key) {
  if (key.not_null) return;
  const auto nulls = c.execute(fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL",
                                           info.table.quoted, quote_identifier(key.name)))
                         .scalar<std::int64_t>();
  if (nulls == 0) return;
  throw ArchiveError(fmt::format(
      "{} has {} row(s) whose key {} is NULL (SQLite allows NULL in a primary key that is not "
      "INTEGER PRIMARY KEY): batches are cut and deleted by the key, so give those rows a key "
      "(and declare the column NOT NULL) or name another key column",
      info.table.text, nulls, key.name));
}

}  // namespace

TableInfo describe_source(Connection& connection, const TableName& table, std::string_view key) {
  auto info = describe(connection, table);
  if (!info)
    throw ArchiveError(
        fmt::format("source table {} does not exist on {}", table.text, connection.description()));
  const auto pk = primary_key(connection, table);
  if (key.empty()) {
    if (pk.size() != 1) {
      throw ArchiveError(
          fmt::format("{} has {}: name a unique, not-null column to order the batches by (key)",
                      table.text, pk.empty() ? "no primary key" : "a composite primary key"));
    }
    info->key = pk.front();
  } else {
    info->key = std::string(key);
  }
  Column& column = key_column(*info, info->key);
  const bool primary = pk == std::vector<std::string>{info->key};
  const bool sqlite = connection.dialect() == Dialect::sqlite;
  if (!key.empty() && (!unique_column(connection, table, info->key) ||
                       (!column.not_null && !(sqlite && primary)))) {
    throw ArchiveError(
        fmt::format("key column '{}' of {} must be NOT NULL with a unique index or be the primary "
                    "key: batches are cut and deleted by it",
                    key, table.text));
  }
  if (sqlite) {
    refuse_null_keys(connection, *info, column);
    column.collation = sqlite_key_collation(connection, table, info->key);
  }
  info->quoted_key = quote_identifier(info->key);
  return *info;
}

bool prepare_destination(Connection& destination, const TableInfo& source, const TableName& table,
                         bool dry_run) {
  const auto existing = describe(destination, table);
  if (!existing) {
    if (!dry_run) destination.execute_script(create_sql(source, table, destination.dialect()));
    return true;
  }
  std::vector<std::string> missing;
  for (const Column& c : source.columns) {
    const bool found = std::any_of(existing->columns.begin(), existing->columns.end(),
                                   [&](const Column& d) { return d.name == c.name; });
    if (!found) missing.push_back(c.name);
  }
  if (!missing.empty()) {
    throw ArchiveError(fmt::format("archive table {} lacks column(s) {} of {}", table.text,
                                   fmt::join(missing, ", "), source.table.text));
  }
  return false;
}

std::string placeholder(Dialect dialect, int n) {
  return dialect == Dialect::postgres ? fmt::format("${}", n) : std::string("?");
}

std::string values_list(Dialect dialect, std::size_t rows, std::size_t columns, int first) {
  std::string out;
  out.reserve(rows * columns * 6);
  int n = first;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t c = 0; c < columns; ++c) {
      if (c > 0) out += ", ";
      if (dialect == Dialect::postgres) {
        out += '$';
        out += std::to_string(n++);
      } else {
        out += '?';
      }
    }
    out += ')';
  }
  return out;
}

std::string exact_text(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Null>) {
          return "";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, Bytes>) {
          std::string out = "\\x";
          for (std::byte b : v) out += fmt::format("{:02x}", static_cast<unsigned>(b));
          return out;
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return format_timestamp(v);
        } else {
          return fmt::format("{}", v);
        }
      },
      value.storage());
}

std::string encode_key(const Value& key) {
  switch (key.type()) {
    case ValueType::integer:
      return "i:" + std::to_string(key.as<std::int64_t>());
    case ValueType::text:
      return "t:" + key.as<std::string>();
    case ValueType::timestamp:
      return "ts:" + format_timestamp(key.as<Timestamp>());
    case ValueType::real:
      return fmt::format("r:{}", key.as<double>());
    default:
      throw ArchiveError(fmt::format(
          "a key of type {} cannot order batches: use an integer, text or timestamp key",
          to_string(key.type())));
  }
}

Value decode_key(std::string_view text) {
  const auto colon = text.find(':');
  const std::string_view tag = text.substr(0, colon);
  const std::string_view body =
      colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  if (tag == "i") {
    std::int64_t v = 0;
    std::from_chars(body.data(), body.data() + body.size(), v);
    return v;
  }
  if (tag == "t") return std::string(body);
  if (tag == "ts") {
    if (auto ts = parse_timestamp(body)) return *ts;
  }
  if (tag == "r") return std::stod(std::string(body));
  throw ArchiveError(fmt::format("checkpoint holds an unreadable key '{}'", text));
}

}  // namespace nexdb::archive_detail
