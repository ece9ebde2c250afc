// Operators on SQL expressions. They live in nexdb::dsl, where argument-dependent lookup finds
// them for expressions only, so they never take part in overload resolution for other types.
//
// Each operator has a constrained overload that builds the expression and, for operands that
// do not type-check, a fallback whose static_assert says why, instead of a list of candidates.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "nexdb/query/comparison.hpp"
#include "nexdb/query/expr.hpp"

namespace nexdb {
namespace detail {

template <class X>
inline constexpr bool is_nullable_v = [] {
  if constexpr (is_expr_v<X>) {
    return is_optional_v<typename std::remove_cvref_t<X>::value_type>;
  } else {
    return false;
  }
}();

/// Value type of `l op r` for + - * /: integer when both are, else double; nullable if either is.
template <class L, class R>
using arithmetic_t = std::conditional_t<
    is_nullable_v<L> || is_nullable_v<R>,
    std::optional<std::conditional_t<kind_of<L>() == Kind::integer && kind_of<R>() == Kind::integer,
                                     std::int64_t, double>>,
    std::conditional_t<kind_of<L>() == Kind::integer && kind_of<R>() == Kind::integer, std::int64_t,
                       double>>;

template <class L, class R>
concept AnyExprOperand = SqlExpr<L> || SqlExpr<R>;

}  // namespace detail

namespace dsl {

// Between columns and values the result is a lazy Comparison; otherwise an Expr<bool>.
#define NEXDB_COMPARISON(OP, SQL)                                                                  \
  template <class L, class R>                                                                      \
  requires ComparableOperands<L, R>                                                                \
  auto operator OP(L&& l, R&& r) {                                                                 \
    if constexpr (detail::is_leaf_v<L> && detail::is_leaf_v<R>) {                                  \
      return Comparison(detail::make_leaf<R>(std::forward<L>(l)), SQL,                             \
                        detail::make_leaf<L>(std::forward<R>(r)));                                 \
    } else {                                                                                       \
      return Expr<bool>(                                                                           \
          detail::compose(std::forward<L>(l), SQL, std::forward<R>(r), detail::Prec::comparison)); \
    }                                                                                              \
  }                                                                                                \
  template <class L, class R>                                                                      \
  requires(detail::AnyExprOperand<L, R> && !ComparableOperands<L, R>) void operator OP(L&&, R&&) { \
    static_assert(detail::dependent_false<L>,                                                      \
                  "nexdb: operands of " #OP                                                        \
                  " are not comparable: numbers compare with numbers, text with text, "            \
                  "Timestamp with Timestamp; test NULL with is_null()");                           \
  }

NEXDB_COMPARISON(==, " = ")
NEXDB_COMPARISON(!=, " <> ")
NEXDB_COMPARISON(<, " < ")
NEXDB_COMPARISON(<=, " <= ")
NEXDB_COMPARISON(>, " > ")
NEXDB_COMPARISON(>=, " >= ")
#undef NEXDB_COMPARISON

#define NEXDB_ARITHMETIC(OP, SQL, PREC)                                                           \
  template <class L, class R>                                                                     \
  requires NumericOperands<L, R> Expr<detail::arithmetic_t<L, R>>                                 \
  operator OP(L&& l, R&& r) {                                                                     \
    return Expr<detail::arithmetic_t<L, R>>(                                                      \
        detail::compose(std::forward<L>(l), SQL, std::forward<R>(r), detail::Prec::PREC));        \
  }                                                                                               \
  template <class L, class R>                                                                     \
  requires(detail::AnyExprOperand<L, R> && !NumericOperands<L, R>) void operator OP(L&&, R&&) {   \
    static_assert(detail::dependent_false<L>, "nexdb: " #OP " applies to numeric operands only"); \
  }

NEXDB_ARITHMETIC(+, " + ", additive)
NEXDB_ARITHMETIC(-, " - ", additive)
NEXDB_ARITHMETIC(*, " * ", multiplicative)
NEXDB_ARITHMETIC(/, " / ", multiplicative)
#undef NEXDB_ARITHMETIC

#define NEXDB_LOGICAL(OP, SQL, PREC)                                                          \
  template <class L, class R>                                                                 \
  requires(Condition<L> && Condition<R>) Expr<bool>                                           \
  operator OP(L&& l, R&& r) {                                                                 \
    return Expr<bool>(                                                                        \
        detail::compose(std::forward<L>(l), SQL, std::forward<R>(r), detail::Prec::PREC));    \
  }                                                                                           \
  template <class L, class R>                                                                 \
  requires(detail::AnyExprOperand<L, R> && !(Condition<L> && Condition<R>)) void operator OP( \
      L&&, R&&) {                                                                             \
    static_assert(detail::dependent_false<L>,                                                 \
                  "nexdb: " #OP " combines two SQL conditions (boolean expressions)");        \
  }

NEXDB_LOGICAL(&&, " AND ", logical_and)
NEXDB_LOGICAL(||, " OR ", logical_or)
#undef NEXDB_LOGICAL

template <Condition X>
Expr<bool> operator!(X&& x) {
  auto operand = detail::Access::operand(std::forward<X>(x));
  return Expr<bool>(detail::prefix("NOT ", operand, detail::Prec::logical_not));
}
template <class X>
requires(SqlExpr<X> && !Condition<X>) void operator!(X&&) {
  static_assert(detail::dependent_false<X>,
                "nexdb: ! negates a SQL condition (boolean expression)");
}

}  // namespace dsl
}  // namespace nexdb
