#include "optimizer/query_facts.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "nexdb/error.hpp"
#include "nexdb/sql_text.hpp"

namespace nexdb::detail {
namespace {

using Json = nlohmann::json;

void add_unique(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

/// The inner object of a node wrapper {"Type": {...}}, or nullptr.
const Json* node(const Json& j, const char* type) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(type);
  return it == j.end() ? nullptr : &*it;
}

std::string text_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The operator of an A_Expr: its last name part ("=", "<", "~~").
std::string operator_of(const Json& a_expr) {
  auto it = a_expr.find("name");
  if (it == a_expr.end() || !it->is_array() || it->empty()) return {};
  const Json* s = node(it->back(), "String");
  return s != nullptr ? text_of(*s, "sval") : std::string();
}

/// A plain column reference (a, t.a or s.t.a).
std::optional<ColumnName> column_of(const Json& j) {
  const Json* ref = node(j, "ColumnRef");
  if (ref == nullptr) return std::nullopt;
  std::vector<std::string> parts;
  for (const Json& field : ref->value("fields", Json::array())) {
    const Json* s = node(field, "String");
    if (s == nullptr) return std::nullopt;  // a.*
    parts.push_back(text_of(*s, "sval"));
  }
  if (parts.empty() || parts.size() > 3) return std::nullopt;
  ColumnName name{.qualifier = parts.size() >= 2 ? parts[parts.size() - 2] : std::string(),
                  .column = parts.back()};
  return name;
}

/// An expression that is a value at run time (a parameter, a constant, now(), $1 - interval ..).
bool is_value(const Json& j) {
  if (node(j, "ParamRef") || node(j, "A_Const") || node(j, "SQLValueFunction")) return true;
  if (const Json* cast = node(j, "TypeCast"))
    return cast->contains("arg") && is_value((*cast)["arg"]);
  if (const Json* call = node(j, "FuncCall")) {
    for (const Json& arg : call->value("args", Json::array())) {
      if (!is_value(arg)) return false;
    }
    return true;
  }
  if (const Json* expr = node(j, "A_Expr")) {
    return text_of(*expr, "kind") == "AEXPR_OP" &&
           (!expr->contains("lexpr") || is_value((*expr)["lexpr"])) && expr->contains("rexpr") &&
           is_value((*expr)["rexpr"]);
  }
  return false;
}

class Analyzer {
 public:
  explicit Analyzer(QueryFacts& facts) : facts_(facts) {}

  void run(const Json& tree) {
    collect_cte_names(tree);
    collect_relations(tree);
    const Json& stmts = tree.at("stmts");
    for (std::size_t i = 0; i < stmts.size(); ++i) {
      const Json& stmt = stmts[i].at("stmt");
      if (i == 0) facts_.kind = kind_of(stmt);
      classify_writes(stmt);
    }
    collect_blocks(tree);
  }

 private:
  static QueryFacts::Kind kind_of(const Json& stmt) {
    if (node(stmt, "SelectStmt")) return QueryFacts::Kind::select;
    if (node(stmt, "InsertStmt")) return QueryFacts::Kind::insert;
    if (node(stmt, "UpdateStmt")) return QueryFacts::Kind::update;
    if (node(stmt, "DeleteStmt")) return QueryFacts::Kind::delete_;
    return QueryFacts::Kind::other;
  }

  void collect_cte_names(const Json& j) {
    if (j.is_object()) {
      if (const Json* cte = node(j, "CommonTableExpr"))
        add_unique(cte_names_, text_of(*cte, "ctename"));
      for (const auto& item : j.items()) collect_cte_names(item.value());
    } else if (j.is_array()) {
      for (const Json& item : j) collect_cte_names(item);
    }
  }

  bool is_cte(const Json& range_var) const {
    return !range_var.contains("schemaname") &&
           std::find(cte_names_.begin(), cte_names_.end(), text_of(range_var, "relname")) !=
               cte_names_.end();
  }

  // Every RangeVar (wrapped, or a typed `relation` field) has a relname.
  void collect_relations(const Json& j) {
    if (j.is_object()) {
      if (j.contains("relname") && j["relname"].is_string() && !is_cte(j)) {
        add_unique(facts_.tables_read, j["relname"].get<std::string>());
      }
      for (const auto& item : j.items()) collect_relations(item.value());
    } else if (j.is_array()) {
      for (const Json& item : j) collect_relations(item);
    }
  }

