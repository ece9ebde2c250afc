// analyze(): statement kind, pinned key values and INSERT splitting. The SELECT fan-out plan is in
// fan_out_plan.cpp.
#include "shard/analysis.hpp"

#include <fmt/format.h>

#include "nexdb/error.hpp"

namespace nexdb::shard_detail {
namespace {

std::optional<ValueSource> value_source(const Node* node) {
  node = without_casts(node);
  if (node == nullptr) return std::nullopt;
  if (node->node_case == PG_QUERY__NODE__NODE_PARAM_REF) {
    return ValueSource{.param = node->param_ref->number - 1};
  }
  if (node->node_case == PG_QUERY__NODE__NODE_A_CONST) {
    if (auto value = constant_value(node->a_const))
      return ValueSource{.constant = std::move(*value)};
  }
  return std::nullopt;
}

const PgQuery__ColumnRef* column_ref(const Node* node) {
  node = without_casts(node);
  return node != nullptr && node->node_case == PG_QUERY__NODE__NODE_COLUMN_REF ? node->column_ref
                                                                               : nullptr;
}

bool is_operator(const PgQuery__AExpr* expr, std::string_view op) {
  return last_name(expr->name, expr->n_name) == op;
}

// The pin of `key = value`, `value = key` or `key IN (values...)`.
std::optional<Pin> comparison_pin(const PgQuery__AExpr* expr, const Tables& tables) {
  if (expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP && is_operator(expr, "=")) {
    for (auto [key, value] :
         {std::pair{expr->lexpr, expr->rexpr}, std::pair{expr->rexpr, expr->lexpr}}) {
      const auto* ref = column_ref(key);
      if (ref == nullptr || !tables.is_key(ref)) continue;
      if (auto source = value_source(value)) return Pin{.values = {std::move(*source)}};
    }
    return std::nullopt;
  }
  if (expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_IN && is_operator(expr, "=")) {
    const auto* ref = column_ref(expr->lexpr);
    if (ref == nullptr || !tables.is_key(ref) || expr->rexpr == nullptr ||
        expr->rexpr->node_case != PG_QUERY__NODE__NODE_LIST) {
      return std::nullopt;
    }
    Pin pin;
    const PgQuery__List* list = expr->rexpr->list;
    for (std::size_t i = 0; i < list->n_items; ++i) {
      auto source = value_source(list->items[i]);
      if (!source) return std::nullopt;
      pin.values.push_back(std::move(*source));
    }
    return pin;
  }
  return std::nullopt;
}

// AND narrows to the conditions that pin; OR pins only when every branch does.
// Key columns of any relation of the scope pin it: the co-location analysis has checked that its
// sharded relations are joined on their keys.
std::optional<Pin> pin_of(const Node* node, const Tables& tables) {
  if (node == nullptr) return std::nullopt;
  if (node->node_case == PG_QUERY__NODE__NODE_A_EXPR) return comparison_pin(node->a_expr, tables);
  if (node->node_case != PG_QUERY__NODE__NODE_BOOL_EXPR) return std::nullopt;
  const PgQuery__BoolExpr* expr = node->bool_expr;
  if (expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR) return std::nullopt;
  const bool all = expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR;
  Pin pin{.op = all ? Pin::Op::all_of : Pin::Op::any_of};
  for (std::size_t i = 0; i < expr->n_args; ++i) {
    auto child = pin_of(expr->args[i], tables);
    if (child) {
      pin.children.push_back(std::move(*child));
    } else if (!all) {
      return std::nullopt;
    }
  }
  if (pin.children.empty()) return std::nullopt;
  return pin;
}

bool has_write(const ProtobufCMessage* message) {
  bool found = false;
  walk(message, [&](const Node* node) {
    found = found || node->node_case == PG_QUERY__NODE__NODE_INSERT_STMT ||
            node->node_case == PG_QUERY__NODE__NODE_UPDATE_STMT ||
            node->node_case == PG_QUERY__NODE__NODE_DELETE_STMT;
    return !found;
  });
  return found;
}

std::string unpinned_write(std::string_view verb, const std::string& table,
                           const ShardConfig& shards) {
  return fmt::format(
      "{} on \"{}\" names no shard key value: add WHERE {} = ... (or IN (...)) so it "
      "goes to the shard that holds the rows, or use execute_on_all() to run it on "
      "every shard on purpose",
      verb, table, shards.key_column(table));
}

void analyze_select(const ParsedSql& sql, const PgQuery__SelectStmt& select,
                    const ShardConfig& shards, Dialect dialect, Analysis& out) {
  out.type = StatementType::select;
  if (select.into_clause != nullptr ||
      (select.with_clause != nullptr && has_write(&select.with_clause->base))) {
    out.type = StatementType::other;
    out.needs_pin =
        "SELECT INTO and data-modifying WITH clauses write tables and cannot be routed by "
        "key; run them on one shard with execute_on() or on all with execute_on_all()";
    return;
  }
  Placement placement = place_select(select, shards);
  out.reads_sharded = placement.reads_sharded;
  out.colocation_refusal = std::move(placement.refusal);
  out.pin = pin_of(select.where_clause, placement.tables);
  plan_fan_out(sql, select, placement.tables, dialect, out);
}

// VALUES rows as spans of the text: "(" ... ")" at depth 0 after the VALUES keyword.
bool split_values(const ParsedSql& sql, InsertSplit& split) {
  const auto& tokens = sql.tokens();
  std::size_t end = tokens.size();
  if (end > 0 && tokens[end - 1].kind == PG_QUERY__TOKEN__ASCII_59) --end;
  std::size_t i = 0;
  while (i < end && !(tokens[i].kind == PG_QUERY__TOKEN__VALUES && tokens[i].depth == 0)) ++i;
  if (i == end) return false;
  split.head.append(sql, {0, i + 1});
  ++i;
  while (i < end && tokens[i].kind == PG_QUERY__TOKEN__ASCII_40) {
    const std::size_t close = sql.closing_paren(i);
    if (close == npos) return false;
    SqlTemplate row;
    row.append(sql, {i, close + 1});
    split.rows.push_back(std::move(row));
    i = close + 1;
    if (i < end && tokens[i].kind == PG_QUERY__TOKEN__ASCII_44) ++i;
  }
  split.tail.append(sql, {i, end});
  return true;
}

void add_all(std::vector<const Node*>& out, Node* const* nodes, std::size_t count) {
  out.insert(out.end(), nodes, nodes + count);
}

// What an INSERT reads besides its target: the VALUES rows or the SELECT, ON CONFLICT's
// expressions and RETURNING, as the scope of a SELECT with no FROM.
Placement insert_reads(const PgQuery__InsertStmt& insert, const ShardConfig& shards) {
  if (insert.select_stmt != nullptr &&
      insert.select_stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
      insert.select_stmt->select_stmt->n_values_lists == 0) {
    return place_select(*insert.select_stmt->select_stmt, shards);
  }
  WriteScope scope;
  if (insert.select_stmt != nullptr) scope.expressions.push_back(insert.select_stmt);
  if (insert.on_conflict_clause != nullptr) {
    const auto& conflict = *insert.on_conflict_clause;
    add_all(scope.expressions, conflict.target_list, conflict.n_target_list);
    if (conflict.where_clause != nullptr) scope.expressions.push_back(conflict.where_clause);
  }
  add_all(scope.expressions, insert.returning_list, insert.n_returning_list);
  return place_write(scope, shards);
}

void analyze_insert(const ParsedSql& sql, const PgQuery__InsertStmt& insert,
                    const ShardConfig& shards, Analysis& out) {
  out.type = StatementType::insert;
  const std::string table = insert.relation->relname;
  const std::string_view key = shards.key_column(table);
  auto refuse = [&](std::string why) {
    out.needs_pin = fmt::format("INSERT into \"{}\": {}", table, why);
  };
  if (insert.with_clause != nullptr) return refuse("a WITH clause cannot be routed by key");
  const Placement reads = insert_reads(insert, shards);
  if (shards.is_reference(table)) {
    if (reads.reads_sharded || !reads.refusal.empty()) {
      return refuse(
          "it is a reference table, copied to every shard, and this INSERT reads sharded rows, "
          "which differ from shard to shard");
    }
    out.reference_write = true;
    return;
  }
  if (!reads.refusal.empty()) return refuse(reads.refusal);
  if (reads.reads_sharded) {
    return refuse(
        "a subquery in it reads sharded rows, which the row's shard does not all hold; compute "
        "the value in a query of its own first");
  }
  std::size_t key_index = npos;
  for (std::size_t i = 0; i < insert.n_cols; ++i) {
    if (same_name(insert.cols[i]->res_target->name, key)) key_index = i;
  }
  if (key_index == npos) {
    return refuse(
        fmt::format("name the shard key column \"{}\" in the column list and give its "
                    "value, so the row goes to its shard",
                    key));
  }
  const Node* source = insert.select_stmt;
  if (source == nullptr || source->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
      source->select_stmt->n_values_lists == 0) {
    return refuse(
        "only INSERT ... VALUES is routed (INSERT ... SELECT and DEFAULT VALUES are not)");
  }
  if (const auto* conflict = insert.on_conflict_clause; conflict != nullptr) {
    for (std::size_t i = 0; i < conflict->n_target_list; ++i) {
      if (same_name(conflict->target_list[i]->res_target->name, key)) {
        return refuse(
            "ON CONFLICT DO UPDATE may not change the shard key (the row would belong "
            "to another shard)");
      }
    }
  }
  InsertSplit split;
  const PgQuery__SelectStmt& values = *source->select_stmt;
  for (std::size_t row = 0; row < values.n_values_lists; ++row) {
    const PgQuery__List* items = values.values_lists[row]->list;
    auto value = key_index < items->n_items ? value_source(items->items[key_index]) : std::nullopt;
    if (!value) {
      return refuse(
          fmt::format("the shard key \"{}\" of row {} must be a value or a parameter, "
                      "not an expression",
                      key, row + 1));
    }
    split.keys.push_back(std::move(*value));
  }
  if (!split_values(sql, split) || split.rows.size() != split.keys.size()) {
    return refuse("its VALUES rows could not be split by shard");
  }
  Pin pin;
  for (const auto& key_value : split.keys) pin.values.push_back(key_value);
  out.pin = std::move(pin);
  out.insert = std::move(split);
}

bool assigns_key(Node* const* targets, std::size_t count, std::string_view key) {
  for (std::size_t i = 0; i < count; ++i) {
    if (same_name(targets[i]->res_target->name, key)) return true;
  }
  return false;
}

// UPDATE and DELETE: pinned by their WHERE over the target table and the FROM / USING tables
// joined to it on the key. A reference table's copies are all written, reading no sharded rows.
void pin_write(std::string_view verb, const PgQuery__WithClause* with, const WriteScope& scope,
               const ShardConfig& shards, Analysis& out) {
  const std::string table = scope.target->relname;
  if (with != nullptr) {
    out.needs_pin = fmt::format("{} with a WITH clause cannot be routed by key", verb);
    return;
  }
  Placement placement = place_write(scope, shards);
  if (shards.is_reference(table)) {
    if (placement.reads_sharded || !placement.refusal.empty()) {
      out.needs_pin = fmt::format(
          "{} on reference table \"{}\" reads sharded rows, which differ from shard to shard, "
          "so its copies would differ; compute the values in a query of its own first",
          verb, table);
    } else {
      out.reference_write = true;
    }
    return;
  }
  if (!placement.refusal.empty()) {
    out.needs_pin = fmt::format("{} on \"{}\": {}", verb, table, placement.refusal);
    return;
  }
  out.pin = pin_of(scope.where, placement.tables);
  if (!out.pin) out.needs_pin = unpinned_write(verb, table, shards);
}

void analyze_update(const PgQuery__UpdateStmt& update, const ShardConfig& shards, Analysis& out) {
  out.type = StatementType::update;
  const std::string table = update.relation->relname;
  if (!shards.is_reference(table) &&
      assigns_key(update.target_list, update.n_target_list, shards.key_column(table))) {
    out.needs_pin = fmt::format(
        "UPDATE of \"{}\" may not change the shard key \"{}\" (the row would "
        "belong to another shard): delete it and insert it again",
        table, shards.key_column(table));
    return;
  }
  WriteScope scope{.target = update.relation,
                   .from = update.from_clause,
                   .n_from = update.n_from_clause,
                   .where = update.where_clause};
  add_all(scope.expressions, update.target_list, update.n_target_list);
  add_all(scope.expressions, update.returning_list, update.n_returning_list);
  pin_write("UPDATE", update.with_clause, scope, shards, out);
}

void analyze_delete(const PgQuery__DeleteStmt& remove, const ShardConfig& shards, Analysis& out) {
  out.type = StatementType::remove;
  WriteScope scope{.target = remove.relation,
                   .from = remove.using_clause,
                   .n_from = remove.n_using_clause,
                   .where = remove.where_clause};
  add_all(scope.expressions, remove.returning_list, remove.n_returning_list);
  pin_write("DELETE", remove.with_clause, scope, shards, out);
}

}  // namespace

const Value& ValueSource::resolve(std::span<const Value> params) const {
  if (param < 0) return constant;
  if (static_cast<std::size_t>(param) >= params.size()) {
    throw UsageError(fmt::format("the statement uses parameter ${} but only {} values were bound",
                                 param + 1, params.size()));
  }
  return params[static_cast<std::size_t>(param)];
}

std::string number_question_marks(const std::string& sql) {
  if (sql.find('?') == std::string::npos) return sql;
  PgQueryScanResult result = pg_query_scan(sql.c_str());
  struct Free {
    PgQueryScanResult& r;
    ~Free() { pg_query_free_scan_result(r); }
  } free_result{result};
  if (result.error != nullptr) return sql;  // the parser will report it
  PgQuery__ScanResult* scan = pg_query__scan_result__unpack(
      nullptr, result.pbuf.len, reinterpret_cast<const std::uint8_t*>(result.pbuf.data));
  if (scan == nullptr) return sql;
  std::string out;
  std::size_t from = 0;
  int highest = 0;
  for (std::size_t i = 0; i < scan->n_tokens; ++i) {
    const PgQuery__ScanToken* t = scan->tokens[i];
    if (t->token != PG_QUERY__TOKEN__Op ||
        sql.compare(static_cast<std::size_t>(t->start), 1, "?") != 0 || t->end - t->start != 1) {
      continue;
    }
    out.append(sql, from, static_cast<std::size_t>(t->start) - from);
    from = static_cast<std::size_t>(t->end);
    const PgQuery__ScanToken* next = i + 1 < scan->n_tokens ? scan->tokens[i + 1] : nullptr;
    int number = highest + 1;
    if (next != nullptr && next->token == PG_QUERY__TOKEN__ICONST && next->start == t->end) {
      number = std::stoi(sql.substr(static_cast<std::size_t>(next->start),
                                    static_cast<std::size_t>(next->end - next->start)));
      from = static_cast<std::size_t>(next->end);
      ++i;
    }
    highest = std::max(highest, number);
    out += '$' + std::to_string(number);
  }
  pg_query__scan_result__free_unpacked(scan, nullptr);
  out.append(sql, from);
  return out;
}

std::shared_ptr<const Analysis> analyze(const std::string& sql, const ShardConfig& shards,
                                        Dialect dialect) {
  auto out = std::make_shared<Analysis>();
  const ParsedSql parsed(sql);
  if (parsed.statement_count() != 1) {
    out->needs_pin = "several statements in one call cannot be routed: send them one at a time";
    out->fan_out_refusal = out->needs_pin;
    return out;
  }
  const Node* statement = parsed.statement();
  switch (statement->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
      analyze_select(parsed, *statement->select_stmt, shards, dialect, *out);
      break;
    case PG_QUERY__NODE__NODE_INSERT_STMT:
      analyze_insert(parsed, *statement->insert_stmt, shards, *out);
      break;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
      analyze_update(*statement->update_stmt, shards, *out);
      break;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
      analyze_delete(*statement->delete_stmt, shards, *out);
      break;
    default:
      out->needs_pin =
          "only SELECT, INSERT, UPDATE and DELETE are routed by shard key; run other "
          "statements (DDL, SET, ...) on one shard with execute_on() or on every shard "
          "with execute_on_all() (schema changes: MigrationManager)";
  }
  if (out->type != StatementType::select && out->fan_out_refusal.empty()) {
    out->fan_out_refusal =
        out->needs_pin.empty() ? "a write is not merged across shards" : out->needs_pin;
  }
  return out;
}

}  // namespace nexdb::shard_detail
