// Internal building blocks of the query builder: a piece of SQL text with its bound values,
// and the operations that compose pieces. Expressions are small and short-lived, so a
// fragment keeps its text and first values inline: composing `User.id == 5` allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "nexdb/query/small_buffer.hpp"
#include "nexdb/value.hpp"

namespace nexdb::detail {

/// Stands in the composed text wherever a bound value goes; rendering turns each one into
/// `$n` or `?`. Identifiers are validated to hold no control characters and values never
/// enter the text, so this byte cannot occur anywhere else.
inline constexpr char kParamMarker = '\x01';
inline constexpr std::string_view kParamText{&kParamMarker, 1};
/// A placeholder cast to double precision (see needs_real_cast_v in expr.hpp).
inline constexpr std::string_view kRealParamText = "CAST(\x01 AS DOUBLE PRECISION)";

/// How tightly the outermost operator of a fragment binds, so that composition adds
/// parentheses only where SQL needs them. Higher binds tighter.
enum class Prec : std::uint8_t {
  none = 0,
  logical_or,
  logical_and,
  logical_not,
  comparison,
  additive,
  multiplicative,
  atom,
};

/// SQL text (with kParamMarker placeholders) and the values bound to it, in text order.
/// Sized for a typical expression: a comparison or a BETWEEN fits without allocating.
struct Fragment {
  SmallText<64> sql{};
  SmallParams<2> params{};
  Prec prec = Prec::atom;
};

/// One contiguous piece of an operand: text and the values its markers stand for. When
/// `movable`, the piece belongs to a temporary and its values are moved rather than copied.
/// No default member initialisers: a Piece is always built whole (see text_piece()), and
/// Operand's unused pieces stay untouched.
struct Piece {
  std::string_view sql;
  const Value* params;
  std::size_t param_count;
  bool movable;
};

/// A borrowed view of an operand while it is composed into a fragment or a clause. It has up
/// to three pieces, so a lazy comparison (`lhs`, ` = `, `rhs`) is never joined into one string.
/// Only the first `size` pieces are set (operands are made often; zeroing them is measurable).
struct Operand {
  Piece pieces[3];
  std::uint8_t size = 0;
  Prec prec = Prec::atom;

  std::size_t text_size() const noexcept {
    std::size_t n = 0;
    for (std::uint8_t i = 0; i < size; ++i) n += pieces[i].sql.size();
    return n;
  }
};

/// A piece of text without values.
inline Piece text_piece(std::string_view sql) { return {sql, nullptr, 0, false}; }

inline Operand one_piece(Piece piece, Prec prec) {
  Operand operand;
  operand.pieces[0] = piece;
  operand.size = 1;
  operand.prec = prec;
  return operand;
}
inline Operand borrow(const Fragment& f) {
  return one_piece({f.sql.view(), f.params.data(), f.params.size(), false}, f.prec);
}
inline Operand take(Fragment& f) {
  return one_piece({f.sql.view(), f.params.data(), f.params.size(), true}, f.prec);
}

/// Appends the operand's text and values (no parentheses).
void append(Fragment& out, const Operand& operand);

/// `lhs op rhs` with parentheses where precedence requires them.
Fragment binary(const Operand& lhs, std::string_view op, const Operand& rhs, Prec prec);
/// `op operand`, e.g. NOT x.
Fragment prefix(std::string_view op, const Operand& operand, Prec prec);
/// `operand op`, e.g. x IS NULL, x DESC.
Fragment postfix(const Operand& operand, std::string_view op, Prec prec);
/// `name(operand)` or `name(DISTINCT operand)`.
Fragment call(std::string_view name, const Operand& operand, bool distinct = false);
/// `operand IN (v1, v2, ...)`; an empty list renders a constant false (or true when negated).
/// `as_real` casts each placeholder to double precision (see needs_real_cast_v).
Fragment in_list(const Operand& operand, std::vector<Value>&& values, bool negate, bool as_real);
/// `operand BETWEEN low AND high`.
Fragment between(const Operand& operand, const Operand& low, const Operand& high);
/// `operand AS "alias"`; throws UsageError for an invalid alias.
Fragment alias(const Operand& operand, std::string_view name);
/// A fragment of fixed text, e.g. count(*) or excluded."col".
Fragment text_fragment(std::string_view a, std::string_view b = {});

}  // namespace nexdb::detail
