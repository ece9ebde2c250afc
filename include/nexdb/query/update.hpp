// UPDATE: update(User).set(User.status = "active").where(User.id == 5).returning(User.id)
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "nexdb/query/clause.hpp"
#include "nexdb/query/table.hpp"

namespace nexdb {

class UpdateQuery {
 public:
  explicit UpdateQuery(const TableBase& table);

  /// Assignments to columns of the updated table: User.status = "active",
  /// Order.total = Order.total * 1.1. Throws UsageError for another table's column.
  template <class... A>
  UpdateQuery& set(A&&... assignments) & {
    static_assert(sizeof...(A) > 0 && (std::same_as<std::remove_cvref_t<A>, Assignment> && ...),
                  "nexdb: set() takes assignments such as User.status = \"active\"");
    (add_set(Assignment(std::forward<A>(assignments))), ...);
    return *this;
  }
  /// Without where() every row is updated.
  template <class C>
  UpdateQuery& where(C&& condition) & {
    static_assert(Condition<C>, NEXDB_CONDITION_MESSAGE("where()"));
    buffer_.add(kWhere, kWhereStyle, detail::Access::operand(std::forward<C>(condition)));
    return *this;
  }
  template <class... X>
  UpdateQuery& returning(X&&... items) & {
    static_assert(sizeof...(X) > 0 && (SelectItem<X> && ...),
                  "nexdb: returning() takes columns, expressions or .as() aliases");
    (buffer_.add(kReturning, kReturningStyle, detail::Access::operand(std::forward<X>(items))),
     ...);
    return *this;
  }
  NEXDB_RVALUE_CHAIN(UpdateQuery, set)
  NEXDB_RVALUE_CHAIN(UpdateQuery, where)
  NEXDB_RVALUE_CHAIN(UpdateQuery, returning)

  /// Throws UsageError when set() was never called.
  Statement render(Dialect dialect) const&;
  Statement render(Dialect dialect) &&;

 private:
  // Clauses in SQL order, and how their pieces are joined.
  enum : std::uint8_t { kSet, kWhere, kReturning };
  static constexpr detail::ClauseStyle kSetStyle{" SET ", ", "};
  static constexpr detail::ClauseStyle kWhereStyle{" WHERE ", " AND ", detail::Prec::logical_and};
  static constexpr detail::ClauseStyle kReturningStyle{" RETURNING ", ", "};
  template <class Self>
  static Statement render_impl(Self&& self, Dialect dialect);
  void add_set(Assignment&& assignment);

  const TableBase* table_;
  detail::ClauseBuffer buffer_;
};

inline UpdateQuery update(const TableBase& table) { return UpdateQuery(table); }

}  // namespace nexdb
