// Internal storage of the statement builders. All clause text goes into one buffer and all
// bound values into one vector, as pieces: each piece belongs to a clause and starts with that
// clause's keyword (first piece) or separator (later pieces). Clauses may be given in any
// order; when they come in SQL order, as they usually do, the buffer already is the statement's
// body and rendering is a single pass over it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nexdb/query/expr.hpp"

namespace nexdb::detail {

class SqlWriter;

/// How a clause's pieces are joined: `keyword` before the first, `separator` before the
/// others; when there are several, pieces binding less tightly than `wrap_below` get
/// parentheses (WHERE a OR b, called twice, becomes WHERE (a OR b) AND c).
struct ClauseStyle {
  std::string_view keyword;
  std::string_view separator;
  Prec wrap_below = Prec::none;
};

class ClauseBuffer {
 public:
  ClauseBuffer() = default;
  // Copies only the segment table entries in use (the rest is never initialised).
  ClauseBuffer(const ClauseBuffer& other);
  ClauseBuffer(ClauseBuffer&& other) noexcept;
  ClauseBuffer& operator=(const ClauseBuffer& other);
  ClauseBuffer& operator=(ClauseBuffer&& other) noexcept;
  ~ClauseBuffer() = default;

  /// Starts a new piece of `clause`; text and values go into it until the next begin().
  void begin(std::uint8_t clause, const ClauseStyle& style, Prec prec = Prec::atom) {
    if (count_ == 0) reserve();
    const std::uint32_t index = count_++;
    Segment& s = index < kInlineSegments ? inline_[index] : new_overflow_segment();
    const bool first = pieces_[clause]++ == 0;
    const std::string_view prefix = first ? style.keyword : style.separator;
    s.text_begin = size_;
    s.param_begin = s.param_end = static_cast<std::uint32_t>(params_.size());
    s.prefix = static_cast<std::uint16_t>(prefix.size());
    s.clause = clause;
    s.prec = prec;
    put(prefix);
    s.text_end = size_;
    if (first) {
      first_[clause] = index;
      wrap_below_[clause] = style.wrap_below;
    } else {
      segment(last_[clause]).next = index;
    }
    last_[clause] = index;
    loose_[clause] |= prec < style.wrap_below;
    in_order_ &= clause >= last_clause_;
    last_clause_ = clause;
  }
  /// Text without parameter markers (keywords, quoted identifiers).
  void text(std::string_view sql) {
    put(sql);
    last().text_end = size_;
  }
  /// An operand's text and values (moved when the operand is a temporary).
  void append(const Operand& operand) {
    for (std::uint8_t p = 0; p < operand.size; ++p) {
      const Piece& piece = operand.pieces[p];
      const std::uint32_t at = size_;
      put(piece.sql);
      if (piece.param_count > 0) {
        note_markers(at, piece);
        append_values(piece);
      }
    }
    last().text_end = size_;
  }
  /// `operand` as a new piece of `clause`.
  void add(std::uint8_t clause, const ClauseStyle& style, const Operand& operand) {
    begin(clause, style, operand.prec);
    append(operand);
  }

  bool has(std::uint8_t clause) const { return pieces_[clause] > 0; }
  /// The clause of the newest piece (0xff when there is none).
  std::uint8_t last_clause() const { return count_ == 0 ? 0xff : last_clause_; }
  std::size_t text_size() const { return size_; }
  std::size_t param_count() const { return params_.size(); }

  /// Takes (or copies) every value at once when they are already in rendering order.
  /// Afterwards write() emits text only.
  bool adopt_params(SqlWriter& out) const&;
  bool adopt_params(SqlWriter& out) &&;
  /// The whole statement, `head` + `head2` + every clause, when the pieces came in clause
  /// order and none needs parentheses (the text then already is the statement's body): the
  /// temporary form hands its buffers over. False, with nothing written, otherwise.
  bool write_statement(SqlWriter& out, std::string_view head, std::string_view head2 = {}) const&;
  bool write_statement(SqlWriter& out, std::string_view head, std::string_view head2 = {}) &&;
  /// Emits the pieces of `clause` (with their keyword and separators), then `suffix`.
  void write(SqlWriter& out, std::uint8_t clause, std::string_view suffix = {}) const&;
  void write(SqlWriter& out, std::uint8_t clause, std::string_view suffix = {}) &&;

 private:
  // Set by begin(); left uninitialised before, since builders are made often.
  struct Segment {
    std::uint32_t text_begin;
    std::uint32_t text_end;
    std::uint32_t param_begin;
    std::uint32_t param_end;
    std::uint32_t next;    // the next piece of the same clause, when there is one
    std::uint16_t prefix;  // length of the keyword or separator at text_begin
    std::uint8_t clause;
    Prec prec;
  };
  static constexpr std::size_t kInlineSegments = 8;
  static constexpr std::size_t kMaxClauses = 8;

