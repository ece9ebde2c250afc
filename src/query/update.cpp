// UPDATE: assignments checked against the table, rendering.
#include <fmt/format.h>

#include "nexdb/error.hpp"
#include "nexdb/query/update.hpp"
#include "query/sql_writer.hpp"

namespace nexdb {

UpdateQuery::UpdateQuery(const TableBase& table) : table_(&table) {}

void UpdateQuery::add_set(Assignment&& assignment) {
  const ColumnBase& column = assignment.column();
  if (&column.table() != table_) {
    throw UsageError(fmt::format("update set(): column \"{}\" belongs to \"{}\", not to \"{}\"",
                                 column.name(), column.table().name(), table_->name()));
  }
  buffer_.begin(kSet, kSetStyle);
  // SET takes the bare column name: PostgreSQL rejects "users"."status" there.
  buffer_.text(column.quoted_name());
  buffer_.text(" = ");
  buffer_.append(detail::Access::operand(std::move(assignment)));
}

Statement UpdateQuery::render(Dialect dialect) const& { return render_impl(*this, dialect); }
Statement UpdateQuery::render(Dialect dialect) && { return render_impl(std::move(*this), dialect); }

template <class Self>
Statement UpdateQuery::render_impl(Self&& self, Dialect dialect) {
  auto&& buffer = std::forward<Self>(self).buffer_;
  using Buffer = decltype(buffer);
  if (!buffer.has(kSet)) throw UsageError("update: set(...) is required");
  detail::SqlWriter out(dialect);
  if (!std::forward<Buffer>(buffer).write_statement(out, "UPDATE ", self.table_->quoted_name())) {
    out.reserve_text(buffer.text_size() + 48 + 4 * buffer.param_count());
    if (!std::forward<Buffer>(buffer).adopt_params(out)) out.reserve_params(buffer.param_count());
    out.text("UPDATE ");
    out.text(self.table_->quoted_name());
    for (std::uint8_t clause = kSet; clause <= kReturning; ++clause) {
      std::forward<Buffer>(buffer).write(out, clause);
    }
  }
  return std::move(out).finish();
}

}  // namespace nexdb
