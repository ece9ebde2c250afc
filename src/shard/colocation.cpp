// Whether a statement can be answered shard by shard: every scope (the statement, its joins,
// subqueries and CTEs) must read sharded rows that live together.
//
// Each shard runs the statement over its own rows of the sharded tables and a whole copy of the
// reference tables. That is the unsharded answer, or a part of it that the merge completes, when
// in every scope
//   * the sharded relations are joined on their shard keys (a.user_id = b.user_id, USING, or both
//     equal to one value), in the WHERE or a JOIN's ON, as conditions every row must meet: rows
//     joined then have one key, so they are on one shard;
//   * a subquery (in an expression, or LATERAL) reading sharded rows is tied to an outer sharded
//     relation the same way (o.user_id = u.id), or is `key IN (subquery)` over a subquery that
//     selects the key and whose result is split by shard;
//   * a subquery in FROM or a CTE reading sharded rows has a result that is split by shard: no
//     aggregate unless grouped by the key, no DISTINCT without the key, no window function unless
//     partitioned by the key, no LIMIT / OFFSET.
// Otherwise the statement is refused (when the shard map has several clusters) with the reason.
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <map>
#include <set>

#include "shard/analysis.hpp"

namespace nexdb::shard_detail {
namespace {

struct Refused {
  std::string why;
};
[[noreturn]] void refuse(std::string why) { throw Refused{std::move(why)}; }

constexpr int kNoDepth = INT_MAX;  // value nodes belong to no scope

// Relations (and the values they are pinned to) joined by key equality: union-find. Copied into
// each subquery, so that what a subquery's conditions imply stays inside it.
class Classes {
 public:
  std::size_t add(int depth) {
    parent_.push_back(parent_.size());
    depth_.push_back(depth);
    return parent_.size() - 1;
  }
  std::size_t value(const std::string& name) {
    auto [it, fresh] = values_.emplace(name, 0);
    if (fresh) it->second = add(kNoDepth);
    return it->second;
  }
  std::size_t find(std::size_t n) {
    while (parent_[n] != n) n = parent_[n] = parent_[parent_[n]];
    return n;
  }
  void join(std::size_t a, std::size_t b) { parent_[find(a)] = find(b); }
  /// Nodes of scopes outside `depth` in the class of `n`.
  std::set<std::size_t> outer_nodes(std::size_t n, int depth) {
    std::set<std::size_t> out;
    const std::size_t root = find(n);
    for (std::size_t i = 0; i < parent_.size(); ++i) {
      if (depth_[i] < depth && find(i) == root) out.insert(i);
    }
    return out;
  }

 private:
  std::vector<std::size_t> parent_;
  std::vector<int> depth_;
  std::map<std::string, std::size_t> values_;
};

struct Relation {
  std::string name{};   // what qualifies its columns: the alias, else the table's name
  std::string table{};  // the table (or CTE) it reads, for messages
  bool sharded = false;
  std::vector<std::string> keys{};  // its columns holding the shard key
  std::size_t node = npos;
};

// What a query (or subquery) is, seen from the scope around it.
struct Shape {
  bool own_sharded = false;          // its own FROM reads sharded rows
  bool own_attached = false;         // ... tied by key to a relation outside it
  bool partitioned = false;          // its result is the union of the shards' disjoint parts
  std::set<std::size_t> attached{};  // relations outside it that it is tied to
  std::vector<std::string> keys{};   // output columns holding the key
  std::string tables{};              // the sharded tables it reads, for messages
  bool reads_sharded() const { return own_sharded || !attached.empty(); }
};

struct Scope {
  const Scope* outer = nullptr;   // where column references continue (correlation)
  const Scope* parent = nullptr;  // where CTE names continue
  int depth = 0;
  std::vector<Relation> relations{};
  std::vector<std::pair<std::string, Shape>> ctes{};
  std::set<std::size_t> attached{};  // outer relations nested subqueries are tied to
};

std::vector<std::string_view> names_of(const PgQuery__ColumnRef* ref) {
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < ref->n_fields; ++i) {
    if (ref->fields[i]->node_case != PG_QUERY__NODE__NODE_STRING) return {};  // t.*
    names.push_back(string_of(ref->fields[i]));
  }
  return names;
}

bool has_key(const Relation& r, std::string_view column) {
  return r.sharded && std::any_of(r.keys.begin(), r.keys.end(),
                                  [&](const std::string& k) { return same_name(k, column); });
}

void conjuncts(const Node* node, std::vector<const Node*>& out) {
  if (node == nullptr) return;
  if (node->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
      node->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR) {
    for (std::size_t i = 0; i < node->bool_expr->n_args; ++i)
      conjuncts(node->bool_expr->args[i], out);
    return;
  }
  out.push_back(node);
}

std::string join_names(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) {
    if (std::find(quoted.begin(), quoted.end(), n) == quoted.end()) quoted.push_back(n);
  }
  return fmt::format("{}", fmt::join(quoted, ", "));
}

