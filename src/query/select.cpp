// SELECT: clause bookkeeping and rendering.
#include <fmt/format.h>

#include "nexdb/error.hpp"
#include "nexdb/query/select.hpp"
#include "query/sql_writer.hpp"

namespace nexdb {

SelectQuery& SelectQuery::distinct() & {
  distinct_ = true;
  return *this;
}

SelectQuery& SelectQuery::from(const TableBase& table) & {
  buffer_.begin(kFrom, kFromStyle);
  buffer_.text(table.quoted_name());
  return *this;
}

SelectQuery& SelectQuery::join(const TableBase& table) & {
  add_join(" JOIN ", table);
  awaiting_on_ = true;
  return *this;
}

SelectQuery& SelectQuery::left_join(const TableBase& table) & {
  add_join(" LEFT JOIN ", table);
  awaiting_on_ = true;
  return *this;
}

SelectQuery& SelectQuery::join_on(std::string_view kind, const TableBase& table,
                                  const detail::Operand& on) {
  add_join(kind, table);
  buffer_.text(" ON ");
  buffer_.append(on);
  return *this;
}

void SelectQuery::add_join(std::string_view kind, const TableBase& table) {
  if (awaiting_on_)
    throw UsageError("join(table) without a condition: call on(...) right after it");
  buffer_.begin(kJoin, kJoinStyle);
  buffer_.text(kind);
  buffer_.text(table.quoted_name());
}

void SelectQuery::add_on(const detail::Operand& condition) {
  // The condition extends the join's text, so nothing may come between join() and on().
  if (!awaiting_on_ || buffer_.last_clause() != kJoin) {
    throw UsageError("on() must come right after join(table) or left_join(table)");
  }
  buffer_.text(" ON ");
  buffer_.append(condition);
  awaiting_on_ = false;
}

SelectQuery& SelectQuery::limit(std::int64_t count) & {
  if (count < 0) throw UsageError(fmt::format("limit({}) must not be negative", count));
  limit_ = count;
  return *this;
}

SelectQuery& SelectQuery::offset(std::int64_t count) & {
  if (count < 0) throw UsageError(fmt::format("offset({}) must not be negative", count));
  offset_ = count;
  return *this;
}

Statement SelectQuery::render(Dialect dialect) const& { return render_impl(*this, dialect); }
Statement SelectQuery::render(Dialect dialect) && { return render_impl(std::move(*this), dialect); }

template <class Self>
Statement SelectQuery::render_impl(Self&& self, Dialect dialect) {
  if (self.awaiting_on_)
    throw UsageError("join(table) without a condition: call on(...) right after it");
  auto&& buffer = std::forward<Self>(self).buffer_;
  using Buffer = decltype(buffer);
  if (buffer.has(kJoin) && !buffer.has(kFrom)) throw UsageError("join() needs from()");
  detail::SqlWriter out(dialect);
  // "*" belongs to the head when there are no items, so that the body stays one run.
  static constexpr std::string_view kHeads[] = {"SELECT ", "SELECT DISTINCT ", "SELECT *",
                                                "SELECT DISTINCT *"};
  const std::string_view head = kHeads[(self.distinct_ ? 1 : 0) + (buffer.has(kItems) ? 0 : 2)];
  if (!std::forward<Buffer>(buffer).write_statement(out, head)) {
    out.reserve_text(buffer.text_size() + 48 + 4 * buffer.param_count());
    if (!std::forward<Buffer>(buffer).adopt_params(out))
      out.reserve_params(buffer.param_count() + 2);
    out.text(head);
    for (std::uint8_t clause = kItems; clause <= kOrderBy; ++clause) {
      std::forward<Buffer>(buffer).write(out, clause);
    }
  }
  if (self.limit_) {
    out.text(" LIMIT ");
    out.param(*self.limit_);
  } else if (self.offset_ && dialect == Dialect::sqlite) {
    // SQLite accepts OFFSET only after LIMIT; a negative limit means none.
    out.text(" LIMIT ");
    out.param(std::int64_t{-1});
  }
  if (self.offset_) {
    out.text(" OFFSET ");
    out.param(*self.offset_);
  }
  return std::move(out).finish();
}

}  // namespace nexdb