  Segment& segment(std::size_t i) {
    return i < kInlineSegments ? inline_[i] : more_[i - kInlineSegments];
  }
  const Segment& segment(std::size_t i) const {
    return i < kInlineSegments ? inline_[i] : more_[i - kInlineSegments];
  }
  Segment& last() { return segment(count_ - 1); }
  Segment& new_overflow_segment();
  void reserve();
  std::string_view text_view() const { return {text_.data(), size_}; }
  /// Appends to the text. Statements are made of short pieces (names, keywords), copied here
  /// inline: std::string::append would make a library call for each.
  void put(std::string_view s) {
    const std::size_t n = s.size();
    if (size_ + n > text_.size()) [[unlikely]]
      grow(n);
    char* to = text_.data() + size_;
    if (n <= 16) {
      copy_short(to, s.data(), n);
    } else {
      std::memcpy(to, s.data(), n);
    }
    size_ += static_cast<std::uint32_t>(n);
  }
  static void copy_short(char* to, const char* from, std::size_t n) {
    // Two overlapping fixed-size copies cover any length in their range.
    if (n >= 8) {
      std::uint64_t head, tail;
      std::memcpy(&head, from, 8);
      std::memcpy(&tail, from + n - 8, 8);
      std::memcpy(to, &head, 8);
      std::memcpy(to + n - 8, &tail, 8);
    } else if (n >= 4) {
      std::uint32_t head, tail;
      std::memcpy(&head, from, 4);
      std::memcpy(&tail, from + n - 4, 4);
      std::memcpy(to, &head, 4);
      std::memcpy(to + n - 4, &tail, 4);
    } else if (n > 0) {
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  void grow(std::size_t more);
  /// Records where the markers of `piece`, just written at `at`, are in the text.
  void note_markers(std::uint32_t at, const Piece& piece) {
    if (piece.sql.size() == 1 && marker_count_ < kInlineMarkers) {
      markers_[marker_count_++] = at;  // a bare placeholder, the common case
    } else {
      note_markers_slow(at, piece);
    }
  }
  void note_markers_slow(std::uint32_t at, const Piece& piece);
  void append_values(const Piece& piece);
  void copy_tables(const ClauseBuffer& other) noexcept;
  bool is_one_run() const;
  void copy_statement(SqlWriter& out, std::string_view head, std::string_view head2) const;
  template <class Self>
  static void write_impl(Self&& self, SqlWriter& out, std::uint8_t clause, std::string_view suffix);

  // On the heap, so that moving a builder (every `auto q = select(...)...`) is cheap. The
  // text is size_ bytes; text_ is kept sized to its capacity, the rest being room to write.
  std::string text_;
  std::uint32_t size_ = 0;
  std::vector<Value> params_;
  // Where the text's parameter markers are, in order, while there are at most kInlineMarkers
  // (more: marker_count_ is kInlineMarkers + 1 and rendering searches the text instead).
  static constexpr std::uint32_t kInlineMarkers = 16;
  std::uint32_t markers_[kInlineMarkers];
  std::uint32_t marker_count_ = 0;
  Segment inline_[kInlineSegments];
  std::vector<Segment> more_;
  std::uint32_t count_ = 0;
  // Per clause: its first and last piece (valid where pieces_ is not 0), how many there are,
  // and whether one binds less tightly than the clause's wrap_below.
  std::uint32_t first_[kMaxClauses];
  std::uint32_t last_[kMaxClauses];
  std::uint32_t pieces_[kMaxClauses]{};
  Prec wrap_below_[kMaxClauses];
  bool loose_[kMaxClauses]{};
  // Whether pieces (and values) arrived in clause order, so that each clause is one run.
  std::uint8_t last_clause_ = 0;
  bool in_order_ = true;
  std::uint8_t max_param_clause_ = 0;
  bool params_in_order_ = true;
};

/// Adds a value or expression to the current piece of `buffer`.
template <class X>
void append_held(ClauseBuffer& buffer, X&& x) {
  auto held = hold<void>(std::forward<X>(x));
  buffer.append(as_operand(held));
}

/// Adds values or expressions, separated by commas, to the current piece of `buffer`.
template <class... X>
void append_list(ClauseBuffer& buffer, X&&... xs) {
  bool first = true;
  ((buffer.text(first ? "" : ", "), first = false, append_held(buffer, std::forward<X>(xs))), ...);
}

}  // namespace nexdb::detail

/// Builders chain on lvalues (`q.where(...)`) and temporaries (`select(...).where(...)`); this
/// adds the temporary form of a member, forwarding to the lvalue form, so a chain on a
/// temporary moves the builder along instead of copying it.
#define NEXDB_RVALUE_CHAIN(Self, name)                      \
  template <class... A>                                     \
  Self&& name(A&&... args)&& {                              \
    return std::move(this->name(std::forward<A>(args)...)); \
  }

#define NEXDB_CONDITION_MESSAGE(clause) \
  "nexdb: " clause " takes a SQL condition: a boolean expression such as User.id == 5"