class Colocation {
 public:
  explicit Colocation(const ShardConfig& shards) : shards_(shards) {}

  Shape query(const PgQuery__SelectStmt& s, const Scope* outer, const Scope* parent,
              Classes classes, Scope* keep = nullptr) {
    if (s.op != PG_QUERY__SET_OPERATION__SETOP_NONE)
      return set_operation(s, outer, parent, classes);
    Scope sc{.outer = outer, .parent = parent, .depth = outer != nullptr ? outer->depth + 1 : 0};
    if (s.with_clause != nullptr) add_ctes(*s.with_clause, sc, classes);
    std::vector<const Node*> quals;
    std::vector<const Node*> expressions;
    for (std::size_t i = 0; i < s.n_from_clause; ++i)
      add_from(s.from_clause[i], sc, classes, quals, expressions);
    conjuncts(s.where_clause, quals);
    for (const Node* q : quals) join_equal(q, sc, classes);
    expressions.insert(expressions.end(), quals.begin(), quals.end());
    add_expressions(s, expressions);
    for (const Node* e : expressions) subqueries(e, sc, classes);
    Shape shape = finish(sc, classes);
    if (shape.own_sharded && !shape.own_attached) {
      const std::size_t root = classes.find(sharded_node(sc));
      shape.partitioned = split_by_shard(s, sc, classes, root);
      shape.keys = key_outputs(s, sc, classes, root);
    }
    if (keep != nullptr) *keep = std::move(sc);
    return shape;
  }

  // UPDATE / DELETE: the target and the FROM / USING relations in one scope (INSERT: no target,
  // only the expressions of its VALUES).
  Shape write(const PgQuery__RangeVar* target, Node* const* from, std::size_t n_from,
              const Node* where, const std::vector<const Node*>& expressions, Scope& sc) {
    Classes classes;
    if (target != nullptr) add_table(target, sc, classes);
    std::vector<const Node*> quals;
    std::vector<const Node*> more = expressions;
    for (std::size_t i = 0; i < n_from; ++i) add_from(from[i], sc, classes, quals, more);
    conjuncts(where, quals);
    for (const Node* q : quals) join_equal(q, sc, classes);
    more.insert(more.end(), quals.begin(), quals.end());
    for (const Node* e : more) subqueries(e, sc, classes);
    return finish(sc, classes);
  }

 private:
  Shape set_operation(const PgQuery__SelectStmt& s, const Scope* outer, const Scope* parent,
                      const Classes& classes) {
    const Shape left = query(*s.larg, outer, parent, classes);
    const Shape right = query(*s.rarg, outer, parent, classes);
    Shape out;
    out.own_sharded = left.own_sharded || right.own_sharded;
    out.own_attached = (!left.own_sharded || left.own_attached) &&
                       (!right.own_sharded || right.own_attached) && out.own_sharded;
    out.attached = left.attached;
    out.attached.insert(right.attached.begin(), right.attached.end());
    // UNION ALL of two parts split by shard is split by shard; a copy on every shard is not.
    out.partitioned = s.op == PG_QUERY__SET_OPERATION__SETOP_UNION && s.all && left.partitioned &&
                      right.partitioned && s.limit_count == nullptr && s.limit_offset == nullptr;
    out.tables = left.tables.empty() ? right.tables : left.tables;
    return out;
  }

