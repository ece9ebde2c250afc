// Comparison: the result of comparing a column with a value or another column, the commonest
// condition of all. It stays lazy (two names or values and an operator) until a clause or an
// enclosing expression writes it, so `where(User.id == id)` copies its text only once.
#pragma once

#include <string_view>
#include <type_traits>
#include <utility>

#include "nexdb/query/expr.hpp"

namespace nexdb {
namespace detail {

/// One side of a comparison: a column's qualified name, or a bound value.
struct Leaf {
  std::string_view sql{};
  Value value{};
  bool bound = false;

  Piece piece(bool movable) const {
    return bound ? Piece{sql, &value, 1, movable} : text_piece(sql);
  }
};

/// Columns and plain values can be compared lazily; composed expressions cannot.
template <class X>
inline constexpr bool is_leaf_v = !is_expr_v<X> || has_stable_text_v<X>;

template <class Against, class X>
Leaf make_leaf(X&& x) {
  if constexpr (is_expr_v<X>) {
    return {x.qualified_name()};
  } else {
    return {needs_real_cast_v<Against, X> ? kRealParamText : kParamText,
            make_value(std::forward<X>(x)), true};
  }
}

}  // namespace detail

/// A condition `lhs op rhs` between columns and values; converts to Expr<bool> for storage.
class Comparison : public ExprOps<Comparison, bool> {
 public:
  using value_type = bool;
  Comparison(detail::Leaf&& lhs, std::string_view op, detail::Leaf&& rhs)
      : lhs_(std::move(lhs)), op_(op), rhs_(std::move(rhs)) {}

  operator Expr<bool>() const& { return materialize(pieces(false)); }
  operator Expr<bool>() && { return materialize(pieces(true)); }

 private:
  friend struct detail::Access;
  detail::Operand operand() const& { return pieces(false); }
  detail::Operand operand() && { return pieces(true); }
  detail::Operand pieces(bool movable) const {
    detail::Operand operand;
    operand.pieces[0] = lhs_.piece(movable);
    operand.pieces[1] = detail::text_piece(op_);
    operand.pieces[2] = rhs_.piece(movable);
    operand.size = 3;
    operand.prec = detail::Prec::comparison;
    return operand;
  }
  static Expr<bool> materialize(const detail::Operand& operand) {
    detail::Fragment fragment;
    detail::append(fragment, operand);
    fragment.prec = detail::Prec::comparison;
    return Expr<bool>(std::move(fragment));
  }

  detail::Leaf lhs_;
  std::string_view op_;
  detail::Leaf rhs_;
};

}  // namespace nexdb
