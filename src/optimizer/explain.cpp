// EXPLAIN on both backends, parsed into PlanNode trees.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "nexdb/error.hpp"
#include "nexdb/sql_text.hpp"
#include "optimizer/plans.hpp"
#include "optimizer/query_facts.hpp"

namespace nexdb {
namespace detail {
namespace {

using Json = nlohmann::json;

std::string join_json(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array()) return value.dump();
  std::string out;
  for (const Json& item : value) {
    if (!out.empty()) out += ", ";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

PlanNode postgres_node(const Json& j) {
  PlanNode node;
  node.operation = j.value("Node Type", "");
  node.relation = j.value("Relation Name", "");
  node.index = j.value("Index Name", "");
  node.startup_cost = j.value("Startup Cost", 0.0);
  node.total_cost = j.value("Total Cost", 0.0);
  node.rows = j.value("Plan Rows", 0.0);
  std::string detail;
  for (const char* key : {"Join Type", "Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond",
                          "Join Filter", "Filter", "Sort Key", "Group Key"}) {
    auto it = j.find(key);
    if (it == j.end() || (std::string_view(key) == "Join Type" && *it == "Inner")) continue;
    if (!detail.empty()) detail += "; ";
    detail += fmt::format("{}: {}", key, join_json(*it));
  }
  node.detail = std::move(detail);
  node.schema = j.value("Schema", "");
  for (const Json& child : j.value("Plans", Json::array()))
    node.children.push_back(postgres_node(child));
  return node;
}

/// "SCAN orders USING COVERING INDEX ix (a=?)" -> operation SCAN, relation, index.
PlanNode sqlite_node(const std::string& detail, const std::map<std::string, std::string>& aliases) {
  PlanNode node;
  node.detail = detail;
  std::string_view rest(detail);
  auto take_word = [&] {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const std::size_t end = std::min(rest.find(' '), rest.size());
    std::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    return word;
  };
  const std::string_view first = take_word();
  if (first != "SCAN" && first != "SEARCH") {
    // "USE TEMP B-TREE FOR ORDER BY", "CO-ROUTINE (subquery-1)", "LIST SUBQUERY 1", ...
    const std::size_t cut = detail.find(" FOR ");
    node.operation = cut == std::string::npos ? detail : detail.substr(0, cut);
    return node;
  }
  node.operation = std::string(first);
  std::string_view name = take_word();
  if (name == "TABLE") name = take_word();  // SQLite before 3.36: "SCAN TABLE orders AS o"
  std::string relation(name);
  if (rest.starts_with(" AS ")) {
    rest.remove_prefix(4);
    relation = std::string(take_word());
  }
  if (!relation.starts_with("(") && relation != "CONSTANT") {
    auto alias = aliases.find(relation);
    node.relation = alias != aliases.end() ? alias->second : relation;
  }
  if (auto at = rest.find("USING "); at != std::string_view::npos) {
    std::string_view using_part = rest.substr(at + 6);
    if (using_part.starts_with("INTEGER PRIMARY KEY")) {
      node.index = "INTEGER PRIMARY KEY";
    } else if (auto index_at = using_part.find("INDEX "); index_at != std::string_view::npos) {
      std::string_view index = using_part.substr(index_at + 6);
      index = index.substr(0, std::min(index.find(' '), index.size()));
      // "USING AUTOMATIC COVERING INDEX (x=?)": built at run time, has no name.
      node.index = index.starts_with("(") ? std::string("AUTOMATIC") : std::string(index);
    }
  }
  return node;
}

std::size_t parameter_count(std::string_view sql) {
  // $n placeholders outside quotes: what PREPARE will ask values for.
  std::size_t highest = 0;
  const std::string text = with_dollar_placeholders(sql);  // also skips quoted text
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$' || !std::isdigit(static_cast<unsigned char>(text[i + 1]))) continue;
    if (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_'))
      continue;
    std::size_t j = i + 1;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    highest = std::max<std::size_t>(highest, std::stoul(text.substr(i + 1, j - i - 1)));
  }
  return highest;
}

}  // namespace

Plan parse_postgres_plan(std::string json) {
  const Json doc = Json::parse(json);
  if (!doc.is_array() || doc.empty() || !doc[0].contains("Plan")) {
    throw Error("EXPLAIN (FORMAT JSON) returned an unexpected document");
  }
  return Plan{
      .dialect = Dialect::postgres, .root = postgres_node(doc[0]["Plan"]), .raw = std::move(json)};
}

Plan parse_sqlite_plan(const Rows& rows, const std::map<std::string, std::string>& aliases) {
  // Each row names its parent (0: the top level); parents come before their children.
  Plan plan{.dialect = Dialect::sqlite, .root = PlanNode{.operation = "QUERY PLAN"}};
  std::map<std::int64_t, PlanNode> nodes;
  std::map<std::int64_t, std::vector<std::int64_t>> children;
  for (Row row : rows) {
    const auto id = row.get<std::int64_t>(0);
    const auto parent = row.get<std::int64_t>(1);
    const auto detail = row.get<std::string>(3);
    plan.raw += fmt::format("{}|{}|{}\n", id, parent, detail);
    nodes.emplace(id, sqlite_node(detail, aliases));
    if (parent < id) children[parent].push_back(id);
  }
  const auto attach = [&](auto& self, PlanNode& into, std::int64_t id) -> void {
    for (std::int64_t child : children[id]) {
      PlanNode node = std::move(nodes.at(child));
      self(self, node, child);
      into.children.push_back(std::move(node));
    }
  };
  attach(attach, plan.root, 0);
  return plan;
}

std::string group_thousands(double value) {
  const auto n = static_cast<long long>(value < 0 ? 0 : value + 0.5);
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace detail

Plan explain_generic(Connection& connection, std::string_view sql) {
  if (connection.dialect() != Dialect::postgres) {
    throw UsageError("generic plans (statements without their values) exist on PostgreSQL only");
  }
  if (sql::split_statements(sql).size() != 1)
    throw UsageError("explain takes exactly one statement");
  struct Restore {
    Connection& c;
    ~Restore() {
      try {
        c.execute_script("DEALLOCATE nexdb_generic_plan; RESET plan_cache_mode");
      } catch (const std::exception&) {  // the statement may not exist: PREPARE failed
        try {
          c.execute_script("RESET plan_cache_mode");
        } catch (const std::exception&) {
        }
      }
    }
  };
  connection.execute_script("SET plan_cache_mode = force_generic_plan");
  Restore restore{connection};
  connection.execute_script(fmt::format("PREPARE nexdb_generic_plan AS {}", sql));
  std::string nulls;
  for (std::size_t i = 0, n = detail::parameter_count(sql); i < n; ++i)
    nulls += i == 0 ? "NULL" : ", NULL";
  const std::string execute = nulls.empty() ? "EXECUTE nexdb_generic_plan"
                                            : fmt::format("EXECUTE nexdb_generic_plan({})", nulls);
  const Rows rows = connection.execute(Statement{"EXPLAIN (FORMAT JSON, VERBOSE) " + execute, {}});
  return detail::parse_postgres_plan(rows.scalar<std::string>());
}

Plan explain(Connection& connection, const Statement& statement) {
  if (connection.dialect() == Dialect::postgres) {
    const Rows rows = connection.execute(
        Statement{"EXPLAIN (FORMAT JSON, VERBOSE) " + statement.sql, statement.params});
    return detail::parse_postgres_plan(rows.scalar<std::string>());
  }
  const Rows rows =
      connection.execute(Statement{"EXPLAIN QUERY PLAN " + statement.sql, statement.params});
  std::map<std::string, std::string> aliases;
  for (const auto& block : detail::analyze_statement(statement.sql, Dialect::sqlite).blocks) {
    for (const auto& source : block.sources) {
      if (!source.alias.empty()) aliases[source.alias] = source.table;
    }
  }
  return detail::parse_sqlite_plan(rows, aliases);
}

}  // namespace nexdb
