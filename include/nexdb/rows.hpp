// Query results: Rows (a fully fetched result) and Row (a view of one of its rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "nexdb/value.hpp"

namespace nexdb {

class Rows;

/// A result column's type as the database declares it. A value's C++ kind does not always say
/// what it means: PostgreSQL `numeric` values arrive as exact decimal text, so only the column's
/// type tells the number 10 ("10", `numeric`) from the text '10' (`text`).
enum class ColumnType : std::uint8_t {
  unknown,    // not declared: SQLite expressions and NUMERIC or BLOB columns, Rows built in code
  boolean,    // values are bool
  integer,    // int64
  real,       // double
  numeric,    // exact decimal as text ("12.50", "NaN"): PostgreSQL numeric / decimal
  text,       // text: text, varchar, char, name, uuid (SQLite: TEXT affinity)
  bytes,      // Bytes
  timestamp,  // Timestamp: timestamp, timestamptz, date
  other,      // a PostgreSQL type without a nexdb value kind, as its text: interval, json, enums,
              // arrays, ... (its order and equality are PostgreSQL's, not those of the text)
};
std::string_view to_string(ColumnType type) noexcept;

/// One row of a Rows result; valid while the Rows it came from lives.
class Row {
 public:
  Row(const Rows* rows, std::size_t index) : rows_(rows), index_(index) {}

  std::size_t size() const noexcept;
  const Value& operator[](std::size_t column) const;
  const Value& operator[](std::string_view column) const { return at(column); }
  const Value& at(std::string_view column) const;

  /// Typed access by name or position. Throws ColumnNotFound for an unknown name and
  /// TypeMismatch (naming the column) when the value is not a T; use std::optional<T> for NULLs.
  template <class T>
  T get(std::string_view column) const;
  template <class T>
  T get(std::size_t column) const;

  /// Several columns at once, by position: `auto [id, email] = row.as<int64_t, std::string>();`
  template <class... T>
  std::tuple<T...> as() const {
    return as_impl<T...>(std::index_sequence_for<T...>{});
  }

 private:
  template <class... T, std::size_t... I>
  std::tuple<T...> as_impl(std::index_sequence<I...>) const {
    return {get<T>(I)...};
  }
  [[noreturn]] void rethrow_with_column(std::size_t column) const;

  const Rows* rows_;
  std::size_t index_;
};

/// A complete result: column names, values (row-major) and the affected-row count.
class Rows {
 public:
  /// Column names, shared between the results of one cached statement.
  using Columns = std::shared_ptr<const std::vector<std::string>>;
  /// Column types, shared like the names; null when the result does not say (all unknown).
  using ColumnTypes = std::shared_ptr<const std::vector<ColumnType>>;

  Rows();
  Rows(std::vector<std::string> columns, std::vector<Value> values, std::int64_t affected_rows);
  Rows(Columns columns, std::vector<Value> values, std::int64_t affected_rows);
  /// With the database's column types (one per column, or null).
  Rows(Columns columns, ColumnTypes types, std::vector<Value> values, std::int64_t affected_rows);

  std::size_t size() const noexcept { return columns_->empty() ? 0 : values_.size() / columns_->size(); }
  bool empty() const noexcept { return size() == 0; }
  std::size_t column_count() const noexcept { return columns_->size(); }
  const std::vector<std::string>& columns() const noexcept { return *columns_; }
  /// The database's type of a column: PostgreSQL's for every column; SQLite's declared type
  /// (by its affinity rules) for table columns, where a value's own kind may still differ.
  ColumnType column_type(std::size_t column) const noexcept {
    return types_ && column < types_->size() ? (*types_)[column] : ColumnType::unknown;
  }
  const ColumnTypes& column_types() const noexcept { return types_; }
  /// Rows changed by INSERT/UPDATE/DELETE (or returned by SELECT).
  std::int64_t affected_rows() const noexcept { return affected_rows_; }

  /// Index of a column by name; throws ColumnNotFound listing the available columns.
  std::size_t column_index(std::string_view name) const;
  const Value& value(std::size_t row, std::size_t column) const;

  /// Rows are views into this result: keep the Rows alive (a temporary's rows won't compile).
  Row operator[](std::size_t row) const& { return Row(this, row); }
  Row operator[](std::size_t row) && = delete;
  Row front() const&;
  Row front() && = delete;

  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Row;
    using difference_type = std::ptrdiff_t;
    iterator(const Rows* rows, std::size_t index) : rows_(rows), index_(index) {}
    Row operator*() const { return Row(rows_, index_); }
    iterator& operator++() {
      ++index_;
      return *this;
    }
    iterator operator++(int) {
      auto copy = *this;
      ++index_;
      return copy;
    }
    bool operator==(const iterator& other) const = default;

   private:
    const Rows* rows_;
    std::size_t index_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, size()}; }

  /// The first column of the first row as a T (e.g. SELECT count(*)); throws if there is none.
  template <class T>
  T scalar() const {
    return static_cast<const Rows&>(*this).front().template get<T>(0);
  }

 private:
  Columns columns_;
  ColumnTypes types_;
  std::vector<Value> values_;
  std::int64_t affected_rows_ = 0;
};

inline std::size_t Row::size() const noexcept { return rows_->column_count(); }
inline const Value& Row::operator[](std::size_t column) const { return rows_->value(index_, column); }
inline const Value& Row::at(std::string_view column) const {
  return rows_->value(index_, rows_->column_index(column));
}

template <class T>
T Row::get(std::size_t column) const {
  const Value& v = (*this)[column];
  try {
    return v.as<T>();
  } catch (...) {
    rethrow_with_column(column);
  }
}

template <class T>
T Row::get(std::string_view column) const {
  return get<T>(rows_->column_index(column));
}

}  // namespace nexdb