  void add_ctes(const PgQuery__WithClause& with, Scope& sc, const Classes& classes) {
    for (std::size_t i = 0; i < with.n_ctes; ++i) {
      const PgQuery__CommonTableExpr& cte = *with.ctes[i]->common_table_expr;
      const Node* body = cte.ctequery;
      if (body == nullptr || body->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) continue;
      if (with.recursive) sc.ctes.emplace_back(cte.ctename, Shape{});  // itself: not sharded
      Shape shape = query(*body->select_stmt, sc.outer, &sc, classes);
      if (with.recursive && shape.reads_sharded()) {
        refuse(
            fmt::format("WITH RECURSIVE {} reads sharded tables ({}), which no shard can "
                        "recurse over alone",
                        cte.ctename, shape.tables));
      }
      shape.keys = renamed(shape.keys, *body->select_stmt, cte.aliascolnames, cte.n_aliascolnames);
      std::erase_if(sc.ctes, [&](const auto& c) { return same_name(c.first, cte.ctename); });
      sc.ctes.emplace_back(cte.ctename, std::move(shape));
    }
  }

  // Output names after `name(a, b)` column aliases; keys past a * cannot be placed.
  static std::vector<std::string> renamed(std::vector<std::string> keys,
                                          const PgQuery__SelectStmt& s, Node* const* aliases,
                                          std::size_t n_aliases) {
    if (n_aliases == 0) return keys;
    std::vector<std::string> out;
    for (std::size_t i = 0; i < s.n_target_list && i < n_aliases; ++i) {
      const PgQuery__ResTarget* t = s.target_list[i]->res_target;
      if (t->val != nullptr && t->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
          names_of(t->val->column_ref).empty())
        break;  // a *
      const std::string name = output_name(t);
      if (std::find(keys.begin(), keys.end(), name) != keys.end())
        out.emplace_back(string_of(aliases[i]));
    }
    return out;
  }

  static std::string output_name(const PgQuery__ResTarget* t) {
    if (t->name != nullptr && t->name[0] != '\0') return t->name;
    if (t->val != nullptr && t->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      const auto names = names_of(t->val->column_ref);
      if (!names.empty()) return std::string(names.back());
    }
    return {};
  }

  const Shape* find_cte(const Scope* sc, std::string_view name) const {
    for (; sc != nullptr; sc = sc->parent) {
      for (auto it = sc->ctes.rbegin(); it != sc->ctes.rend(); ++it) {
        if (same_name(it->first, name)) return &it->second;
      }
    }
    return nullptr;
  }

  void add_relation(Relation r, Scope& sc, Classes& classes) {
    if (r.sharded) r.node = classes.add(sc.depth);
    sc.relations.push_back(std::move(r));
  }

  // A relation that is a subquery's (or CTE's) result, as its shape makes it: rows split by
  // shard, rows tied to an outer row's key (correlated), or the same rows on every shard.
  void add_derived(const Shape& shape, std::string name, Scope& sc, Classes& classes) {
    sc.attached.insert(shape.attached.begin(), shape.attached.end());
    Relation r{.name = std::move(name), .table = shape.tables};
    if (shape.own_sharded && !shape.own_attached) {
      if (!shape.partitioned) {
        refuse(fmt::format(
            "{} reads sharded rows ({}) and aggregates, de-duplicates, ranks or limits them "
            "without the shard key, so each shard's result is not a part of the whole; group by "
            "the shard key, move it to a query of its own, or pin it to one shard",
            r.name.empty() ? std::string("a subquery in FROM") : "\"" + r.name + "\"",
            shape.tables));
      }
      r.sharded = true;
      r.keys = shape.keys;
    }
    add_relation(std::move(r), sc, classes);
  }

  void add_table(const PgQuery__RangeVar* range, Scope& sc, Classes& classes) {
    const std::string alias = range->alias != nullptr ? range->alias->aliasname : "";
    const bool plain = range->schemaname == nullptr || range->schemaname[0] == '\0';
    if (plain) {
      if (const Shape* cte = find_cte(&sc, range->relname)) {
        add_derived(*cte, alias.empty() ? range->relname : alias, sc, classes);
        return;
      }
    }
    Relation r{.name = alias.empty() ? range->relname : alias, .table = range->relname};
    if (!shards_.is_reference(range->relname)) {
      r.sharded = true;
      r.keys = {std::string(shards_.key_column(range->relname))};
    }
    add_relation(std::move(r), sc, classes);
  }

