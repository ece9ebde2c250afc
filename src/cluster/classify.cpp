// Conservative classification of raw SQL for routing, on PostgreSQL's own parser (libpg_query).
// A wrong "read" would send a write to a replica (which refuses it) or a locking read away from
// the primary, so only statements that are plainly reads are reads: one SELECT (or VALUES,
// TABLE, SHOW) with no locking clause, no INTO, no data-modifying CTE and no call of a function
// that is not known to be free of side effects. Anything else, or text the parser rejects, is a
// write. Results are cached by text: raw SQL with bound parameters repeats.
#include <algorithm>
#include <array>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "nexdb/replica.hpp"
#include "nexdb/sql_text.hpp"

namespace nexdb {
namespace {

using Json = nlohmann::json;

// Built-in functions without side effects (aggregates, window, string, math, date/time, JSON,
// arrays, catalog and replication status). User-defined functions are not known, so a call of
// one is a write: it may modify data. Callers that know better use execute_read().
constexpr std::array<std::string_view, 96> read_functions{"count",
                                                          "sum",
                                                          "avg",
                                                          "min",
                                                          "max",
                                                          "every",
                                                          "bool_and",
                                                          "bool_or",
                                                          "bit_and",
                                                          "bit_or",
                                                          "stddev",
                                                          "stddev_pop",
                                                          "stddev_samp",
                                                          "variance",
                                                          "var_pop",
                                                          "var_samp",
                                                          "corr",
                                                          "covar_pop",
                                                          "covar_samp",
                                                          "percentile_cont",
                                                          "percentile_disc",
                                                          "mode",
                                                          "rank",
                                                          "dense_rank",
                                                          "row_number",
                                                          "percent_rank",
                                                          "cume_dist",
                                                          "ntile",
                                                          "lag",
                                                          "lead",
                                                          "first_value",
                                                          "last_value",
                                                          "nth_value",
                                                          "abs",
                                                          "ceil",
                                                          "ceiling",
                                                          "floor",
                                                          "round",
                                                          "trunc",
                                                          "sqrt",
                                                          "cbrt",
                                                          "power",
                                                          "mod",
                                                          "ln",
                                                          "log",
                                                          "exp",
                                                          "sign",
                                                          "div",
                                                          "random",
                                                          "width_bucket",
                                                          "lower",
                                                          "upper",
                                                          "length",
                                                          "char_length",
                                                          "octet_length",
                                                          "bit_length",
                                                          "substring",
                                                          "substr",
                                                          "trim",
                                                          "btrim",
                                                          "ltrim",
                                                          "rtrim",
                                                          "replace",
                                                          "translate",
                                                          "concat",
                                                          "concat_ws",
                                                          "left",
                                                          "right",
                                                          "lpad",
                                                          "rpad",
                                                          "position",
                                                          "strpos",
                                                          "split_part",
                                                          "format",
                                                          "md5",
                                                          "sha224",
                                                          "sha256",
                                                          "sha384",
                                                          "sha512",
                                                          "encode",
                                                          "decode",
                                                          "initcap",
                                                          "reverse",
                                                          "repeat",
                                                          "starts_with",
                                                          "ascii",
                                                          "chr",
                                                          "now",
                                                          "age",
                                                          "timezone",
                                                          "extract",
                                                          "overlaps",
                                                          "clock_timestamp",
                                                          "statement_timestamp",
                                                          "transaction_timestamp",
                                                          "isfinite"};
constexpr std::array<std::string_view, 30> read_function_prefixes{"array_",
                                                                  "string_",
                                                                  "json",
                                                                  "regexp_",
                                                                  "to_",
                                                                  "date_",
                                                                  "make_",
                                                                  "justify_",
                                                                  "regr_",
                                                                  "generate_",
                                                                  "unnest",
                                                                  "cardinality",
                                                                  "quote_",
                                                                  "format_type",
                                                                  "pg_get_",
                                                                  "pg_size_",
                                                                  "pg_relation_size",
                                                                  "pg_total_relation_size",
                                                                  "pg_table_size",
                                                                  "pg_indexes_size",
                                                                  "pg_database_size",
                                                                  "pg_is_in_recovery",
                                                                  "pg_last_",
                                                                  "pg_current_wal",
                                                                  "pg_wal_lsn_diff",
                                                                  "pg_backend_pid",
                                                                  "inet_",
                                                                  "has_",
                                                                  "current_setting",
                                                                  "version"};

// Nodes that make any statement containing them a write.
constexpr std::array<std::string_view, 5> write_nodes{"InsertStmt", "UpdateStmt", "DeleteStmt",
                                                      "MergeStmt", "LockingClause"};

bool known_read_function(const Json& funcname) {
  if (!funcname.is_array() || funcname.empty()) return false;
  std::string name;
  for (const Json& part : funcname) {  // schema-qualified: only pg_catalog's are known
    const Json& text = part.contains("String") ? part["String"] : Json();
    std::string value = text.is_object() ? text.value("sval", text.value("str", "")) : "";
    if (!name.empty() && name != "pg_catalog") return false;
    name = std::move(value);
  }
  if (std::find(read_functions.begin(), read_functions.end(), name) != read_functions.end()) {
    return true;
  }
  return std::any_of(read_function_prefixes.begin(), read_function_prefixes.end(),
                     [&](std::string_view prefix) { return name.starts_with(prefix); });
}

// True when anything under `node` writes, locks or calls an unknown function.
bool writes(const Json& node) {
  if (node.is_array()) return std::any_of(node.begin(), node.end(), writes);
  if (!node.is_object()) return false;
  for (const auto& [key, value] : node.items()) {
    if (std::find(write_nodes.begin(), write_nodes.end(), key) != write_nodes.end()) return true;
    if (key == "intoClause" && !value.is_null()) return true;  // SELECT INTO creates a table
    if (key == "FuncCall" && !known_read_function(value.value("funcname", Json()))) return true;
    if (writes(value)) return true;
  }
  return false;
}

StatementKind classify_parsed(std::string_view sql) {
  const Json tree = Json::parse(sql::parse_tree_json(sql));
  const Json& statements = tree.at("stmts");
  if (statements.size() != 1) return StatementKind::write;  // none, or several
  const Json& statement = statements[0].at("stmt");
  if (statement.contains("VariableShowStmt")) return StatementKind::read;
  if (!statement.contains("SelectStmt")) return StatementKind::write;
  return writes(statement) ? StatementKind::write : StatementKind::read;
}

// Raw SQL is classified once per distinct text; the cache is emptied when full rather than
// tracking recency (applications have a bounded set of statements).
class ClassificationCache {
 public:
  StatementKind classify(std::string_view sql) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = kinds_.find(sql); it != kinds_.end()) return it->second;
    }
    StatementKind kind = StatementKind::write;
    try {
      kind = classify_parsed(sql);
    } catch (...) {  // a syntax error PostgreSQL's parser reports, or out of memory: unsure
      kind = StatementKind::write;
    }
    std::lock_guard lock(mutex_);
    if (kinds_.size() >= kCapacity) kinds_.clear();
    kinds_.emplace(std::string(sql), kind);
    return kind;
  }

 private:
  static constexpr std::size_t kCapacity = 4096;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::mutex mutex_;
  std::unordered_map<std::string, StatementKind, Hash, std::equal_to<>> kinds_;
};

}  // namespace

StatementKind classify_sql(std::string_view sql) noexcept {
  try {
    static ClassificationCache cache;
    return cache.classify(sql);
  } catch (...) {
    return StatementKind::write;  // out of memory: the safe answer
  }
}

}  // namespace nexdb
