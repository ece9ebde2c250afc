// DELETE: delete_from(User).where(User.id == 5).returning(User.email)
#pragma once

#include <cstdint>
#include <utility>

#include "nexdb/query/clause.hpp"
#include "nexdb/query/table.hpp"

namespace nexdb {

class DeleteQuery {
 public:
  explicit DeleteQuery(const TableBase& table);

  /// Without where() every row is deleted.
  template <class C>
  DeleteQuery& where(C&& condition) & {
    static_assert(Condition<C>, NEXDB_CONDITION_MESSAGE("where()"));
    buffer_.add(kWhere, kWhereStyle, detail::Access::operand(std::forward<C>(condition)));
    return *this;
  }
  template <class... X>
  DeleteQuery& returning(X&&... items) & {
    static_assert(sizeof...(X) > 0 && (SelectItem<X> && ...),
                  "nexdb: returning() takes columns, expressions or .as() aliases");
    (buffer_.add(kReturning, kReturningStyle, detail::Access::operand(std::forward<X>(items))),
     ...);
    return *this;
  }
  NEXDB_RVALUE_CHAIN(DeleteQuery, where)
  NEXDB_RVALUE_CHAIN(DeleteQuery, returning)

  Statement render(Dialect dialect) const&;
  Statement render(Dialect dialect) &&;

 private:
  // Clauses in SQL order, and how their pieces are joined.
  enum : std::uint8_t { kWhere, kReturning };
  static constexpr detail::ClauseStyle kWhereStyle{" WHERE ", " AND ", detail::Prec::logical_and};
  static constexpr detail::ClauseStyle kReturningStyle{" RETURNING ", ", "};
  template <class Self>
  static Statement render_impl(Self&& self, Dialect dialect);

  const TableBase* table_;
  detail::ClauseBuffer buffer_;
};

inline DeleteQuery delete_from(const TableBase& table) { return DeleteQuery(table); }

}  // namespace nexdb
