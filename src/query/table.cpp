// Models: names validated and quoted once, when the model is constructed.
#include <fmt/format.h>

#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"
#include "nexdb/query/table.hpp"

namespace nexdb {

TableBase::TableBase(std::string_view name) : name_(name), quoted_name_(quote_identifier(name)) {}

const ColumnBase& TableBase::column(std::string_view name) const {
  for (const ColumnBase* column : columns_) {
    if (column->name() == name) return *column;
  }
  throw ColumnNotFound(fmt::format("table \"{}\" has no column \"{}\"", name_, name));
}

ColumnBase::ColumnBase(TableBase* table, std::string_view name) : table_(table) {
  detail::ColumnNames names{std::string(name), table->quoted_name() + '.', 0};
  names.name_offset = names.qualified.size();
  append_quoted_identifier(names.qualified, name);
  names_ = &table->column_names_.emplace_back(std::move(names));
  table->columns_.push_back(this);
}

}  // namespace nexdb
