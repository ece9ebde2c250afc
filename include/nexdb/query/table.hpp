// Models: Table<Derived> and Column<T>. A model is declared once and used in queries:
//
//   struct Users : Table<Users> {
//     static constexpr std::string_view table_name = "users";
//     Column<std::int64_t> id{this, "id"};
//     Column<std::optional<std::string>> status{this, "status"};  // nullable
//   };
//   inline const Users User;
#pragma once

#include <concepts>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nexdb/query/expr.hpp"

namespace nexdb {

class ColumnBase;

namespace detail {
/// A column's names, owned by its table so that copies of the column (and lazy comparisons
/// that point at them) stay valid as long as the model lives.
struct ColumnNames {
  std::string name;
  std::string qualified;  // "users"."id"
  std::size_t name_offset = 0;
};
}  // namespace detail

/// What every model shares: its validated, quoted name and its columns in declaration order.
/// Models are neither copied nor moved: columns point at their table.
class TableBase {
 public:
  TableBase(const TableBase&) = delete;
  TableBase& operator=(const TableBase&) = delete;

  const std::string& name() const noexcept { return name_; }
  /// The name as it appears in SQL: "users".
  const std::string& quoted_name() const noexcept { return quoted_name_; }
  const std::vector<const ColumnBase*>& columns() const noexcept { return columns_; }
  /// The column called `name`; throws ColumnNotFound.
  const ColumnBase& column(std::string_view name) const;

 protected:
  /// Throws UsageError for an invalid name (empty, control characters, over 63 bytes).
  explicit TableBase(std::string_view name);
  ~TableBase() = default;

 private:
  friend class ColumnBase;
  std::string name_;
  std::string quoted_name_;
  std::vector<const ColumnBase*> columns_;
  std::deque<detail::ColumnNames> column_names_;
};

/// CRTP base of a model; the table name comes from `Derived::table_name`.
template <class Derived>
class Table : public TableBase {
 public:
  // Public so that `Users{}` (aggregate initialisation of a model) compiles too.
  Table() : TableBase(name_of()) {}

 private:
  static constexpr std::string_view name_of() {
    static_assert(
        requires { std::string_view(Derived::table_name); },
        "nexdb: a model needs `static constexpr std::string_view table_name = \"...\";`");
    return Derived::table_name;
  }
};

/// The untyped part of a column: its table and its names.
class ColumnBase {
 public:
  const std::string& name() const noexcept { return names_->name; }
  const TableBase& table() const noexcept { return *table_; }
  /// `"users"."id"`: how the column appears in expressions.
  std::string_view qualified_name() const noexcept { return names_->qualified; }
  /// `"id"`: how it appears in INSERT column lists, SET and ON CONFLICT.
  std::string_view quoted_name() const noexcept {
    return std::string_view(names_->qualified).substr(names_->name_offset);
  }

 protected:
  /// Registers the column with its table. Throws UsageError for an invalid name.
  ColumnBase(TableBase* table, std::string_view name);
  ColumnBase(const ColumnBase&) = default;
  ColumnBase& operator=(const ColumnBase&) = delete;
  ~ColumnBase() = default;

 private:
  const TableBase* table_;
  const detail::ColumnNames* names_;
};

/// `column = value` inside set(), do_update(): the column and the value's fragment.
class Assignment {
 public:
  Assignment(const ColumnBase& column, detail::Fragment value)
      : column_(&column), value_(std::move(value)) {}
  const ColumnBase& column() const noexcept { return *column_; }

 private:
  friend struct detail::Access;
  detail::Operand operand() && { return detail::take(value_); }
  const ColumnBase* column_;
  detail::Fragment value_;
};

#define NEXDB_ASSIGN_MESSAGE                                                                \
  "nexdb: this value cannot be stored in the column: the kinds must match (an integer may " \
  "go into a floating-point column) and only std::optional columns accept std::nullopt"

/// A typed column of a model. T is the C++ type of its values; std::optional<T> marks a
/// nullable column. `col = value` makes an Assignment for set(); it does not modify the model.
template <class T>
class Column : public ColumnBase, public ExprOps<Column<T>, T> {
  static_assert(detail::is_storage_type_v<detail::unoptional_t<T>>,
                "nexdb: Column<T> holds bool, an integer, a floating-point type, std::string, "
                "Bytes or Timestamp, or a std::optional of one of them");

 public:
  using value_type = T;
  /// The column's text is owned by its model (see detail::has_stable_text_v).
  static constexpr bool kStableText = true;

  Column(TableBase* table, std::string_view name) : ColumnBase(table, name) {}
  Column(const Column&) = default;

  Assignment operator=(const Column& other) const { return assign(other); }
  template <class V>
  Assignment operator=(V&& value) const {
    static_assert(detail::assignable_to<T, V>(), NEXDB_ASSIGN_MESSAGE);
    return assign(std::forward<V>(value));
  }

 private:
  friend struct detail::Access;
  detail::Operand operand() const {
    return detail::one_piece(detail::text_piece(qualified_name()), detail::Prec::atom);
  }

  template <class V>
  Assignment assign(V&& value) const {
    auto held = detail::hold<void>(std::forward<V>(value));
    detail::Fragment f;
    detail::append(f, detail::as_operand(held));
    return Assignment(*this, std::move(f));
  }
};

#undef NEXDB_ASSIGN_MESSAGE

/// The row proposed for insertion, inside on_conflict(...).do_update(...):
/// `User.status = excluded(User.status)` renders `"status" = excluded."status"`.
template <class T>
Expr<T> excluded(const Column<T>& column) {
  return Expr<T>(detail::text_fragment("excluded.", column.quoted_name()));
}

}  // namespace nexdb