  void add_from(const Node* node, Scope& sc, Classes& classes, std::vector<const Node*>& quals,
                std::vector<const Node*>& expressions) {
    switch (node->node_case) {
      case PG_QUERY__NODE__NODE_RANGE_VAR:
        add_table(node->range_var, sc, classes);
        return;
      case PG_QUERY__NODE__NODE_RANGE_TABLE_SAMPLE:
        add_from(node->range_table_sample->relation, sc, classes, quals, expressions);
        return;
      case PG_QUERY__NODE__NODE_JOIN_EXPR:
        add_join(*node->join_expr, sc, classes, quals, expressions);
        return;
      case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        const PgQuery__RangeSubselect& sub = *node->range_subselect;
        if (sub.subquery == nullptr || sub.subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
          refuse("a subquery in FROM could not be read");
        // LATERAL sees the relations before it; a plain subquery only the scopes outside.
        Shape shape = query(*sub.subquery->select_stmt, sub.lateral ? &sc : sc.outer, &sc, classes);
        if (sub.alias != nullptr) {
          shape.keys = renamed(shape.keys, *sub.subquery->select_stmt, sub.alias->colnames,
                               sub.alias->n_colnames);
        }
        add_derived(shape, sub.alias != nullptr ? sub.alias->aliasname : "", sc, classes);
        return;
      }
      case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
        const auto& f = *node->range_function;
        for (std::size_t i = 0; i < f.n_functions; ++i) expressions.push_back(f.functions[i]);
        add_relation({.name = f.alias != nullptr ? f.alias->aliasname : ""}, sc, classes);
        return;
      }
      default:
        refuse("a FROM item of this kind is not analysed for sharding");
    }
  }

  void add_join(const PgQuery__JoinExpr& join, Scope& sc, Classes& classes,
                std::vector<const Node*>& quals, std::vector<const Node*>& expressions) {
    const std::size_t first = sc.relations.size();
    add_from(join.larg, sc, classes, quals, expressions);
    const std::size_t middle = sc.relations.size();
    add_from(join.rarg, sc, classes, quals, expressions);
    conjuncts(join.quals, quals);
    // USING (k) and NATURAL join the two sides on columns they share.
    std::vector<std::string> shared;
    for (std::size_t i = 0; i < join.n_using_clause; ++i)
      shared.emplace_back(string_of(join.using_clause[i]));
    for (std::size_t l = first; l < middle; ++l) {
      for (std::size_t r = middle; r < sc.relations.size(); ++r) {
        const Relation& a = sc.relations[l];
        const Relation& b = sc.relations[r];
        if (!a.sharded || !b.sharded) continue;
        for (const auto& key : a.keys) {
          const bool named = join.is_natural ||
                             std::any_of(shared.begin(), shared.end(),
                                         [&](const std::string& u) { return same_name(u, key); });
          if (named && has_key(b, key)) classes.join(a.node, b.node);
        }
      }
    }
  }

  // The relation node a column reference is the shard key of, if it is one.
  std::optional<std::size_t> key_node(const Node* node, const Scope& sc) const {
    node = without_casts(node);
    if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return std::nullopt;
    const auto names = names_of(node->column_ref);
    if (names.empty()) return std::nullopt;
    const std::string_view column = names.back();
    if (names.size() == 1) {
      // Unqualified: a key of exactly one relation of this scope. (Outer scopes are not
      // searched: the name may be a column of this scope that is not a key.)
      std::optional<std::size_t> found;
      for (const Relation& r : sc.relations) {
        if (!has_key(r, column)) continue;
        if (found) return std::nullopt;
        found = r.node;
      }
      return found;
    }
    const std::string_view qualifier = names[names.size() - 2];
    for (const Scope* s = &sc; s != nullptr; s = s->outer) {
      for (const Relation& r : s->relations) {
        if (same_name(r.name, qualifier)) {
          return has_key(r, column) ? std::optional(r.node) : std::nullopt;
        }
      }
    }
    return std::nullopt;
  }

  // A side of `key = ...`: a key column, or a constant or parameter it is pinned to.
  std::optional<std::size_t> join_side(const Node* node, const Scope& sc, Classes& classes) const {
    if (auto key = key_node(node, sc)) return key;
    const Node* bare = without_casts(node);
    if (bare == nullptr) return std::nullopt;
    if (bare->node_case == PG_QUERY__NODE__NODE_PARAM_REF)
      return classes.value(fmt::format("${}", bare->param_ref->number));
    if (bare->node_case == PG_QUERY__NODE__NODE_A_CONST) {
      if (auto v = constant_value(bare->a_const); v && !v->is_null())
        return classes.value(
            fmt::format("{}:{}", static_cast<int>(v->type()), v->to_display_string()));
    }
    return std::nullopt;
  }

  void join_equal(const Node* node, const Scope& sc, Classes& classes) const {
    if (node->node_case != PG_QUERY__NODE__NODE_A_EXPR) return;
    const PgQuery__AExpr& e = *node->a_expr;
    if (e.kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || last_name(e.name, e.n_name) != "=") return;
    const auto a = join_side(e.lexpr, sc, classes);
    const auto b = join_side(e.rexpr, sc, classes);
    if (a && b) classes.join(*a, *b);
  }

  static void add_expressions(const PgQuery__SelectStmt& s, std::vector<const Node*>& out) {
    for (std::size_t i = 0; i < s.n_target_list; ++i) out.push_back(s.target_list[i]);
    for (std::size_t i = 0; i < s.n_group_clause; ++i) out.push_back(s.group_clause[i]);
    for (std::size_t i = 0; i < s.n_sort_clause; ++i) out.push_back(s.sort_clause[i]);
    for (std::size_t i = 0; i < s.n_distinct_clause; ++i) out.push_back(s.distinct_clause[i]);
    for (std::size_t i = 0; i < s.n_window_clause; ++i) out.push_back(s.window_clause[i]);
    for (std::size_t i = 0; i < s.n_values_lists; ++i) out.push_back(s.values_lists[i]);
    for (const Node* n : {s.having_clause, s.limit_count, s.limit_offset}) {
      if (n != nullptr) out.push_back(n);
    }
  }

  // Every subquery in an expression (not those inside it: they belong to it).
  void subqueries(const Node* node, Scope& sc, Classes& classes) {
    if (node == nullptr) return;
    if (node->node_case == PG_QUERY__NODE__NODE_SUB_LINK) {
      subquery(*node->sub_link, sc, classes);
      return;
    }
    walk(&node->base, [&](const Node* child) {
      if (child->node_case != PG_QUERY__NODE__NODE_SUB_LINK) return true;
      subquery(*child->sub_link, sc, classes);
      return false;
    });
  }

  void subquery(const PgQuery__SubLink& link, Scope& sc, Classes& classes) {
    subqueries(link.testexpr, sc, classes);
    if (link.subselect == nullptr || link.subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
      return;
    const PgQuery__SelectStmt& inner = *link.subselect->select_stmt;
    const Shape shape = query(inner, &sc, &sc, classes);
    sc.attached.insert(shape.attached.begin(), shape.attached.end());
    if (!shape.own_sharded || shape.own_attached) return;
    // `key IN (SELECT key ...)`: tied by the key the subquery selects, if its result is split
    // by shard.
    const bool in_list =
        link.sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK &&
        (link.n_oper_name == 0 || last_name(link.oper_name, link.n_oper_name) == "=");
    if (in_list && shape.partitioned && inner.n_target_list == 1) {
      const auto outer_key = key_node(link.testexpr, sc);
      const std::string selected = output_name(inner.target_list[0]->res_target);
      if (outer_key &&
          std::find(shape.keys.begin(), shape.keys.end(), selected) != shape.keys.end()) {
        sc.attached.insert(*outer_key);
        return;
      }
    }
    refuse(fmt::format(
        "a subquery reads sharded rows ({1}) without being tied to the outer query's rows by the "
        "shard key (WHERE inner.{0} = outer.{0}, or outer.{0} IN (SELECT {0} ...)), so on each "
        "shard it would see only that shard's rows; correlate it on the key, or run it as a "
        "query of its own",
        shards_.shard_key, shape.tables));
  }

  static std::size_t sharded_node(const Scope& sc) {
    for (const Relation& r : sc.relations) {
      if (r.sharded) return r.node;
    }
    return npos;
  }

  // The scope's sharded relations must form one class; what it is tied to outside.
  Shape finish(Scope& sc, Classes& classes) const {
    Shape shape;
    std::vector<std::string> tables;
    const std::size_t first = sharded_node(sc);
    for (const Relation& r : sc.relations) {
      if (!r.sharded) continue;
      tables.push_back(r.table.empty() ? r.name : r.table);
      if (classes.find(r.node) == classes.find(first)) continue;
      const Relation& a = *std::find_if(sc.relations.begin(), sc.relations.end(),
                                        [](const Relation& x) { return x.sharded; });
      refuse(fmt::format(
          "{} and {} are not joined on their shard keys ({}.{} = {}.{}), so rows they join may "
          "be on different shards; join them on the key, declare the one copied to every shard "
          "in reference_tables, or run the query per shard with execute_on()",
          a.name, r.name, a.name, a.keys.empty() ? "?" : a.keys.front(), r.name,
          r.keys.empty() ? "?" : r.keys.front()));
    }
    shape.tables = join_names(tables);
    shape.own_sharded = first != npos;
    if (shape.own_sharded) {
      shape.attached = classes.outer_nodes(first, sc.depth);
      shape.own_attached = !shape.attached.empty();
    }
    // Nested subqueries are tied to relations of this scope or of scopes outside it.
    for (std::size_t n : sc.attached) {
      const auto outside = classes.outer_nodes(n, sc.depth);
      shape.attached.insert(outside.begin(), outside.end());
    }
    if (shape.tables.empty() && !shape.attached.empty()) shape.tables = "in a nested subquery";
    return shape;
  }

  bool in_class(const Node* node, const Scope& sc, Classes& classes, std::size_t root) const {
    const auto n = key_node(node, sc);
    return n && classes.find(*n) == root;
  }

  // The expression a GROUP BY / DISTINCT ON item names: itself, or the select item at a position.
  static const Node* item_expression(const Node* item, const PgQuery__SelectStmt& s) {
    const Node* bare = without_casts(item);
    if (bare != nullptr && bare->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        bare->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
      const int p = bare->a_const->ival->ival;
      if (p >= 1 && static_cast<std::size_t>(p) <= s.n_target_list)
        return s.target_list[p - 1]->res_target->val;
    }
    return item;
  }

  const PgQuery__WindowDef* window_named(const PgQuery__SelectStmt& s, const char* name) const {
    if (name == nullptr || name[0] == '\0') return nullptr;
    for (std::size_t i = 0; i < s.n_window_clause; ++i) {
      const auto* w = s.window_clause[i]->window_def;
      if (w->name != nullptr && same_name(w->name, name)) return w;
    }
    return nullptr;
  }

  // The window whose PARTITION BY applies: `over` itself, or the WINDOW clause entry it names
  // (`OVER w`, `OVER (w ORDER BY ...)`), following references.
  const PgQuery__WindowDef* with_partition(const PgQuery__WindowDef* w,
                                           const PgQuery__SelectStmt& s) const {
    for (int hops = 0; w != nullptr && hops < 8; ++hops) {
      if (w->n_partition_clause > 0) return w;
      const char* next = w->refname != nullptr && w->refname[0] != '\0' ? w->refname : w->name;
      const PgQuery__WindowDef* named = window_named(s, next);
      if (named == w) return nullptr;  // an entry of the clause without PARTITION BY
      w = named;
    }
    return nullptr;
  }

  bool window_by_key(const PgQuery__WindowDef* over, const PgQuery__SelectStmt& s, const Scope& sc,
                     Classes& classes, std::size_t root) const {
    const PgQuery__WindowDef* w = with_partition(over, s);
    if (w == nullptr) return false;
    for (std::size_t i = 0; i < w->n_partition_clause; ++i) {
      if (in_class(item_expression(w->partition_clause[i], s), sc, classes, root)) return true;
    }
    return false;
  }

  // True when the per-shard results of `s` are disjoint parts of its whole result.
  bool split_by_shard(const PgQuery__SelectStmt& s, const Scope& sc, Classes& classes,
                      std::size_t root) const {
    for (const Node* limit : {s.limit_count, s.limit_offset}) {
      const Node* bare = without_casts(limit);
      if (bare == nullptr) continue;
      const bool all = bare->node_case == PG_QUERY__NODE__NODE_A_CONST && bare->a_const->isnull;
      if (!all) return false;
    }
    bool aggregates = s.n_group_clause > 0 || s.having_clause != nullptr;
    bool windows_by_key = true;
    std::vector<const Node*> items;
    for (std::size_t i = 0; i < s.n_target_list; ++i) items.push_back(s.target_list[i]);
    for (std::size_t i = 0; i < s.n_sort_clause; ++i) items.push_back(s.sort_clause[i]);
    for (const Node* item : items) {
      walk(&item->base, [&](const Node* n) {
        if (n->node_case == PG_QUERY__NODE__NODE_SUB_LINK) return false;
        if (n->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return true;
        const PgQuery__FuncCall& call = *n->func_call;
        if (call.over != nullptr) {
          windows_by_key = windows_by_key && window_by_key(call.over, s, sc, classes, root);
        } else if (is_aggregate_call(call)) {
          aggregates = true;
        }
        return true;
      });
    }
    if (!windows_by_key) return false;
    if (aggregates) {
      bool by_key = false;
      for (std::size_t i = 0; i < s.n_group_clause; ++i) {
        const Node* g = s.group_clause[i];
        if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) return false;  // grand totals
        by_key = by_key || in_class(item_expression(g, s), sc, classes, root);
      }
      if (!by_key) return false;
    }
    if (s.n_distinct_clause > 0) {
      const bool plain = s.distinct_clause[0] == nullptr ||
                         s.distinct_clause[0]->node_case == PG_QUERY__NODE__NODE__NOT_SET;
      bool by_key = false;
      if (plain) {
        for (std::size_t i = 0; i < s.n_target_list; ++i)
          by_key = by_key || in_class(s.target_list[i]->res_target->val, sc, classes, root);
      } else {
        for (std::size_t i = 0; i < s.n_distinct_clause; ++i)
          by_key = by_key || in_class(item_expression(s.distinct_clause[i], s), sc, classes, root);
      }
      if (!by_key) return false;
    }
    return true;
  }

  // The output columns of `s` that carry the shard key of its sharded relations.
  std::vector<std::string> key_outputs(const PgQuery__SelectStmt& s, const Scope& sc,
                                       Classes& classes, std::size_t root) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < s.n_target_list; ++i) {
      const PgQuery__ResTarget* t = s.target_list[i]->res_target;
      const Node* val = t->val;
      if (val != nullptr && val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
          names_of(val->column_ref).empty()) {
        // * or x.*: the keys of the relations it expands.
        const auto* ref = val->column_ref;
        const std::string_view qualifier =
            ref->n_fields > 1 ? string_of(ref->fields[ref->n_fields - 2]) : std::string_view{};
        for (const Relation& r : sc.relations) {
          if (!r.sharded || classes.find(r.node) != root) continue;
          if (qualifier.empty() || same_name(qualifier, r.name))
            out.insert(out.end(), r.keys.begin(), r.keys.end());
        }
        continue;
      }
      if (in_class(val, sc, classes, root)) out.push_back(output_name(t));
    }
    return out;
  }

  const ShardConfig& shards_;
};

