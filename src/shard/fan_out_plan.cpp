// The plan of a SELECT that runs on several shards. Each shard runs the statement with a few
// changes, made on the text so that the dialect's own syntax is kept: helper columns appended to
// the select list (ORDER BY / GROUP BY expressions that are not selected, sum and count for avg,
// aggregates used in HAVING), HAVING dropped when groups span shards (it is applied after the
// merge), and LIMIT n OFFSET m replaced by LIMIT n + m (nothing when groups span shards). What
// cannot be merged exactly is refused with the reason.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "shard/analysis.hpp"

namespace nexdb::shard_detail {
namespace {

constexpr std::array<std::string_view, 5> kMergeable = {"count", "sum", "min", "max", "avg"};
// Aggregates whose per-shard results cannot be combined into the whole result.
constexpr std::array<std::string_view, 36> kUnmergeable = {"array_agg",
                                                           "string_agg",
                                                           "json_agg",
                                                           "jsonb_agg",
                                                           "json_object_agg",
                                                           "jsonb_object_agg",
                                                           "bool_and",
                                                           "bool_or",
                                                           "every",
                                                           "bit_and",
                                                           "bit_or",
                                                           "bit_xor",
                                                           "stddev",
                                                           "stddev_pop",
                                                           "stddev_samp",
                                                           "variance",
                                                           "var_pop",
                                                           "var_samp",
                                                           "corr",
                                                           "covar_pop",
                                                           "covar_samp",
                                                           "regr_avgx",
                                                           "regr_avgy",
                                                           "regr_count",
                                                           "regr_intercept",
                                                           "regr_r2",
                                                           "regr_slope",
                                                           "regr_sxx",
                                                           "regr_sxy",
                                                           "regr_syy",
                                                           "percentile_cont",
                                                           "percentile_disc",
                                                           "mode",
                                                           "group_concat",
                                                           "total",
                                                           "xmlagg"};

struct Refusal {
  std::string why;
};
[[noreturn]] void refuse(std::string why) { throw Refusal{std::move(why)}; }

bool one_of(int kind, std::initializer_list<int> kinds) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

// Token regions of the main SELECT (depth 0).
struct Layout {
  std::size_t end = 0;  // end of the statement, before a trailing ';'
  Span targets;
  std::vector<Span> target_items;
  std::vector<Span> group_items;
  Span having;  // HAVING ... (keyword included)
  std::vector<Span> order_items;
  std::size_t limit = npos;  // first LIMIT / OFFSET / FETCH
};

std::vector<Span> split_items(const ParsedSql& sql, Span region) {
  std::vector<Span> items;
  std::size_t first = region.first;
  for (std::size_t i = region.first; i < region.last; ++i) {
    if (sql.tokens()[i].kind == PG_QUERY__TOKEN__ASCII_44 && sql.tokens()[i].depth == 0) {
      items.push_back({first, i});
      first = i + 1;
    }
  }
  if (first < region.last) items.push_back({first, region.last});
  return items;
}

Layout layout_of(const ParsedSql& sql) {
  const auto& t = sql.tokens();
  Layout out;
  out.end = t.size();
  if (out.end > 0 && t[out.end - 1].kind == PG_QUERY__TOKEN__ASCII_59) --out.end;
  std::size_t i = 0;
  while (i < out.end && !(t[i].kind == PG_QUERY__TOKEN__SELECT && t[i].depth == 0)) ++i;
  if (i == out.end) refuse("a parenthesised or VALUES query is not split across shards");
  ++i;
  if (i < out.end && t[i].kind == PG_QUERY__TOKEN__DISTINCT) {
    ++i;
    if (i < out.end && t[i].kind == PG_QUERY__TOKEN__ON)
      refuse("DISTINCT ON is not merged across shards");
  } else if (i < out.end && t[i].kind == PG_QUERY__TOKEN__ALL) {
    ++i;
  }
  // Clause keywords at depth 0 (FROM in `a IS DISTINCT FROM b` and GROUP in `WITHIN GROUP` are
  // not).
  std::vector<std::size_t> clauses;
  for (std::size_t j = i; j < out.end; ++j) {
    if (t[j].depth != 0) continue;
    const int k = t[j].kind;
    if (k == PG_QUERY__TOKEN__FROM && j > 0 && t[j - 1].kind == PG_QUERY__TOKEN__DISTINCT) continue;
    if (k == PG_QUERY__TOKEN__GROUP_P && j > 0 && t[j - 1].kind == PG_QUERY__TOKEN__WITHIN)
      continue;
    if (one_of(k, {PG_QUERY__TOKEN__FROM, PG_QUERY__TOKEN__INTO, PG_QUERY__TOKEN__WHERE,
                   PG_QUERY__TOKEN__GROUP_P, PG_QUERY__TOKEN__HAVING, PG_QUERY__TOKEN__WINDOW,
                   PG_QUERY__TOKEN__ORDER, PG_QUERY__TOKEN__LIMIT, PG_QUERY__TOKEN__OFFSET,
                   PG_QUERY__TOKEN__FETCH, PG_QUERY__TOKEN__FOR})) {
      clauses.push_back(j);
    }
  }
  out.targets = {i, clauses.empty() ? out.end : clauses.front()};
  out.target_items = split_items(sql, out.targets);
  for (std::size_t c = 0; c < clauses.size(); ++c) {
    const std::size_t at = clauses[c];
    const std::size_t next = c + 1 < clauses.size() ? clauses[c + 1] : out.end;
    switch (t[at].kind) {
      case PG_QUERY__TOKEN__GROUP_P:
        out.group_items = split_items(sql, {at + 2, next});
        break;
      case PG_QUERY__TOKEN__HAVING:
        out.having = {at, next};
        break;
      case PG_QUERY__TOKEN__ORDER:
        out.order_items = split_items(sql, {at + 2, next});
        break;
      case PG_QUERY__TOKEN__LIMIT:
      case PG_QUERY__TOKEN__OFFSET:
      case PG_QUERY__TOKEN__FETCH:
        out.limit = std::min(out.limit, at);
        break;
      default:
        break;
    }
  }
  return out;
}

bool is_star(const Node* node) {
  if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return false;
  const auto* ref = node->column_ref;
  return ref->n_fields > 0 &&
         ref->fields[ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
}

// The aggregate a function call is, nullopt for other expressions; refuses the forms that
// cannot be combined from per-shard results.
std::optional<Aggregate> aggregate_of(const Node* node) {
  if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return std::nullopt;
  const PgQuery__FuncCall& call = *node->func_call;
  const std::string_view name = last_name(call.funcname, call.n_funcname);
  if (call.over != nullptr)
    refuse(fmt::format("window function {}() is not computed across shards", name));
  const auto known = std::find_if(kMergeable.begin(), kMergeable.end(),
                                  [&](auto n) { return same_name(n, name); });
  if (known == kMergeable.end()) {
    if (std::any_of(kUnmergeable.begin(), kUnmergeable.end(),
                    [&](auto n) { return same_name(n, name); })) {
      refuse(
          fmt::format("aggregate {}() cannot be combined from per-shard results; only count, sum, "
                      "min, max and avg can",
                      name));
    }
    return std::nullopt;
  }
  const auto kind = static_cast<Aggregate>(known - kMergeable.begin());
  if ((kind == Aggregate::min || kind == Aggregate::max) && call.n_args > 1)
    return std::nullopt;  // SQLite's scalar max(a, b)
  if (call.agg_distinct) {
    refuse(
        fmt::format("{}(DISTINCT ...) cannot be combined from per-shard results (a value may be on "
                    "several shards); group by the shard key or run it per shard",
                    name));
  }
  if (call.agg_filter != nullptr || call.n_agg_order > 0 || call.agg_within_group) {
    refuse(fmt::format("{}() with FILTER, ORDER BY or WITHIN GROUP is not combined across shards",
                       name));
  }
  return kind;
}

// True when an aggregate appears anywhere in the expression (subqueries aggregate on their own).
bool contains_aggregate(const Node* node) {
  if (node == nullptr || node->node_case == PG_QUERY__NODE__NODE_SUB_LINK) return false;
  if (aggregate_of(node)) return true;
  bool found = false;
  walk(&node->base, [&](const Node* child) {
    if (found || child->node_case == PG_QUERY__NODE__NODE_SUB_LINK) return false;
    found = aggregate_of(child).has_value();
    return !found;
  });
  return found;
}

std::optional<ValueSource> limit_source(const Node* node, std::string_view clause) {
  if (node == nullptr) return std::nullopt;
  const Node* bare = without_casts(node);
  if (bare->node_case == PG_QUERY__NODE__NODE_PARAM_REF)
    return ValueSource{.param = bare->param_ref->number - 1};
  if (bare->node_case == PG_QUERY__NODE__NODE_A_CONST) {
    auto value = constant_value(bare->a_const);
    if (value && value->is_null()) return std::nullopt;  // LIMIT ALL / LIMIT NULL
    if (value && value->type() == ValueType::integer) return ValueSource{.constant = *value};
  }
  refuse(fmt::format("{} must be a number or a parameter to be applied across shards", clause));
}

class Planner {
 public:
  Planner(const ParsedSql& sql, const PgQuery__SelectStmt& select, const Tables& tables,
          Dialect dialect)
      : sql_(sql), select_(select), tables_(tables), layout_(layout_of(sql)) {
    spec_.dialect = dialect;
  }

  FanOutPlan plan() {
    check_shape();
    read_targets();
    const bool has_aggregates = select_.n_group_clause > 0 || select_.having_clause != nullptr ||
                                std::any_of(targets_.begin(), targets_.end(),
                                            [](const Target& t) { return t.aggregate; }) ||
                                order_has_aggregate();
    spec_.grouped = has_aggregates && !groups_are_shard_local();
    spec_.distinct = select_.n_distinct_clause > 0;
    if (spec_.grouped) {
      plan_groups();
      plan_having();
    }
    const std::size_t before_order = hidden_.size();
    plan_order();
    if (spec_.distinct && hidden_.size() > before_order) {
      refuse(
          "SELECT DISTINCT with ORDER BY on an expression that is not selected is not merged "
          "across shards (PostgreSQL rejects it too): select it, or order by a selected column");
    }
    spec_.limit = limit_source(select_.limit_count, "LIMIT");
    spec_.offset = limit_source(select_.limit_offset, "OFFSET");
    spec_.hidden = hidden_.size();
    const bool push = push_limit();
    SqlTemplate statement = per_shard_statement();
    return FanOutPlan{
        .statement = std::move(statement), .merge = std::move(spec_), .push_limit = push};
  }

 private:
  struct Target {
    const PgQuery__ResTarget* node;
    Span expr;
    std::string canonical;
    bool aggregate;
  };
  struct Hidden {
    SqlTemplate text;
    std::string canonical;
  };

  void check_shape() const {
    if (select_.op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
      refuse("UNION, INTERSECT and EXCEPT are not merged across shards; run each part separately");
    }
    if (select_.n_window_clause > 0) refuse("WINDOW clauses are not computed across shards");
    if (select_.n_locking_clause > 0)
      refuse(
          "FOR UPDATE / FOR SHARE is not taken across shards; lock rows in a transaction pinned to "
          "their shard");
    if (select_.limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
      refuse("FETCH ... WITH TIES is not merged across shards");
    if (select_.group_distinct) refuse("GROUP BY DISTINCT is not merged across shards");
    for (std::size_t i = 0; i < select_.n_group_clause; ++i) {
      if (select_.group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
        refuse("GROUPING SETS, ROLLUP and CUBE are not merged across shards");
      }
    }
    if (layout_.target_items.size() != select_.n_target_list ||
        layout_.group_items.size() != select_.n_group_clause ||
        layout_.order_items.size() != select_.n_sort_clause) {
      refuse("the statement's clauses could not be located in its text");
    }
  }

  void read_targets() {
    for (std::size_t i = 0; i < select_.n_target_list; ++i) {
      const PgQuery__ResTarget* node = select_.target_list[i]->res_target;
      Span expr = layout_.target_items[i];
      if (node->name != nullptr && node->name[0] != '\0' && expr.last > expr.first + 1) {
        --expr.last;  // the alias
        if (sql_.tokens()[expr.last - 1].kind == PG_QUERY__TOKEN__AS) --expr.last;
      }
      star_seen_ = star_seen_ || is_star(node->val);
      targets_.push_back({node, expr, sql_.canonical(expr), contains_aggregate(node->val)});
      positional_.push_back(!star_seen_);
    }
  }

  bool order_has_aggregate() const {
    for (std::size_t i = 0; i < select_.n_sort_clause; ++i) {
      if (contains_aggregate(select_.sort_clause[i]->sort_by->node)) return true;
    }
    return false;
  }

  // Groups that include the shard key never span shards: each shard has whole groups.
  bool groups_are_shard_local() const {
    for (std::size_t i = 0; i < select_.n_group_clause; ++i) {
      const Node* item = without_casts(select_.group_clause[i]);
      if (item->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && tables_.is_key(item->column_ref))
        return true;
      if (auto target = position_of(item)) {
        const Node* val = without_casts(targets_[*target].node->val);
        if (val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && tables_.is_key(val->column_ref))
          return true;
      }
    }
    return false;
  }

  // `GROUP BY 2` / `ORDER BY 2`: the 0-based target.
  std::optional<std::size_t> position_of(const Node* node) const {
    if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_A_CONST ||
        node->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
      return std::nullopt;
    }
    const int position = node->a_const->ival->ival;
    if (position < 1 || static_cast<std::size_t>(position) > targets_.size()) {
      refuse(fmt::format("position {} is not in the select list", position));
    }
    return static_cast<std::size_t>(position - 1);
  }

  // The target a name or an expression refers to. ORDER BY (`by_name`) reads a bare name as an
  // output column first, as both databases do. GROUP BY and HAVING read it as an input column
  // first: a select item that is that column, else an alias of that name whose expression does
  // not use a column of that name (`lower(code) AS code` groups by the column code, not by the
  // alias), else none: the column is then added as a helper.
  std::optional<ColumnIndex> find_target(const Node* node, Span span, bool by_name) const {
    if (auto p = position_of(node)) return ColumnIndex{.index = *p};
    std::string_view bare;
    if (node->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && node->column_ref->n_fields == 1) {
      bare = string_of(node->column_ref->fields[0]);
    }
    if (!bare.empty()) {
      if (auto found = by_name ? output_named(bare) : input_named(bare)) return found;
    }
    const std::string canonical = sql_.canonical(span);
    for (std::size_t i = 0; i < targets_.size() && positional_[i]; ++i) {
      if (targets_[i].canonical == canonical) return ColumnIndex{.index = i};
    }
    for (std::size_t h = 0; h < hidden_.size(); ++h) {
      if (hidden_[h].canonical == canonical) return ColumnIndex{.index = h, .hidden = true};
    }
    return std::nullopt;
  }

  static bool has_alias(const Target& t) {
    return t.node->name != nullptr && t.node->name[0] != '\0';
  }

  // The column a select item is, if it is a plain column reference: its last name.
  static std::string_view column_of(const Target& t) {
    const Node* val = t.node->val;
    if (val == nullptr || val->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return {};
    const auto* ref = val->column_ref;
    return ref->n_fields > 0 ? string_of(ref->fields[ref->n_fields - 1]) : std::string_view{};
  }

  static bool uses_column(const Node* node, std::string_view name) {
    auto named = [&](const Node* n) {
      return n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields > 0 &&
             same_name(string_of(n->column_ref->fields[n->column_ref->n_fields - 1]), name);
    };
    if (node == nullptr) return false;
    if (named(node)) return true;
    bool found = false;
    walk(&node->base, [&](const Node* child) {
      found = found || named(child);
      return !found;
    });
    return found;
  }

  // Positions before a * are known when planning; after it only at run time.
  std::optional<ColumnIndex> output_named(std::string_view name) const {
    for (std::size_t i = 0; i < targets_.size() && positional_[i]; ++i) {
      const Target& t = targets_[i];
      const bool named =
          has_alias(t) ? same_name(t.node->name, name) : same_name(column_of(t), name);
      if (named) return ColumnIndex{.index = i};
    }
    return std::nullopt;
  }

  std::optional<ColumnIndex> input_named(std::string_view name) const {
    for (std::size_t i = 0; i < targets_.size() && positional_[i]; ++i) {
      if (same_name(column_of(targets_[i]), name)) return ColumnIndex{.index = i};
    }
    for (std::size_t i = 0; i < targets_.size() && positional_[i]; ++i) {
      const Target& t = targets_[i];
      if (has_alias(t) && same_name(t.node->name, name) && !uses_column(t.node->val, name))
        return ColumnIndex{.index = i};
    }
    return std::nullopt;
  }

  ColumnIndex add_hidden(SqlTemplate text, std::string canonical) {
    hidden_.push_back({std::move(text), std::move(canonical)});
    return {.index = hidden_.size() - 1, .hidden = true};
  }

  ColumnIndex add_hidden(Span span) {
    SqlTemplate text;
    text.append(sql_, span);
    return add_hidden(std::move(text), sql_.canonical(span));
  }

  // sum(args) or count(args) of an avg(args) call spanning `call`.
  ColumnIndex add_avg_part(Span call, std::string_view function) {
    std::size_t open = call.first;
    while (open < call.last && sql_.tokens()[open].kind != PG_QUERY__TOKEN__ASCII_40) ++open;
    const Span args{open + 1, call.last - 1};
    SqlTemplate text;
    text.text(function);
    text.text("(");
    text.append(sql_, args);
    text.text(")");
    return add_hidden(std::move(text), std::string(function) + " ( " + sql_.canonical(args) + " )");
  }

  // Registers an aggregate column; avg gets its sum and count helpers.
  void add_aggregate(ColumnIndex column, Aggregate kind, Span call) {
    MergeSpec::AggregateColumn agg{.column = column, .kind = kind};
    if (kind == Aggregate::avg) {
      agg.sum = add_avg_part(call, "sum");
      agg.count = add_avg_part(call, "count");
    }
    spec_.aggregates.push_back(agg);
  }

  // The span of a function call: its name (possibly schema-qualified) to its closing paren.
  Span call_span(const PgQuery__FuncCall& call) const {
    const std::size_t first = sql_.token_at(call.location);
    const std::size_t close = first == npos ? npos : sql_.closing_paren(first);
    if (close == npos) refuse("a function call could not be located in the statement's text");
    return {first, close + 1};
  }

  // A column for an expression used by GROUP BY, ORDER BY or HAVING; a helper when not selected.
  ColumnIndex column_for(const Node* node, Span span, bool by_name) {
    if (auto found = find_target(node, span, by_name)) return *found;
    if (is_star(node)) refuse("a * cannot be used here across shards");
    const ColumnIndex column = add_hidden(span);
    if (spec_.grouped) {
      if (auto kind = aggregate_of(node)) {
        add_aggregate(column, *kind, span);
      } else if (contains_aggregate(node)) {
        refuse(
            fmt::format("'{}' uses an aggregate inside an expression; across shards only plain "
                        "count, sum, min, max and avg are combined",
                        sql_.span_text(span)));
      }
    }
    return column;
  }

  void plan_groups() {
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      const Target& t = targets_[i];
      if (is_star(t.node->val)) refuse("SELECT * with aggregates is not merged across shards");
      if (!t.aggregate) continue;
      const auto kind = aggregate_of(t.node->val);
      if (!kind || !positional_[i]) {
        refuse(fmt::format(
            "select item {} ('{}') uses an aggregate inside an expression; across shards "
            "only plain count, sum, min, max and avg columns are combined (compute the "
            "rest in your code)",
            i + 1, sql_.span_text(t.expr)));
      }
      add_aggregate({.index = i}, *kind, t.expr);
    }
    for (std::size_t i = 0; i < select_.n_group_clause; ++i) {
      spec_.group_by.push_back(column_for(select_.group_clause[i], layout_.group_items[i], false));
    }
  }

  Condition having_operand(const Node* node) {
    const Node* bare = without_casts(node);
    if (bare->node_case == PG_QUERY__NODE__NODE_PARAM_REF) {
      return {.kind = Condition::Kind::value, .value = {.param = bare->param_ref->number - 1}};
    }
    if (bare->node_case == PG_QUERY__NODE__NODE_A_CONST) {
      if (auto value = constant_value(bare->a_const))
        return {.kind = Condition::Kind::value, .value = {.constant = *value}};
    }
    if (node->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && aggregate_of(node)) {
      return {.kind = Condition::Kind::column,
              .column = column_for(node, call_span(*node->func_call), false)};
    }
    if (node->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      const std::size_t first = sql_.token_at(node->column_ref->location);
      const Span span{first, first + 2 * node->column_ref->n_fields - 1};
      if (first == npos || span.last > layout_.end)
        refuse("a HAVING column could not be located in the text");
      return {.kind = Condition::Kind::column, .column = column_for(node, span, false)};
    }
    refuse(
        "HAVING is applied after the shards' groups are merged, where nexdb evaluates comparisons "
        "of aggregates, grouped columns, constants and parameters (with AND, OR, NOT, IS NULL)");
  }

  Condition having_condition(const Node* node) {
    if (node->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR) {
      const auto& expr = *node->bool_expr;
      Condition out{
          .kind = expr.boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR  ? Condition::Kind::all_of
                  : expr.boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? Condition::Kind::any_of
                                                                     : Condition::Kind::negate};
      for (std::size_t i = 0; i < expr.n_args; ++i)
        out.args.push_back(having_condition(expr.args[i]));
      return out;
    }
    if (node->node_case == PG_QUERY__NODE__NODE_NULL_TEST) {
      const auto& test = *node->null_test;
      return {.kind = test.nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL
                          ? Condition::Kind::is_null
                          : Condition::Kind::is_not_null,
              .args = {having_operand(test.arg)}};
    }
    if (node->node_case == PG_QUERY__NODE__NODE_A_EXPR &&
        node->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP) {
      std::string op(last_name(node->a_expr->name, node->a_expr->n_name));
      if (op == "!=") op = "<>";
      if (op == "=" || op == "<>" || op == "<" || op == ">" || op == "<=" || op == ">=") {
        return {.kind = Condition::Kind::compare,
                .op = op,
                .args = {having_operand(node->a_expr->lexpr), having_operand(node->a_expr->rexpr)}};
      }
    }
    return having_operand(node);  // refuses anything else
  }

  void plan_having() {
    if (select_.having_clause != nullptr) spec_.having = having_condition(select_.having_clause);
  }

  void plan_order() {
    for (std::size_t i = 0; i < select_.n_sort_clause; ++i) {
      const PgQuery__SortBy& sort = *select_.sort_clause[i]->sort_by;
      if (sort.sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING)
        refuse("ORDER BY ... USING is not merged across shards");
      Span expr = layout_.order_items[i];
      const auto& t = sql_.tokens();
      if (expr.last > expr.first + 2 && t[expr.last - 2].kind == PG_QUERY__TOKEN__NULLS_P)
        expr.last -= 2;
      if (expr.last > expr.first + 1 &&
          one_of(t[expr.last - 1].kind, {PG_QUERY__TOKEN__ASC, PG_QUERY__TOKEN__DESC})) {
        --expr.last;
      }
      SortKey key{.column = column_for(sort.node, expr, true),
                  .descending = sort.sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC};
      if (sort.sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST) key.nulls_first = true;
      if (sort.sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST) key.nulls_first = false;
      spec_.order.push_back(key);
    }
  }

  bool push_limit() const { return !spec_.grouped && spec_.limit.has_value(); }

  SqlTemplate per_shard_statement() const {
    SqlTemplate out;
    out.append(sql_, {0, layout_.targets.last});
    for (std::size_t h = 0; h < hidden_.size(); ++h) {
      out.text(", ");
      out.append(hidden_[h].text);
      out.text(fmt::format(" AS \"__nexdb_{}\"", h));
    }
    const std::size_t stop = layout_.limit == npos ? layout_.end : layout_.limit;
    auto keep = [&](Span span) {
      if (span.empty()) return;
      out.text(" ");
      out.append(sql_, span);
    };
    if (spec_.grouped && !layout_.having.empty()) {
      keep({layout_.targets.last, layout_.having.first});
      keep({layout_.having.last, stop});
    } else {
      keep({layout_.targets.last, stop});
    }
    if (push_limit()) {
      out.text(" LIMIT ");
      out.slot(kPushedLimitSlot);
    }
    return out;
  }

  const ParsedSql& sql_;
  const PgQuery__SelectStmt& select_;
  const Tables& tables_;
  Layout layout_;
  MergeSpec spec_;
  std::vector<Target> targets_;
  std::vector<bool> positional_;  // target i is at output position i (no * before it)
  bool star_seen_ = false;
  std::vector<Hidden> hidden_;
};

}  // namespace

bool is_aggregate_call(const PgQuery__FuncCall& call) {
  if (call.agg_star || call.agg_distinct || call.n_agg_order > 0 || call.agg_filter != nullptr ||
      call.agg_within_group) {
    return true;
  }
  const std::string_view name = last_name(call.funcname, call.n_funcname);
  auto named = [&](std::string_view n) { return same_name(n, name); };
  if ((same_name(name, "min") || same_name(name, "max")) && call.n_args > 1)
    return false;  // SQLite's scalar min(a, b)
  return std::any_of(kMergeable.begin(), kMergeable.end(), named) ||
         std::any_of(kUnmergeable.begin(), kUnmergeable.end(), named);
}

void plan_fan_out(const ParsedSql& sql, const PgQuery__SelectStmt& select, const Tables& tables,
                  Dialect dialect, Analysis& out) {
  try {
    out.fan_out = Planner(sql, select, tables, dialect).plan();
  } catch (const Refusal& refusal) {
    out.fan_out_refusal = refusal.why;
  }
}

}  // namespace nexdb::shard_detail
