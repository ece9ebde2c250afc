// What routing needs to know about a statement, worked out once per SQL text from PostgreSQL's
// parse tree: its kind, the shard key values its WHERE (or its VALUES rows) pin, and for a SELECT
// that spans shards the per-shard statement and how to merge the parts.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nexdb/config.hpp"
#include "nexdb/value.hpp"
#include "shard/sql_template.hpp"

namespace nexdb::shard_detail {

/// Where a value in the statement comes from: a bound parameter or a constant in the text.
struct ValueSource {
  int param = -1;  // 0-based; -1 for a constant
  Value constant{};
  /// UsageError when the statement has fewer parameters than it refers to.
  const Value& resolve(std::span<const Value> params) const;
};

/// A condition that confines the statement to the shards of some key values.
struct Pin {
  enum class Op { values, all_of, any_of };
  Op op = Op::values;
  std::vector<ValueSource> values{};  // Op::values: the key is one of these
  std::vector<Pin> children{};        // all_of (AND) / any_of (OR)
};

enum class StatementType { select, insert, update, remove, other };

/// An INSERT ... VALUES split by row, so each shard gets only its rows.
struct InsertSplit {
  SqlTemplate head{};               // INSERT INTO t (...) VALUES
  std::vector<SqlTemplate> rows{};  // (...)
  std::vector<ValueSource> keys{};  // each row's key
  SqlTemplate tail{};               // ON CONFLICT ... RETURNING ...
};

enum class Aggregate { count, sum, min, max, avg };

/// A column of the per-shard result: one of the statement's own (by position, which `SELECT *`
/// makes known only at run time) or one of the helpers appended after them.
struct ColumnIndex {
  std::size_t index = 0;
  bool hidden = false;
  std::size_t in(std::size_t columns, std::size_t hidden_count) const noexcept {
    return hidden ? columns - hidden_count + index : index;
  }
  friend bool operator==(const ColumnIndex&, const ColumnIndex&) = default;
};

struct SortKey {
  ColumnIndex column{};
  bool descending = false;
  /// Explicit NULLS FIRST / LAST; unset: the dialect's default (PostgreSQL: NULLs sort as the
  /// largest value, SQLite: as the smallest).
  std::optional<bool> nulls_first{};
};

/// A HAVING condition evaluated on merged groups.
struct Condition {
  enum class Kind { all_of, any_of, negate, compare, is_null, is_not_null, column, value };
  Kind kind = Kind::value;
  std::string op{};  // compare: = <> < > <= >=
  std::vector<Condition> args{};
  ColumnIndex column{};
  ValueSource value{};
};

struct MergeSpec {
  Dialect dialect = Dialect::postgres;
  /// The statement's own columns come first, then this many helpers added for the merge.
  std::size_t hidden = 0;
  /// Rows from several shards belong to one group: aggregates are combined per group.
  bool grouped = false;
  std::vector<ColumnIndex> group_by{};
  struct AggregateColumn {
    ColumnIndex column{};
    Aggregate kind = Aggregate::count;
    ColumnIndex sum{};  // avg: the helper columns holding sum(x) and count(x)
    ColumnIndex count{};
  };
  std::vector<AggregateColumn> aggregates{};
  std::optional<Condition> having{};
  bool distinct = false;
  std::vector<SortKey> order{};
  std::optional<ValueSource> limit{};  // unset: no LIMIT (or LIMIT ALL)
  std::optional<ValueSource> offset{};
};

/// A SELECT over several shards: what each shard runs and how the parts are merged.
struct FanOutPlan {
  SqlTemplate statement{};
  MergeSpec merge{};
  bool push_limit = false;  // the statement ends in LIMIT kPushedLimitSlot (limit + offset)
};

struct Analysis {
  StatementType type = StatementType::other;
  /// The key values the statement is confined to; unset when it names none.
  std::optional<Pin> pin{};
  /// Set when the statement cannot run unless pinned to one shard (an unpinned write, DDL,
  /// several statements): the reason, for the error.
  std::string needs_pin{};
  std::optional<InsertSplit> insert{};
  /// SELECT: how to run it on several shards; `fan_out_refusal` says why not when unset.
  std::optional<FanOutPlan> fan_out{};
  std::string fan_out_refusal{};
  /// A SELECT that reads no sharded table (only reference tables, or none): one shard answers.
  bool reads_sharded = true;
  /// A write to a reference table: it runs on every cluster, in one transaction.
  bool reference_write = false;
  /// Set when no per-shard evaluation gives the unsharded answer (tables not joined on the key,
  /// a subquery that sees only one shard's rows, ...): the reason. Refused unless the shard map
  /// has one cluster.
  std::string colocation_refusal{};
};

/// Analyses `sql` (PostgreSQL syntax with $n parameters) for the shard map `shards`.
/// SqlError (42601) when PostgreSQL's parser rejects it.
std::shared_ptr<const Analysis> analyze(const std::string& sql, const ShardConfig& shards,
                                        Dialect dialect);

/// SQLite's ? and ?NNN parameters as $n, so that PostgreSQL's parser reads the text; the text
/// unchanged when it has none.
std::string number_question_marks(const std::string& sql);

// Parts of analyze(), in their own files.

/// The relations of a statement's top level (tables, subqueries, CTEs), with the columns that
/// hold their shard key (none for reference tables and what reads no sharded rows).
struct Tables {
  struct Entry {
    std::string name{};  // what qualifies its columns: its alias, else its name
    std::vector<std::string> keys{};
  };
  std::vector<Entry> entries{};
  /// True when `ref` names a key column of one of them.
  bool is_key(const PgQuery__ColumnRef* ref) const;
};

/// How a statement reads sharded rows (colocation.cpp).
struct Placement {
  Tables tables{};
  /// Some scope reads a sharded table (else every shard holds what the statement reads).
  bool reads_sharded = false;
  /// Set when no per-shard evaluation gives the unsharded answer: the reason.
  std::string refusal{};
};
Placement place_select(const PgQuery__SelectStmt& select, const ShardConfig& shards);

/// UPDATE or DELETE: the target, the FROM / USING items, WHERE, and the other expressions (SET
/// values, RETURNING) whose subqueries count.
struct WriteScope {
  const PgQuery__RangeVar* target = nullptr;
  Node* const* from = nullptr;
  std::size_t n_from = 0;
  const Node* where = nullptr;
  std::vector<const Node*> expressions{};
};
Placement place_write(const WriteScope& write, const ShardConfig& shards);

/// True for a call of an aggregate function (by name or by its aggregate-only syntax).
bool is_aggregate_call(const PgQuery__FuncCall& call);

/// The fan-out plan of a SELECT, or the reason it has none (fan_out_plan.cpp).
void plan_fan_out(const ParsedSql& sql, const PgQuery__SelectStmt& select, const Tables& tables,
                  Dialect dialect, Analysis& out);

}  // namespace nexdb::shard_detail
