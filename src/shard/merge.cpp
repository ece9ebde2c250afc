#include "shard/merge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "nexdb/error.hpp"
#include "nexdb/shard.hpp"
#include "shard/values.hpp"

namespace nexdb::shard_detail {
namespace {

using Row = std::vector<Value>;

std::optional<std::int64_t> count_of(const std::optional<ValueSource>& source,
                                     std::span<const Value> params, std::string_view clause) {
  if (!source) return std::nullopt;
  const Value& value = source->resolve(params);
  if (value.is_null()) return std::nullopt;
  try {
    return value.as<std::int64_t>();
  } catch (const Error&) {
    throw UsageError(
        fmt::format("{} must be an integer, got {}", clause, value.to_display_string()));
  }
}

// Orders rows as ORDER BY does on the shards, NULLs where the dialect (or NULLS FIRST/LAST) puts
// them.
class RowOrder {
 public:
  RowOrder(const MergeSpec& spec, std::size_t columns, const std::vector<ColumnType>& types)
      : spec_(spec), columns_(columns), types_(types) {}

  int compare(const Value* a, const Value* b) const {
    for (const SortKey& key : spec_.order) {
      const std::size_t c = key.column.in(columns_, spec_.hidden);
      const bool a_null = a[c].is_null();
      const bool b_null = b[c].is_null();
      if (a_null && b_null) continue;
      if (a_null || b_null) {
        const bool nulls_first = key.nulls_first.value_or(
            spec_.dialect == Dialect::postgres ? key.descending : !key.descending);
        return a_null == nulls_first ? -1 : 1;
      }
      const int c3 = compare_values(a[c], b[c], types_[c]);
      if (c3 != 0) return key.descending ? -c3 : c3;
    }
    return 0;
  }

 private:
  const MergeSpec& spec_;
  std::size_t columns_;
  const std::vector<ColumnType>& types_;
};

std::string key_of(const Value* row, std::span<const std::size_t> columns,
                   const std::vector<ColumnType>& types) {
  std::string key;
  for (std::size_t c : columns) append_key(key, {row[c], types[c]});
  return key;
}

// Each column's type as the shards report it (a shard without rows may not say, on SQLite).
std::vector<ColumnType> column_types(const std::vector<Rows>& parts, std::size_t columns) {
  std::vector<ColumnType> types(columns, ColumnType::unknown);
  for (std::size_t c = 0; c < columns; ++c) {
    for (const Rows& part : parts) {
      if (part.column_type(c) != ColumnType::unknown) {
        types[c] = part.column_type(c);
        break;
      }
    }
  }
  return types;
}

// What HAVING evaluates on: a merged group, its column types and the statement's parameters.
struct GroupRow {
  const Row& row;
  const std::vector<ColumnType>& types;
  std::size_t hidden;
  std::span<const Value> params;
};

Typed operand(const Condition& cond, const GroupRow& g) {
  if (cond.kind == Condition::Kind::column) {
    const std::size_t c = cond.column.in(g.row.size(), g.hidden);
    return {g.row[c], g.types[c]};
  }
  return {cond.value.resolve(g.params)};
}

bool compare_holds(std::string_view op, int c) {
  if (op == "=") return c == 0;
  if (op == "<>") return c != 0;
  if (op == "<") return c < 0;
  if (op == ">") return c > 0;
  if (op == "<=") return c <= 0;
  return c >= 0;
}

// Three-valued logic: 0 false, 1 true, 2 unknown (NULL).
int evaluate(const Condition& cond, const GroupRow& g) {
  using K = Condition::Kind;
  switch (cond.kind) {
    case K::all_of:
    case K::any_of: {
      const int decisive = cond.kind == K::all_of ? 0 : 1;
      bool unknown = false;
      for (const auto& arg : cond.args) {
        const int r = evaluate(arg, g);
        if (r == decisive) return decisive;
        unknown = unknown || r == 2;
      }
      return unknown ? 2 : 1 - decisive;
    }
    case K::negate: {
      const int r = evaluate(cond.args.at(0), g);
      return r == 2 ? 2 : 1 - r;
    }
    case K::is_null:
    case K::is_not_null: {
      const bool null = operand(cond.args.at(0), g).value.is_null();
      return (null == (cond.kind == K::is_null)) ? 1 : 0;
    }
    case K::compare: {
      Typed a = operand(cond.args.at(0), g);
      Typed b = operand(cond.args.at(1), g);
      if (a.value.is_null() || b.value.is_null()) return 2;
      // A constant or parameter is read as the column it is compared with.
      if (cond.args.at(0).kind != Condition::Kind::column) a.type = b.type;
      if (cond.args.at(1).kind != Condition::Kind::column) b.type = a.type;
      return compare_holds(cond.op, compare_values(a, b)) ? 1 : 0;
    }
    default: {
      const Value& v = operand(cond, g).value;
      if (v.is_null()) return 2;
      return v.type() == ValueType::boolean && std::get<bool>(v.storage()) ? 1 : 0;
    }
  }
}

class Merger {
 public:
  Merger(const MergeSpec& spec, std::vector<Rows> parts, std::span<const Value> params)
      : spec_(spec), parts_(std::move(parts)), params_(params) {
    columns_ = parts_.front().column_count();
    for (const Rows& part : parts_) {
      if (part.column_count() != columns_) {
        throw Error(
            fmt::format("the shards returned different columns ({} and {}): is the schema the "
                        "same on every shard?",
                        columns_, part.column_count()));
      }
    }
    if (columns_ < spec_.hidden)
      throw Error("a shard's result lacks the columns added for the merge");
    visible_ = columns_ - spec_.hidden;
    types_ = column_types(parts_, columns_);
    check_types();
    offset_ = std::max<std::int64_t>(0, count_of(spec_.offset, params_, "OFFSET").value_or(0));
    limit_ = count_of(spec_.limit, params_, "LIMIT");
    if (limit_ && *limit_ < 0) limit_.reset();  // SQLite: a negative LIMIT means none
  }

