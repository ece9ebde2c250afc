// INSERT, including ON CONFLICT (the syntax PostgreSQL and SQLite >= 3.35 share).
#include <fmt/format.h>

#include "nexdb/error.hpp"
#include "nexdb/query/insert.hpp"
#include "query/sql_writer.hpp"

namespace nexdb::detail {

void InsertCore::check_table(const ColumnBase& column, std::string_view clause) const {
  if (&column.table() == table_) return;
  throw UsageError(fmt::format("{}: column \"{}\" belongs to \"{}\", not to \"{}\"", clause,
                               column.name(), column.table().name(), table_->name()));
}

void InsertCore::add_set(Assignment&& assignment) {
  if (by_columns_) throw UsageError("insert: use either set() or columns().values(), not both");
  check_table(assignment.column(), "insert set()");
  by_set_ = true;
  buffer_.begin(kColumns, kColumnsStyle);
  buffer_.text(assignment.column().quoted_name());
  buffer_.add(kValues, kSetValuesStyle, Access::operand(std::move(assignment)));
}

void InsertCore::add_column(const ColumnBase& column) {
  if (by_set_) throw UsageError("insert: use either set() or columns().values(), not both");
  check_table(column, "insert columns()");
  by_columns_ = true;
  buffer_.begin(kColumns, kColumnsStyle);
  buffer_.text(column.quoted_name());
}

ClauseBuffer& InsertCore::begin_row() {
  buffer_.begin(kValues, kRowsStyle);
  buffer_.text("(");
  return buffer_;
}

void InsertCore::begin_conflict() {
  if (has_conflict_) throw UsageError("insert: on_conflict() given twice");
  has_conflict_ = true;
}

void InsertCore::add_conflict_column(const ColumnBase& column) {
  check_table(column, "on_conflict()");
  buffer_.begin(kConflictTarget, kConflictTargetStyle);
  buffer_.text(column.quoted_name());
}

void InsertCore::set_do_nothing() {
  if (!has_conflict_) throw UsageError("do_nothing() must follow on_conflict(...)");
  if (action_ == Action::update) throw UsageError("on_conflict: do_nothing() after do_update()");
  action_ = Action::nothing;
}

void InsertCore::add_do_update(Assignment&& assignment) {
  if (!has_conflict_) throw UsageError("do_update() must follow on_conflict(columns...)");
  if (action_ == Action::nothing) throw UsageError("on_conflict: do_update() after do_nothing()");
  check_table(assignment.column(), "do_update()");
  action_ = Action::update;
  buffer_.begin(kConflictSet, kConflictSetStyle);
  buffer_.text(assignment.column().quoted_name());
  buffer_.text(" = ");
  buffer_.append(Access::operand(std::move(assignment)));
}

Statement InsertCore::render(Dialect dialect) const& { return render_impl(*this, dialect); }
Statement InsertCore::render(Dialect dialect) && { return render_impl(std::move(*this), dialect); }

template <class Self>
Statement InsertCore::render_impl(Self&& self, Dialect dialect) {
  auto&& buffer = std::forward<Self>(self).buffer_;
  using Buffer = decltype(buffer);
  if (self.by_columns_ && !buffer.has(kValues)) {
    throw UsageError("insert: columns() needs at least one values() row");
  }
  if (self.has_conflict_ && self.action_ == Action::none) {
    throw UsageError("insert: on_conflict() needs do_update(...) or do_nothing()");
  }
  if (self.action_ == Action::update && !buffer.has(kConflictTarget)) {
    throw UsageError("insert: do_update() needs the conflict columns: on_conflict(columns...)");
  }
  SqlWriter out(dialect);
  out.reserve_text(buffer.text_size() + 64 + self.table_->quoted_name().size() +
                   4 * buffer.param_count());
  if (!std::forward<Buffer>(buffer).adopt_params(out)) out.reserve_params(buffer.param_count());
  const auto clause = [&](std::uint8_t id, std::string_view suffix = {}) {
    std::forward<Buffer>(buffer).write(out, id, suffix);
  };
  out.text("INSERT INTO ");
  out.text(self.table_->quoted_name());
  if (!buffer.has(kColumns)) {
    out.text(" DEFAULT VALUES");
  } else {
    clause(kColumns, ")");
    // set() gives one value per piece, inside one pair of parentheses; values() whole rows.
    clause(kValues, self.by_set_ ? ")" : "");
  }
  if (self.has_conflict_) {
    if (buffer.has(kConflictTarget)) {
      clause(kConflictTarget, ")");
    } else {
      out.text(" ON CONFLICT");
    }
    if (self.action_ == Action::nothing) {
      out.text(" DO NOTHING");
    } else {
      clause(kConflictSet);
    }
  }
  clause(kReturning);
  return std::move(out).finish();
}

}  // namespace nexdb::detail
