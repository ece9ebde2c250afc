// INSERT, one row:  insert_into(User).set(User.email = "a@x", User.status = "new")
//        many rows: insert_into(User).columns(User.email, User.status)
//                       .values("a@x", "new").values("b@x", std::nullopt)
// with .on_conflict(cols...).do_update(assignments...) / .do_nothing() and .returning(...).
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "nexdb/query/clause.hpp"
#include "nexdb/query/table.hpp"

namespace nexdb {
namespace detail {

/// Untyped state and rendering of every INSERT form.
class InsertCore {
 public:
  explicit InsertCore(const TableBase& table) : table_(&table) {}

  void add_set(Assignment&& assignment);
  void add_column(const ColumnBase& column);
  /// Starts a values() row and returns the buffer to write its values into.
  ClauseBuffer& begin_row();
  void end_row() { buffer_.text(")"); }
  void begin_conflict();
  void add_conflict_column(const ColumnBase& column);
  void set_do_nothing();
  void add_do_update(Assignment&& assignment);
  void add_returning(const Operand& item) { buffer_.add(kReturning, kReturningStyle, item); }

  Statement render(Dialect dialect) const&;
  Statement render(Dialect dialect) &&;

 private:
  // Clauses in SQL order, and how their pieces are joined.
  enum : std::uint8_t { kColumns, kValues, kConflictTarget, kConflictSet, kReturning };
  static constexpr ClauseStyle kColumnsStyle{" (", ", "};
  static constexpr ClauseStyle kSetValuesStyle{" VALUES (", ", "};
  static constexpr ClauseStyle kRowsStyle{" VALUES ", ", "};
  static constexpr ClauseStyle kConflictTargetStyle{" ON CONFLICT (", ", "};
  static constexpr ClauseStyle kConflictSetStyle{" DO UPDATE SET ", ", "};
  static constexpr ClauseStyle kReturningStyle{" RETURNING ", ", "};
  enum class Action : std::uint8_t { none, nothing, update };
  template <class Self>
  static Statement render_impl(Self&& self, Dialect dialect);
  void check_table(const ColumnBase& column, std::string_view clause) const;

  const TableBase* table_;
  ClauseBuffer buffer_;
  bool by_set_ = false;
  bool by_columns_ = false;
  bool has_conflict_ = false;
  Action action_ = Action::none;
};

template <class A>
inline constexpr bool is_assignment_v = std::same_as<std::remove_cvref_t<A>, Assignment>;

}  // namespace detail

/// Clauses shared by both INSERT forms (CRTP so that chaining keeps the concrete type).
template <class Self>
class InsertClauses {
 public:
  /// `ON CONFLICT (columns...)`: the columns of a unique index or constraint. Must be followed
  /// by do_update() or do_nothing(); do_nothing() also works with no columns.
  template <class... C>
  Self& on_conflict(const C&... columns) & {
    static_assert((std::derived_from<C, ColumnBase> && ...),
                  "nexdb: on_conflict() takes the columns of a unique index or constraint");
    core_.begin_conflict();
    (core_.add_conflict_column(columns), ...);
    return self();
  }
  /// `DO UPDATE SET col = value, ...`; use excluded(col) for the value proposed for insertion.
  template <class... A>
  Self& do_update(A&&... assignments) & {
    static_assert(
        sizeof...(A) > 0 && (detail::is_assignment_v<A> && ...),
        "nexdb: do_update() takes assignments such as User.status = excluded(User.status)");
    (core_.add_do_update(Assignment(std::forward<A>(assignments))), ...);
    return self();
  }
  Self& do_nothing() & {
    core_.set_do_nothing();
    return self();
  }
  /// `RETURNING items...`: columns, expressions or .as() aliases.
  template <class... X>
  Self& returning(X&&... items) & {
    static_assert(sizeof...(X) > 0 && (SelectItem<X> && ...),
                  "nexdb: returning() takes columns, expressions or .as() aliases");
    (core_.add_returning(detail::Access::operand(std::forward<X>(items))), ...);
    return self();
  }

  NEXDB_RVALUE_CHAIN(Self, on_conflict)
  NEXDB_RVALUE_CHAIN(Self, do_update)
  NEXDB_RVALUE_CHAIN(Self, do_nothing)
  NEXDB_RVALUE_CHAIN(Self, returning)

  /// Throws UsageError for an incomplete statement (columns() without values(), on_conflict()
  /// without an action, do_update() without conflict columns).
  Statement render(Dialect dialect) const& { return core_.render(dialect); }
  Statement render(Dialect dialect) && { return std::move(core_).render(dialect); }

 protected:
  explicit InsertClauses(detail::InsertCore core) : core_(std::move(core)) {}
  Self& self() { return static_cast<Self&>(*this); }
  detail::InsertCore core_;
};

/// INSERT of many rows, typed by the columns given to columns().
template <class... Ts>
class InsertRows : public InsertClauses<InsertRows<Ts...>> {
 public:
  explicit InsertRows(detail::InsertCore core) : InsertClauses<InsertRows>(std::move(core)) {}

  /// One row: one value (or expression) per column, each storable in its column.
  template <class... V>
  InsertRows& values(V&&... values) & {
    static_assert(sizeof...(V) == sizeof...(Ts),
                  "nexdb: values() takes one value per column named in columns()");
    static_assert((detail::assignable_to<Ts, V>() && ...),
                  "nexdb: a value in values() cannot be stored in its column: the kinds must "
                  "match and only std::optional columns accept std::nullopt");
    detail::append_list(this->core_.begin_row(), std::forward<V>(values)...);
    this->core_.end_row();
    return *this;
  }
  NEXDB_RVALUE_CHAIN(InsertRows, values)
};

/// INSERT INTO table: set(...) for one row, columns(...).values(...)... for many.
class InsertQuery : public InsertClauses<InsertQuery> {
 public:
  explicit InsertQuery(const TableBase& table) : InsertClauses(detail::InsertCore(table)) {}

  /// Columns and values of the single row, as assignments: User.email = "a@x".
  template <class... A>
  InsertQuery& set(A&&... assignments) & {
    static_assert((detail::is_assignment_v<A> && ...),
                  "nexdb: set() takes assignments such as User.email = \"a@x\"");
    (core_.add_set(Assignment(std::forward<A>(assignments))), ...);
    return *this;
  }
  NEXDB_RVALUE_CHAIN(InsertQuery, set)

  /// Names the columns; each following values() call adds a row typed by them.
  template <class... T>
  InsertRows<T...> columns(const Column<T>&... columns) && {
    static_assert(sizeof...(T) > 0, "nexdb: columns() takes one or more columns");
    (core_.add_column(columns), ...);
    return InsertRows<T...>(std::move(core_));
  }
  template <class... T>
  InsertRows<T...> columns(const Column<T>&... cols) const& {
    return InsertQuery(*this).columns(cols...);
  }
};

inline InsertQuery insert_into(const TableBase& table) { return InsertQuery(table); }

}  // namespace nexdb