  Rows run() {
    if (spec_.grouped) {
      combine_groups();
      if (spec_.having) filter_having();
      if (spec_.distinct) deduplicate();
      sort_rows();
      take_rows();
    } else if (!spec_.order.empty()) {
      merge_sorted();
    } else {
      concatenate();
    }
    return finish();
  }

 private:
  std::size_t column(ColumnIndex index) const { return index.in(columns_, spec_.hidden); }

  // Values of a type whose order and equality are PostgreSQL's own (interval, json, enums, ...)
  // cannot be sorted, grouped or combined here: refused rather than merged by their text.
  void check_types() const {
    std::vector<std::size_t> compared;
    for (const SortKey& key : spec_.order) compared.push_back(column(key.column));
    for (ColumnIndex g : spec_.group_by) compared.push_back(column(g));
    for (const auto& agg : spec_.aggregates) {
      if (agg.kind == Aggregate::avg) {
        compared.push_back(column(agg.sum));
      } else if (agg.kind != Aggregate::count) {
        compared.push_back(column(agg.column));
      }
    }
    if (spec_.distinct) {
      for (std::size_t c = 0; c < visible_; ++c) compared.push_back(c);
    }
    for (std::size_t c : compared) {
      if (!is_opaque(types_[c])) continue;
      const std::string& name = parts_.front().columns()[c];
      throw UnroutableStatement(fmt::format(
          "column \"{}\" has a PostgreSQL type (interval, json, an enum, an array, ...) whose "
          "order and equality nexdb does not reproduce outside the database, so it cannot be "
          "sorted, grouped or aggregated across shards: cast it in the query (e.g. {}::text) to "
          "merge it by its text, or pin the query to one shard",
          name, name.starts_with("__nexdb_") ? "expression" : name));
    }
  }

  Row copy_row(const Rows& part, std::size_t r) const {
    Row row(columns_);
    for (std::size_t c = 0; c < columns_; ++c) row[c] = part.value(r, c);
    return row;
  }

  // Emits a row unless DISTINCT saw it already or OFFSET skips it; false once LIMIT is reached.
  bool emit(Row row) {
    if (limit_ && static_cast<std::int64_t>(out_.size()) >= *limit_) return false;
    if (spec_.distinct) {
      std::vector<std::size_t> all(visible_);
      for (std::size_t c = 0; c < visible_; ++c) all[c] = c;
      if (!seen_.insert(key_of(row.data(), all, types_)).second) return true;
    }
    if (skipped_ < offset_) {
      ++skipped_;
      return true;
    }
    out_.push_back(std::move(row));
    return !limit_ || static_cast<std::int64_t>(out_.size()) < *limit_;
  }

  void concatenate() {
    for (const Rows& part : parts_) {
      for (std::size_t r = 0; r < part.size(); ++r) {
        if (!emit(copy_row(part, r))) return;
      }
    }
  }

  // Each part is sorted already: repeatedly take the smallest head (ties: lower shard first).
  void merge_sorted() {
    const RowOrder order(spec_, columns_, types_);
    struct Cursor {
      std::size_t part;
      std::size_t row;
    };
    auto head = [&](const Cursor& c) { return &parts_[c.part].value(c.row, 0); };
    auto later = [&](const Cursor& a, const Cursor& b) {
      const int c = order.compare(head(a), head(b));
      return c != 0 ? c > 0 : a.part > b.part;
    };
    std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later);
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      if (!parts_[p].empty()) heap.push({p, 0});
    }
    while (!heap.empty()) {
      const Cursor c = heap.top();
      heap.pop();
      if (!emit(copy_row(parts_[c.part], c.row))) return;
      if (c.row + 1 < parts_[c.part].size()) heap.push({c.part, c.row + 1});
    }
  }

