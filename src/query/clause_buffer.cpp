// Builder storage: rendering the pieces of each clause in SQL order.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/thread_statement.hpp"
#include "nexdb/query/clause.hpp"
#include "query/sql_writer.hpp"

namespace nexdb::detail {

ClauseBuffer::ClauseBuffer(const ClauseBuffer& other)
    : text_(other.text_view()), size_(other.size_), params_(other.params_), more_(other.more_) {
  copy_tables(other);
}

ClauseBuffer::ClauseBuffer(ClauseBuffer&& other) noexcept
    : text_(std::move(other.text_)),
      size_(std::exchange(other.size_, 0)),
      params_(std::move(other.params_)),
      more_(std::move(other.more_)) {
  copy_tables(other);
}

ClauseBuffer& ClauseBuffer::operator=(const ClauseBuffer& other) {
  if (this != &other) *this = ClauseBuffer(other);
  return *this;
}

ClauseBuffer& ClauseBuffer::operator=(ClauseBuffer&& other) noexcept {
  text_ = std::move(other.text_);
  size_ = std::exchange(other.size_, 0);
  params_ = std::move(other.params_);
  more_ = std::move(other.more_);
  copy_tables(other);
  return *this;
}

void ClauseBuffer::copy_tables(const ClauseBuffer& other) noexcept {
  count_ = other.count_;
  // Fixed-size copies (a few vector moves); only the entries in use are meaningful.
  std::memcpy(inline_, other.inline_, sizeof inline_);
  std::memcpy(first_, other.first_, sizeof first_);
  std::memcpy(last_, other.last_, sizeof last_);
  std::memcpy(pieces_, other.pieces_, sizeof pieces_);
  std::memcpy(wrap_below_, other.wrap_below_, sizeof wrap_below_);
  std::memcpy(loose_, other.loose_, sizeof loose_);
  marker_count_ = other.marker_count_;
  std::memcpy(markers_, other.markers_, sizeof markers_);
  last_clause_ = other.last_clause_;
  in_order_ = other.in_order_;
  max_param_clause_ = other.max_param_clause_;
  params_in_order_ = other.params_in_order_;
}

ClauseBuffer::Segment& ClauseBuffer::new_overflow_segment() { return more_.emplace_back(); }

void ClauseBuffer::reserve() {
  // Room for a typical statement: one allocation each for its text and its values.
  // Copied from zeros rather than filled: std::string's fill is a slow `rep stos` here.
  // A builder made outside a call starts from the thread's statement buffers instead, which the
  // statement it renders into returns once run (thread_statement.hpp).
  static constexpr char kRoom[256] = {};
  if (text_.size() < sizeof kRoom) {
    if (take_thread_statement_buffers(text_, params_, sizeof kRoom)) {
      // Within its capacity: no allocation, and grow() extends it the same way when needed.
      text_.resize(std::max(text_.size(), sizeof kRoom));
    } else {
      text_.assign(kRoom, sizeof kRoom);
    }
  }
  params_.reserve(6);
}

void ClauseBuffer::grow(std::size_t more) {
  text_.resize(std::max<std::size_t>(2 * text_.size(), size_ + more + 64));
}

void ClauseBuffer::note_markers_slow(std::uint32_t at, const Piece& piece) {
  for (std::size_t pos = piece.sql.find(kParamMarker); pos != std::string_view::npos;
       pos = piece.sql.find(kParamMarker, pos + 1)) {
    if (marker_count_ < kInlineMarkers) {
      markers_[marker_count_++] = at + static_cast<std::uint32_t>(pos);
    } else {
      marker_count_ = kInlineMarkers + 1;  // too many to list: rendering searches instead
      return;
    }
  }
}

void ClauseBuffer::append_values(const Piece& piece) {
  Segment& s = last();
  params_in_order_ &= s.clause >= max_param_clause_;
  max_param_clause_ = s.clause;
  for (std::size_t i = 0; i < piece.param_count; ++i) {
    if (piece.movable) {
      // A movable piece belongs to a temporary handed over by the caller: its values are ours.
      params_.push_back(std::move(const_cast<Value&>(piece.params[i])));
    } else {
      params_.push_back(piece.params[i]);
    }
  }
  s.param_end = static_cast<std::uint32_t>(params_.size());
}

bool ClauseBuffer::adopt_params(SqlWriter& out) const& {
  if (!params_in_order_) return false;
  out.adopt(params_.data(), params_.size(), false);
  return true;
}

bool ClauseBuffer::adopt_params(SqlWriter& out) && {
  if (!params_in_order_) return false;
  out.adopt(std::move(params_));
  return true;
}

bool ClauseBuffer::is_one_run() const {
  if (!in_order_ || !params_in_order_) return false;
  for (std::size_t c = 0; c < kMaxClauses; ++c) {
    if (pieces_[c] > 1 && loose_[c]) return false;
  }
  return true;
}

bool ClauseBuffer::write_statement(SqlWriter& out, std::string_view head,
                                   std::string_view head2) const& {
  if (!is_one_run()) return false;
  copy_statement(out, head, head2);
  return true;
}

void ClauseBuffer::copy_statement(SqlWriter& out, std::string_view head,
                                  std::string_view head2) const {
  out.reserve_text(head.size() + head2.size() + size_ + 4 * params_.size() + 32);
  out.text(head);
  out.text(head2);
  out.marked_text(text_view());
  out.adopt(params_.data(), params_.size(), false);
}

bool ClauseBuffer::write_statement(SqlWriter& out, std::string_view head,
                                   std::string_view head2) && {
  if (!is_one_run()) return false;
  text_.resize(size_);
  const bool listed = marker_count_ <= kInlineMarkers;
  if (out.adopt_marked(std::move(text_), head, head2, listed ? markers_ : nullptr, marker_count_)) {
    size_ = 0;
    out.adopt(std::move(params_));
  } else {
    copy_statement(out, head, head2);
  }
  return true;
}

template <class Self>
void ClauseBuffer::write_impl(Self&& self, SqlWriter& out, std::uint8_t clause,
                              std::string_view suffix) {
  constexpr bool move = !std::is_lvalue_reference_v<Self>;
  const std::uint32_t pieces = self.pieces_[clause];
  if (pieces == 0) return;
  const std::string_view text = self.text_view();
  const bool wrap = pieces > 1 && self.loose_[clause];
  if (self.in_order_ && !wrap) {
    // The clause's pieces are one run of text and one run of values.
    const Segment& first = self.segment(self.first_[clause]);
    const Segment& last = self.segment(self.last_[clause]);
    out.marked_text(text.substr(first.text_begin, last.text_end - first.text_begin));
    out.values(self.params_.data() + first.param_begin, last.param_end - first.param_begin, move);
  } else {
    std::uint32_t index = self.first_[clause];
    for (std::uint32_t n = 0; n < pieces; ++n, index = self.segment(index).next) {
      const Segment& s = self.segment(index);
      const bool parens = wrap && s.prec < self.wrap_below_[clause];
      out.text(text.substr(s.text_begin, s.prefix));
      if (parens) out.text("(");
      out.marked_text(text.substr(s.text_begin + s.prefix, s.text_end - s.text_begin - s.prefix));
      if (parens) out.text(")");
      out.values(self.params_.data() + s.param_begin, s.param_end - s.param_begin, move);
    }
  }
  out.text(suffix);
}

void ClauseBuffer::write(SqlWriter& out, std::uint8_t clause, std::string_view suffix) const& {
  write_impl(*this, out, clause, suffix);
}

void ClauseBuffer::write(SqlWriter& out, std::uint8_t clause, std::string_view suffix) && {
  write_impl(std::move(*this), out, clause, suffix);
}

}  // namespace nexdb::detail