  void classify_writes(const Json& stmt) {
    if (const Json* select = node(stmt, "SelectStmt")) {
      if (select->contains("intoClause")) facts_.writes_unknown = true;  // SELECT INTO
    } else if (const Json* truncate = node(stmt, "TruncateStmt")) {
      for (const Json& rel : truncate->value("relations", Json::array())) {
        if (const Json* rv = node(rel, "RangeVar"))
          add_unique(facts_.tables_written, text_of(*rv, "relname"));
      }
    } else if (!node(stmt, "InsertStmt") && !node(stmt, "UpdateStmt") &&
               !node(stmt, "DeleteStmt") && !node(stmt, "MergeStmt") &&
               !node(stmt, "ExplainStmt") && !node(stmt, "TransactionStmt") &&
               !node(stmt, "VariableSetStmt") && !node(stmt, "VariableShowStmt")) {
      facts_.writes_unknown = true;  // DDL, COPY, CALL, DO, ...
    }
    collect_write_targets(stmt);  // the statement itself and data-modifying CTEs
  }

  void collect_write_targets(const Json& j) {
    if (j.is_object()) {
      for (const char* type : {"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"}) {
        if (const Json* write = node(j, type); write != nullptr && write->contains("relation")) {
          add_unique(facts_.tables_written, text_of((*write)["relation"], "relname"));
        }
      }
      for (const auto& item : j.items()) collect_write_targets(item.value());
    } else if (j.is_array()) {
      for (const Json& item : j) collect_write_targets(item);
    }
  }

  // One block per SELECT level and per UPDATE/DELETE, wherever they are nested.
  void collect_blocks(const Json& j) {
    if (j.is_object()) {
      if (const Json* select = node(j, "SelectStmt")) add_select_block(*select);
      if (const Json* update = node(j, "UpdateStmt")) add_write_block(*update, "fromClause");
      if (const Json* del = node(j, "DeleteStmt")) add_write_block(*del, "usingClause");
      for (const auto& item : j.items()) collect_blocks(item.value());
    } else if (j.is_array()) {
      for (const Json& item : j) collect_blocks(item);
    }
  }

  void add_select_block(const Json& select) {
    if (select.contains("op") && text_of(select, "op") != "SETOP_NONE") {
      // UNION/INTERSECT/EXCEPT: the arms are SELECTs of their own (typed fields, not wrapped).
      for (const char* arm : {"larg", "rarg"}) {
        if (select.contains(arm)) add_select_block(select[arm]);
      }
      return;
    }
    if (!select.contains("fromClause")) return;
    QueryBlock block;
    for (const Json& item : select["fromClause"]) from_item(item, block);
    if (select.contains("whereClause")) condition(select["whereClause"], block);
    if (select.contains("sortClause")) order_by(select["sortClause"], block);
    block.has_limit = select.contains("limitCount");
    if (!block.sources.empty()) facts_.blocks.push_back(std::move(block));
  }

  void add_write_block(const Json& write, const char* from_key) {
    QueryBlock block;
    if (write.contains("relation")) add_source(write["relation"], block);
    for (const Json& item : write.value(from_key, Json::array())) from_item(item, block);
    if (write.contains("whereClause")) condition(write["whereClause"], block);
    if (!block.sources.empty()) facts_.blocks.push_back(std::move(block));
  }

  void add_source(const Json& range_var, QueryBlock& block) {
    if (is_cte(range_var)) return;
    QueryBlock::Source source{.schema = text_of(range_var, "schemaname"),
                              .table = text_of(range_var, "relname")};
    if (auto alias = range_var.find("alias"); alias != range_var.end())
      source.alias = text_of(*alias, "aliasname");
    block.sources.push_back(std::move(source));
  }

  void from_item(const Json& item, QueryBlock& block) {
    if (const Json* rv = node(item, "RangeVar")) {
      add_source(*rv, block);
    } else if (const Json* join = node(item, "JoinExpr")) {
      if (join->contains("larg")) from_item((*join)["larg"], block);
      if (join->contains("rarg")) from_item((*join)["rarg"], block);
      if (join->contains("quals")) condition((*join)["quals"], block);
    }
    // Subqueries in FROM are blocks of their own (collect_blocks finds them).
  }

  void condition(const Json& j, QueryBlock& block) {
    if (const Json* boolean = node(j, "BoolExpr")) {
      if (text_of(*boolean, "boolop") != "AND_EXPR") return;  // OR/NOT: no single index predicate
      for (const Json& arg : boolean->value("args", Json::array())) condition(arg, block);
    } else if (const Json* test = node(j, "NullTest")) {
      if (text_of(*test, "nulltesttype") != "IS_NULL" || !test->contains("arg")) return;
      if (auto col = column_of((*test)["arg"])) block.predicates.push_back({.column = *col});
    } else if (const Json* expr = node(j, "A_Expr")) {
      comparison(*expr, block);
    }
  }

