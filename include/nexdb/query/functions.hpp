// Aggregate functions for select(), having() and order_by().
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "nexdb/query/expr.hpp"

namespace nexdb {
namespace detail {
template <class X>
Fragment call_on(std::string_view name, X&& x, bool distinct = false) {
  return call(name, Access::operand(std::forward<X>(x)), distinct);
}
template <class X>
constexpr bool is_orderable_v = is_numeric(kind_of<X>()) || kind_of<X>() == Kind::text
                                || kind_of<X>() == Kind::timestamp;
template <class X>
using sum_t =
    std::optional<std::conditional_t<kind_of<X>() == Kind::integer, std::int64_t, double>>;
template <class X>
using extreme_t = std::optional<unoptional_t<typename std::remove_cvref_t<X>::value_type>>;
}  // namespace detail

/// count(*)
inline Expr<std::int64_t> count() { return Expr<std::int64_t>(detail::text_fragment("count(*)")); }

/// count(expr): the rows where expr is not NULL.
template <SqlExpr X>
Expr<std::int64_t> count(X&& x) {
  return Expr<std::int64_t>(detail::call_on("count", std::forward<X>(x)));
}

/// count(DISTINCT expr)
template <SqlExpr X>
Expr<std::int64_t> count_distinct(X&& x) {
  return Expr<std::int64_t>(detail::call_on("count", std::forward<X>(x), true));
}

/// sum(expr) of a numeric expression: an integer for integers, else double; NULL for no rows.
/// (PostgreSQL returns numeric for sum(bigint); read it as double or std::optional<double>.)
template <SqlExpr X>
Expr<detail::sum_t<X>> sum(X&& x) {
  static_assert(NumericExpr<X>, "nexdb: sum() applies to numeric expressions only");
  return Expr<detail::sum_t<X>>(detail::call_on("sum", std::forward<X>(x)));
}

/// avg(expr) of a numeric expression; NULL for no rows.
template <SqlExpr X>
Expr<std::optional<double>> avg(X&& x) {
  static_assert(NumericExpr<X>, "nexdb: avg() applies to numeric expressions only");
  return Expr<std::optional<double>>(detail::call_on("avg", std::forward<X>(x)));
}

/// min(expr) / max(expr) of numbers, text or timestamps; NULL for no rows.
template <SqlExpr X>
Expr<detail::extreme_t<X>> min(X&& x) {
  static_assert(detail::is_orderable_v<X>, "nexdb: min() applies to numbers, text and timestamps");
  return Expr<detail::extreme_t<X>>(detail::call_on("min", std::forward<X>(x)));
}
template <SqlExpr X>
Expr<detail::extreme_t<X>> max(X&& x) {
  static_assert(detail::is_orderable_v<X>, "nexdb: max() applies to numbers, text and timestamps");
  return Expr<detail::extreme_t<X>>(detail::call_on("max", std::forward<X>(x)));
}

}  // namespace nexdb
