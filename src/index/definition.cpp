// IndexDefinition: names, column specs and CREATE INDEX for each dialect.
#define XXH_INLINE_ALL
#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "index/index_sql.hpp"
#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"
#include "nexdb/sql_text.hpp"

namespace nexdb {
namespace detail {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

/// Removes `suffix` (a keyword phrase, case-insensitive, preceded by a space) from the end.
bool strip_suffix(std::string_view& text, std::string_view suffix) {
  if (text.size() <= suffix.size()) return false;
  const std::string tail = upper(text.substr(text.size() - suffix.size()));
  if (tail != suffix ||
      !std::isspace(static_cast<unsigned char>(text[text.size() - suffix.size() - 1])))
    return false;
  text = trim(text.substr(0, text.size() - suffix.size()));
  return true;
}

}  // namespace

ColumnSpec parse_column_spec(std::string_view spec) {
  std::string_view text = trim(spec);
  ColumnSpec out;
  if (strip_suffix(text, "NULLS FIRST"))
    out.nulls = " NULLS FIRST";
  else if (strip_suffix(text, "NULLS LAST"))
    out.nulls = " NULLS LAST";
  if (strip_suffix(text, "DESC"))
    out.descending = true;
  else
    strip_suffix(text, "ASC");
  out.name = unquote(text);
  validate_identifier(out.name);
  return out;
}

std::string ColumnSpec::canonical() const { return name + (descending ? " DESC" : ""); }

std::string ColumnSpec::sql() const {
  return quote_identifier(name) + (descending ? " DESC" : "") + nulls;
}

QualifiedName split_qualified(std::string_view name) {
  const std::string_view text = trim(name);
  // A dot outside double quotes separates schema and name.
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    if (text[i] == '.' && !quoted) {
      return {.schema = unquote(text.substr(0, i)), .name = unquote(text.substr(i + 1))};
    }
  }
  return {.schema = {}, .name = unquote(text)};
}

std::string unquote(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
      if (text[i] == '"' && i + 2 < text.size() && text[i + 1] == '"') ++i;
      out += text[i];
    }
    return out;
  }
  return std::string(text);
}

std::string quote_qualified(const QualifiedName& name) {
  return (name.schema.empty() ? "" : quote_identifier(name.schema) + ".") +
         quote_identifier(name.name);
}

void validate_predicate(std::string_view where) {
  // DDL takes no bound parameters, so the predicate is text: accept exactly one expression.
  // Comments are refused outright: PostgreSQL nests /* */ and SQLite does not, so a comment could
  // hide text from one tokenizer that the other runs.
  if (where.find("--") != std::string_view::npos || where.find("/*") != std::string_view::npos ||
      where.find("*/") != std::string_view::npos) {
    throw UsageError(fmt::format(
        "the partial-index predicate '{}' contains a comment; give the bare expression", where));
  }
  const std::string probe = fmt::format("SELECT 1 WHERE ({})", where);
  bool ok = false;
  try {
    const auto tree = nlohmann::json::parse(sql::parse_tree_json(probe));
    const auto& stmts = tree.at("stmts");
    if (stmts.size() == 1 && stmts[0].at("stmt").contains("SelectStmt")) {
      const auto& select = stmts[0]["stmt"]["SelectStmt"];
      ok = select.value("op", "") == "SETOP_NONE" && select.contains("whereClause") &&
           !select.contains("fromClause") && !select.contains("withClause") &&
           select.at("targetList").size() == 1;
    }
  } catch (const std::exception&) {
  }
  if (!ok) {
    throw UsageError(
        fmt::format("the partial-index predicate '{}' is not one SQL expression "
                    "(e.g. \"status = 'open'\")",
                    where));
  }
}

}  // namespace detail

std::string_view to_string(IndexType type) noexcept {
  switch (type) {
    case IndexType::btree:
      return "btree";
    case IndexType::hash:
      return "hash";
    case IndexType::gin:
      return "gin";
    case IndexType::gist:
      return "gist";
    case IndexType::brin:
      return "brin";
  }
  return "btree";
}

std::optional<IndexType> index_type_from_string(std::string_view name) noexcept {
  for (IndexType t :
       {IndexType::btree, IndexType::hash, IndexType::gin, IndexType::gist, IndexType::brin}) {
    if (to_string(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view to_string(IndexAction action) noexcept {
  switch (action) {
    case IndexAction::created:
      return "created";
    case IndexAction::rebuilt:
      return "rebuilt";
    case IndexAction::already_present:
      return "already present";
    case IndexAction::dropped:
      return "dropped";
    case IndexAction::absent:
      return "absent";
  }
  return "unknown";
}

std::string IndexDefinition::index_name() const {
  if (!name.empty()) {
    validate_identifier(name);
    return name;
  }
  if (columns.empty()) throw UsageError("an index needs at least one column");
  std::string derived = detail::split_qualified(table).name;
  for (const std::string& column : columns) {
    derived += '_';
    derived += detail::parse_column_spec(column).name;
  }
  derived += "_idx";
  if (derived.size() <= 63) return derived;
  // Too long for PostgreSQL (63 bytes): keep a readable prefix and make it unique with a hash.
  const auto hash = XXH3_64bits(derived.data(), derived.size());
  return fmt::format("{}_{:08x}_idx", derived.substr(0, 50), static_cast<std::uint32_t>(hash));
}

std::string IndexDefinition::create_sql(Dialect dialect, bool if_not_exists) const {
  if (table.empty()) throw UsageError("an index needs a table");
  if (columns.empty())
    throw UsageError(fmt::format("an index on {} needs at least one column", table));
  const detail::QualifiedName target = detail::split_qualified(table);
  std::vector<std::string> keys;
  for (const std::string& column : columns) keys.push_back(detail::parse_column_spec(column).sql());
  std::vector<std::string> covering;
  for (const std::string& column : include)
    covering.push_back(quote_identifier(detail::unquote(column)));
  if (!where.empty()) detail::validate_predicate(where);
  const std::string index = quote_identifier(index_name());
  std::string sql = fmt::format("CREATE {}INDEX ", unique ? "UNIQUE " : "");
  if (dialect == Dialect::sqlite) {
    if (type != IndexType::btree) {
      throw UsageError(
          fmt::format("SQLite has only B-tree indexes; {} is PostgreSQL's", to_string(type)));
    }
    if (!include.empty())
      throw UsageError("SQLite has no covering columns (INCLUDE); add them to the key instead");
    // SQLite puts the schema on the index name and takes the table unqualified.
    sql += fmt::format("{}{}{} ON {} ({})", if_not_exists ? "IF NOT EXISTS " : "",
                       target.schema.empty() ? "" : quote_identifier(target.schema) + ".", index,
                       quote_identifier(target.name), fmt::join(keys, ", "));
  } else {
    sql += fmt::format("{}{}{} ON {} USING {} ({})", concurrently ? "CONCURRENTLY " : "",
                       if_not_exists ? "IF NOT EXISTS " : "", index,
                       detail::quote_qualified(target), to_string(type), fmt::join(keys, ", "));
    if (!covering.empty()) sql += fmt::format(" INCLUDE ({})", fmt::join(covering, ", "));
  }
  if (!where.empty()) sql += fmt::format(" WHERE ({})", where);
  return sql;
}

}  // namespace nexdb