  void comparison(const Json& expr, QueryBlock& block) {
    if (!expr.contains("lexpr") || !expr.contains("rexpr")) return;
    const std::string kind = text_of(expr, "kind");
    const std::string op = operator_of(expr);
    const Json& lhs = expr["lexpr"];
    const Json& rhs = expr["rexpr"];
    const auto left = column_of(lhs);
    using K = Predicate::Kind;
    if (kind == "AEXPR_IN" && op == "=" && left) {
      block.predicates.push_back({.kind = K::equality, .column = *left});
    } else if ((kind == "AEXPR_BETWEEN" || kind == "AEXPR_BETWEEN_SYM") && left) {
      block.predicates.push_back({.kind = K::range, .column = *left});
    } else if (kind == "AEXPR_LIKE" && op == "~~" && left && is_value(rhs)) {
      block.predicates.push_back({.kind = K::range, .column = *left});
    } else if (kind == "AEXPR_OP_ANY" && op == "=" && left && is_value(rhs)) {
      block.predicates.push_back({.kind = K::equality, .column = *left});
    } else if (kind == "AEXPR_OP") {
      const bool equality = op == "=";
      if (!equality && op != "<" && op != ">" && op != "<=" && op != ">=") return;
      const auto right = column_of(rhs);
      const K k = equality ? K::equality : K::range;
      if (left && right) {
        if (equality)
          block.predicates.push_back({.kind = K::join, .column = *left, .other = *right});
      } else if (left && is_value(rhs)) {
        block.predicates.push_back({.kind = k, .column = *left});
      } else if (right && is_value(lhs)) {
        block.predicates.push_back({.kind = k, .column = *right});
      }
    }
  }

  void order_by(const Json& sort_clause, QueryBlock& block) {
    std::vector<OrderColumn> order;
    for (const Json& item : sort_clause) {
      const Json* sort = node(item, "SortBy");
      if (sort == nullptr || !sort->contains("node")) return;
      auto col = column_of((*sort)["node"]);
      if (!col) return;  // an expression: no plain index delivers it
      order.push_back(
          {.column = *col, .descending = text_of(*sort, "sortby_dir") == "SORTBY_DESC"});
    }
    block.order = std::move(order);
  }

  QueryFacts& facts_;
  std::vector<std::string> cte_names_;
};

bool starts_with_select(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) ++i;
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++])));
  }
  return word == "SELECT" || word == "VALUES";
}

}  // namespace

std::string with_dollar_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int next = 1;
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {  // quoted: copy to the closing quote
      const std::size_t end = sql.find(c, i + 1);
      const std::size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, stop - i));
      i = stop;
    } else if (sql.substr(i, 2) == "--") {
      const std::size_t end = sql.find('\n', i);
      const std::size_t stop = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, stop - i));
      i = stop;
    } else if (sql.substr(i, 2) == "/*") {
      const std::size_t end = sql.find("*/", i + 2);
      const std::size_t stop = end == std::string_view::npos ? sql.size() : end + 2;
      out.append(sql.substr(i, stop - i));
      i = stop;
    } else if (c == '?') {
      std::size_t j = i + 1;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      int number = next;
      if (j > i + 1) number = std::stoi(std::string(sql.substr(i + 1, j - i - 1)));
      next = std::max(next, number + 1);
      out += '$';
      out += std::to_string(number);
      i = j;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

QueryFacts analyze_statement(std::string_view sql, Dialect dialect) {
  QueryFacts facts;
  try {
    const std::string text =
        dialect == Dialect::sqlite ? with_dollar_placeholders(sql) : std::string(sql);
    const Json tree = Json::parse(sql::parse_tree_json(text));
    Analyzer(facts).run(tree);
    facts.parsed = true;
  } catch (const std::exception&) {
    // SQL PostgreSQL's grammar rejects (SQLite-only syntax) or a tree we do not understand:
    // a plain SELECT writes nothing; anything else may write anything.
    facts = QueryFacts{};
    facts.kind = starts_with_select(sql) ? QueryFacts::Kind::select : QueryFacts::Kind::other;
    facts.writes_unknown = facts.kind != QueryFacts::Kind::select;
  }
  return facts;
}

}  // namespace nexdb::detail