  void combine(Row& into, const Rows& part, std::size_t r) const {
    for (const auto& agg : spec_.aggregates) {
      const std::size_t c = column(agg.column);
      const Value& v = part.value(r, c);
      switch (agg.kind) {
        case Aggregate::count:
        case Aggregate::sum:
          into[c] = add_values(into[c], v, types_[c]);
          break;
        case Aggregate::min:
        case Aggregate::max:
          if (!v.is_null() && (into[c].is_null() || (compare_values(v, into[c], types_[c]) < 0) ==
                                                        (agg.kind == Aggregate::min))) {
            into[c] = v;
          }
          break;
        case Aggregate::avg:
          for (ColumnIndex part_column : {agg.sum, agg.count}) {
            const std::size_t pc = column(part_column);
            into[pc] = add_values(into[pc], part.value(r, pc), types_[pc]);
          }
          break;
      }
    }
  }

  void combine_groups() {
    std::vector<std::size_t> keys;
    for (ColumnIndex g : spec_.group_by) keys.push_back(column(g));
    std::unordered_map<std::string, std::size_t> index;
    for (const Rows& part : parts_) {
      for (std::size_t r = 0; r < part.size(); ++r) {
        auto [it, fresh] = index.emplace(key_of(&part.value(r, 0), keys, types_), groups_.size());
        if (fresh) {
          groups_.push_back(copy_row(part, r));
        } else {
          combine(groups_[it->second], part, r);
        }
      }
    }
    for (Row& group : groups_) {
      for (const auto& agg : spec_.aggregates) {
        if (agg.kind != Aggregate::avg) continue;
        const Value& sum = group[column(agg.sum)];
        const Value& count = group[column(agg.count)];
        const double n = count.is_null() ? 0 : to_double(count);
        group[column(agg.column)] =
            sum.is_null() || n == 0 ? Value(null) : Value(to_double(sum) / n);
      }
    }
  }

  void filter_having() {
    std::erase_if(groups_, [&](const Row& row) {
      return evaluate(*spec_.having, GroupRow{row, types_, spec_.hidden, params_}) != 1;
    });
  }

  void deduplicate() {
    std::vector<std::size_t> all(visible_);
    for (std::size_t c = 0; c < visible_; ++c) all[c] = c;
    std::unordered_set<std::string> seen;
    std::erase_if(groups_, [&](const Row& row) {
      return !seen.insert(key_of(row.data(), all, types_)).second;
    });
  }

  void sort_rows() {
    if (spec_.order.empty()) return;
    const RowOrder order(spec_, columns_, types_);
    std::stable_sort(groups_.begin(), groups_.end(), [&](const Row& a, const Row& b) {
      return order.compare(a.data(), b.data()) < 0;
    });
  }

  // DISTINCT was applied to the groups already: only OFFSET and LIMIT remain.
  void take_rows() {
    for (Row& row : groups_) {
      if (limit_ && static_cast<std::int64_t>(out_.size()) >= *limit_) break;
      if (skipped_ < offset_) {
        ++skipped_;
        continue;
      }
      out_.push_back(std::move(row));
    }
  }

  Rows finish() {
    std::vector<std::string> names(
        parts_.front().columns().begin(),
        parts_.front().columns().begin() + static_cast<std::ptrdiff_t>(visible_));
    std::vector<Value> values;
    values.reserve(out_.size() * visible_);
    for (Row& row : out_) {
      for (std::size_t c = 0; c < visible_; ++c) values.push_back(std::move(row[c]));
    }
    auto types = std::make_shared<std::vector<ColumnType>>(types_.begin(),
                                                           types_.begin() + visible_offset());
    for (const auto& agg : spec_.aggregates) {
      if (agg.kind == Aggregate::avg) (*types)[column(agg.column)] = ColumnType::real;
    }
    const auto count = static_cast<std::int64_t>(out_.size());
    return Rows(std::make_shared<const std::vector<std::string>>(std::move(names)),
                std::move(types), std::move(values), count);
  }

  std::ptrdiff_t visible_offset() const { return static_cast<std::ptrdiff_t>(visible_); }

  const MergeSpec& spec_;
  std::vector<Rows> parts_;
  std::span<const Value> params_;
  std::size_t columns_ = 0;
  std::size_t visible_ = 0;
  std::vector<ColumnType> types_;
  std::int64_t offset_ = 0;
  std::optional<std::int64_t> limit_;
  std::int64_t skipped_ = 0;
  std::vector<Row> groups_;
  std::vector<Row> out_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

Rows merge(const MergeSpec& spec, std::vector<Rows> parts, std::span<const Value> params) {
  if (parts.empty()) throw Error("nothing to merge: no shard returned a result");
  return Merger(spec, std::move(parts), params).run();
}

std::int64_t pushed_limit(const MergeSpec& spec, std::span<const Value> params) {
  const auto limit = count_of(spec.limit, params, "LIMIT");
  if (!limit || *limit < 0) return -1;
  const auto offset =
      std::max<std::int64_t>(0, count_of(spec.offset, params, "OFFSET").value_or(0));
  std::int64_t pushed = 0;
  // Past the largest count: no limit at all is the same.
  if (__builtin_add_overflow(*limit, offset, &pushed)) return -1;
  return pushed;
}

}  // namespace nexdb::shard_detail
