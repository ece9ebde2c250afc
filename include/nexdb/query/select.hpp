// SELECT: select(...).from(...).join(...).where(...).group_by(...).having(...).order_by(...)
//         .limit(n).offset(n)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "nexdb/query/clause.hpp"
#include "nexdb/query/table.hpp"

namespace nexdb {

class SelectQuery;
template <class... Items>
SelectQuery select(Items&&... items);

/// A SELECT statement under construction. Clauses may be given in any order; where() and
/// having() called more than once combine with AND, the list clauses append.
class SelectQuery {
 public:
  SelectQuery& distinct() &;
  /// FROM table (a second call adds a table: FROM a, b).
  SelectQuery& from(const TableBase& table) &;

  /// `JOIN table ON on` / `LEFT JOIN table ON on`.
  template <class C>
  SelectQuery& join(const TableBase& table, C&& on) & {
    static_assert(Condition<C>, NEXDB_CONDITION_MESSAGE("join()"));
    return join_on(" JOIN ", table, detail::Access::operand(std::forward<C>(on)));
  }
  template <class C>
  SelectQuery& left_join(const TableBase& table, C&& on) & {
    static_assert(Condition<C>, NEXDB_CONDITION_MESSAGE("left_join()"));
    return join_on(" LEFT JOIN ", table, detail::Access::operand(std::forward<C>(on)));
  }
  /// The same, with the condition given by an on() call that must come next.
  SelectQuery& join(const TableBase& table) &;
  SelectQuery& left_join(const TableBase& table) &;
  template <class C>
  SelectQuery& on(C&& condition) & {
    static_assert(Condition<C>, NEXDB_CONDITION_MESSAGE("on()"));
    add_on(detail::Access::operand(std::forward<C>(condition)));
    return *this;
  }

  template <class C>
  SelectQuery& where(C&& condition) & {
    static_assert(Condition<C>, NEXDB_CONDITION_MESSAGE("where()"));
    buffer_.add(kWhere, kWhereStyle, detail::Access::operand(std::forward<C>(condition)));
    return *this;
  }

  template <class... X>
  SelectQuery& group_by(X&&... exprs) & {
    static_assert(sizeof...(X) > 0 && (SqlExpr<X> && ...),
                  "nexdb: group_by() takes one or more expressions");
    (buffer_.add(kGroupBy, kGroupByStyle, detail::Access::operand(std::forward<X>(exprs))), ...);
    return *this;
  }

  template <class C>
  SelectQuery& having(C&& condition) & {
    static_assert(Condition<C>, NEXDB_CONDITION_MESSAGE("having()"));
    buffer_.add(kHaving, kHavingStyle, detail::Access::operand(std::forward<C>(condition)));
    return *this;
  }

  /// Expressions (ascending) or terms from asc(), desc(), nulls_first(), nulls_last().
  template <class... X>
  SelectQuery& order_by(X&&... items) & {
    static_assert(sizeof...(X) > 0 && (OrderItem<X> && ...),
                  "nexdb: order_by() takes expressions or .asc()/.desc() terms");
    (buffer_.add(kOrderBy, kOrderByStyle, detail::Access::operand(std::forward<X>(items))), ...);
    return *this;
  }

  /// Bound as parameters like every other value. Negative counts throw UsageError.
  SelectQuery& limit(std::int64_t count) &;
  SelectQuery& offset(std::int64_t count) &;

  NEXDB_RVALUE_CHAIN(SelectQuery, distinct)
  NEXDB_RVALUE_CHAIN(SelectQuery, from)
  NEXDB_RVALUE_CHAIN(SelectQuery, join)
  NEXDB_RVALUE_CHAIN(SelectQuery, left_join)
  NEXDB_RVALUE_CHAIN(SelectQuery, on)
  NEXDB_RVALUE_CHAIN(SelectQuery, where)
  NEXDB_RVALUE_CHAIN(SelectQuery, group_by)
  NEXDB_RVALUE_CHAIN(SelectQuery, having)
  NEXDB_RVALUE_CHAIN(SelectQuery, order_by)
  NEXDB_RVALUE_CHAIN(SelectQuery, limit)
  NEXDB_RVALUE_CHAIN(SelectQuery, offset)

  /// The SQL text and its parameters; throws UsageError for an incomplete statement
  /// (a join without a condition). The rvalue form moves the bound values out.
  Statement render(Dialect dialect) const&;
  Statement render(Dialect dialect) &&;

 private:
  // Clauses in SQL order, and how their pieces are joined.
  enum : std::uint8_t { kItems, kFrom, kJoin, kWhere, kGroupBy, kHaving, kOrderBy };
  static constexpr detail::ClauseStyle kItemsStyle{"", ", "};
  static constexpr detail::ClauseStyle kFromStyle{" FROM ", ", "};
  static constexpr detail::ClauseStyle kJoinStyle{"", ""};
  static constexpr detail::ClauseStyle kWhereStyle{" WHERE ", " AND ", detail::Prec::logical_and};
  static constexpr detail::ClauseStyle kGroupByStyle{" GROUP BY ", ", "};
  static constexpr detail::ClauseStyle kHavingStyle{" HAVING ", " AND ", detail::Prec::logical_and};
  static constexpr detail::ClauseStyle kOrderByStyle{" ORDER BY ", ", "};

  template <class... Items>
  friend SelectQuery select(Items&&... items);
  template <class Self>
  static Statement render_impl(Self&& self, Dialect dialect);

  SelectQuery& join_on(std::string_view kind, const TableBase& table, const detail::Operand& on);
  void add_join(std::string_view kind, const TableBase& table);
  void add_on(const detail::Operand& condition);

  detail::ClauseBuffer buffer_;
  std::optional<std::int64_t> limit_;
  std::optional<std::int64_t> offset_;
  bool distinct_ = false;
  bool awaiting_on_ = false;
};

/// `SELECT items...`: columns, expressions, aggregates and `.as()` aliases; none means `*`.
template <class... Items>
SelectQuery select(Items&&... items) {
  static_assert((SelectItem<Items> && ...),
                "nexdb: select() takes columns, expressions, aggregates or .as() aliases");
  SelectQuery query;
  (query.buffer_.add(SelectQuery::kItems, SelectQuery::kItemsStyle,
                     detail::Access::operand(std::forward<Items>(items))),
   ...);
  return query;
}

}  // namespace nexdb
