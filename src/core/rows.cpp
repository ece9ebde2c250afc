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
    : Rows(std::move(columns), nullptr, std::move(values), affected_rows) {}

Rows::Rows(Columns columns, ColumnTypes types, std::vector<Value> values,
           std::int64_t affected_rows)
    : columns_(columns ? std::move(columns) : no_columns()),
      types_(std::move(types)),
      values_(std::move(values)),
      affected_rows_(affected_rows) {
  if (types_ && types_->size() != columns_->size()) {
    throw UsageError(
        fmt::format("{} column types for {} columns", types_->size(), columns_->size()));
  }
}

std::string_view to_string(ColumnType type) noexcept {
  switch (type) {
    case ColumnType::boolean: return "boolean";
    case ColumnType::integer: return "integer";
    case ColumnType::real: return "real";
    case ColumnType::numeric: return "numeric";
    case ColumnType::text: return "text";
    case ColumnType::bytes: return "bytes";
    case ColumnType::timestamp: return "timestamp";
    case ColumnType::other: return "other";
    case ColumnType::unknown: break;
  }
  return "unknown";
}

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
