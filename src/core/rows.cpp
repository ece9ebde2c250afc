#include "nexdb/rows.hpp"

#include <fmt/format.h>

#include "nexdb/error.hpp"

namespace nexdb {

namespace {
const Rows::Columns& no_columns() {
  static const Rows::Columns empty = std::make_shared<const std::vector<std::string>>();
  return empty;
}
}  // namespace

Rows::Rows() : columns_(no_columns()) {}

Rows::Rows(std::vector<std::string> columns, std::vector<Value> values, std::int64_t affected_rows)
    : Rows(std::make_shared<const std::vector<std::string>>(std::move(columns)), std::move(values),
           affected_rows) {}

Rows::Rows(Columns columns, std::vector<Value> values, std::int64_t affected_rows)
    : columns_(columns ? std::move(columns) : no_columns()),
      values_(std::move(values)),
      affected_rows_(affected_rows) {}

std::size_t Rows::column_index(std::string_view name) const {
  for (std::size_t i = 0; i < columns_->size(); ++i) {
    if ((*columns_)[i] == name) return i;
  }
  throw ColumnNotFound(fmt::format("no column named '{}' in the result; its columns are: {}", name,
                                   fmt::join(*columns_, ", ")));
}

const Value& Rows::value(std::size_t row, std::size_t column) const {
  if (column >= columns_->size()) {
    throw ColumnNotFound(fmt::format("column index {} is out of range; the result has {} columns",
                                     column, columns_->size()));
  }
  if (row >= size()) {
    throw UsageError(fmt::format("row index {} is out of range; the result has {} rows", row, size()));
  }
  return values_[row * columns_->size() + column];
}

Row Rows::front() const& {
  if (empty()) throw UsageError("the result has no rows");
  return Row(this, 0);
}

void Row::rethrow_with_column(std::size_t column) const {
  try {
    throw;
  } catch (const TypeMismatch& e) {
    throw TypeMismatch(fmt::format("column '{}': {}", rows_->columns()[column], e.message()));
  }
}

}  // namespace nexdb