Tables tables_of(const Scope& sc) {
  Tables tables;
  for (const Relation& r : sc.relations) {
    tables.entries.push_back(
        {.name = r.name, .keys = r.sharded ? r.keys : std::vector<std::string>{}});
  }
  return tables;
}

Placement placed(const Shape& shape, const Scope& sc) {
  return Placement{.tables = tables_of(sc), .reads_sharded = shape.reads_sharded()};
}

}  // namespace

Placement place_select(const PgQuery__SelectStmt& select, const ShardConfig& shards) {
  Colocation colocation(shards);
  Scope top;
  try {
    const Shape shape = colocation.query(select, nullptr, nullptr, Classes{}, &top);
    return placed(shape, top);
  } catch (const Refused& refused) {
    return Placement{.tables = tables_of(top), .reads_sharded = true, .refusal = refused.why};
  }
}

Placement place_write(const WriteScope& write, const ShardConfig& shards) {
  Colocation colocation(shards);
  Scope sc;
  try {
    const Shape shape = colocation.write(write.target, write.from, write.n_from, write.where,
                                         write.expressions, sc);
    return placed(shape, sc);
  } catch (const Refused& refused) {
    return Placement{.tables = tables_of(sc), .reads_sharded = true, .refusal = refused.why};
  }
}

bool Tables::is_key(const PgQuery__ColumnRef* ref) const {
  const auto names = names_of(ref);
  if (names.empty()) return false;
  const std::string_view column = names.back();
  auto keyed = [&](const Entry& e) {
    return std::any_of(e.keys.begin(), e.keys.end(),
                       [&](const std::string& k) { return same_name(k, column); });
  };
  if (names.size() == 1) return std::any_of(entries.begin(), entries.end(), keyed);
  const std::string_view qualifier = names[names.size() - 2];
  for (const Entry& e : entries) {
    if (same_name(qualifier, e.name)) return keyed(e);
  }
  return false;
}

}  // namespace nexdb::shard_detail
