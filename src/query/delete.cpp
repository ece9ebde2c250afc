// DELETE: rendering.
#include "nexdb/query/delete.hpp"
#include "query/sql_writer.hpp"

namespace nexdb {

DeleteQuery::DeleteQuery(const TableBase& table) : table_(&table) {}

Statement DeleteQuery::render(Dialect dialect) const& { return render_impl(*this, dialect); }
Statement DeleteQuery::render(Dialect dialect) && { return render_impl(std::move(*this), dialect); }

template <class Self>
Statement DeleteQuery::render_impl(Self&& self, Dialect dialect) {
  auto&& buffer = std::forward<Self>(self).buffer_;
  using Buffer = decltype(buffer);
  detail::SqlWriter out(dialect);
  if (!std::forward<Buffer>(buffer).write_statement(out, "DELETE FROM ",
                                                    self.table_->quoted_name())) {
    out.reserve_text(buffer.text_size() + 48 + 4 * buffer.param_count());
    if (!std::forward<Buffer>(buffer).adopt_params(out)) out.reserve_params(buffer.param_count());
    out.text("DELETE FROM ");
    out.text(self.table_->quoted_name());
    std::forward<Buffer>(buffer).write(out, kWhere);
    std::forward<Buffer>(buffer).write(out, kReturning);
  }
  return std::move(out).finish();
}

}  // namespace nexdb
