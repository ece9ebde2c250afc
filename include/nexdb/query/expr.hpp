// Typed SQL expressions: Expr<T>, the members every expression shares (ordering, aliases,
// predicates), sort terms and aliased select items.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "nexdb/query/fragment.hpp"
#include "nexdb/query/types.hpp"

namespace nexdb {

template <class T>
class Expr;
template <class T>
class Aliased;
class OrderTerm;

namespace detail {

/// Reaches the fragments inside expressions, terms and assignments for nexdb's own code.
struct Access {
  template <class X>
  static Operand operand(X&& x) {
    return std::forward<X>(x).operand();
  }
};

/// True for expressions whose text lives as long as their model (columns): terms and lazy
/// comparisons may point at it instead of copying it.
template <class X>
inline constexpr bool has_stable_text_v = requires {
  std::remove_cvref_t<X>::kStableText;
};

/// A plain value on its way into a fragment as a bound parameter.
struct BoundValue {
  Value value;
  bool as_real = false;
};

/// True when a real value `X` meets an integer expression `Against`. PostgreSQL types an
/// untyped parameter after the other operand, so `int_col = $1` would read 2.5 as a bigint and
/// fail; the placeholder is then cast to double precision (harmless on SQLite).
template <class Against, class X>
inline constexpr bool needs_real_cast_v =
    !is_expr_v<X> && is_expr_v<Against> && kind_of<X>() == Kind::real &&
    kind_of<Against>() == Kind::integer;

/// An operand for composition against `Against` (void: none): expressions are borrowed,
/// plain values are bound.
template <class Against, class X>
auto hold(X&& x) {
  if constexpr (is_expr_v<X>) {
    return Access::operand(std::forward<X>(x));
  } else {
    return BoundValue{make_value(std::forward<X>(x)), needs_real_cast_v<Against, X>};
  }
}
inline const Operand& as_operand(const Operand& operand) { return operand; }
inline Operand as_operand(BoundValue& bound) {
  return one_piece({bound.as_real ? kRealParamText : kParamText, &bound.value, 1, true},
                   Prec::atom);
}

/// `l op r` for any mix of expressions and values.
template <class L, class R>
Fragment compose(L&& l, std::string_view op, R&& r, Prec prec) {
  auto lhs = hold<R>(std::forward<L>(l));
  auto rhs = hold<L>(std::forward<R>(r));
  return binary(as_operand(lhs), op, as_operand(rhs), prec);
}

template <class Range>
std::vector<Value> make_values(const Range& values) {
  std::vector<Value> out;
  out.reserve(values.size());
  for (const auto& v : values) out.push_back(make_value(v));
  return out;
}

}  // namespace detail

/// Members shared by every expression of SQL type T (Column<T>, Expr<T>).
template <class Derived, class T>
class ExprOps : public dsl::ExprTag {
  using Base = detail::unoptional_t<T>;

 public:
  OrderTerm asc() const;
  OrderTerm desc() const;
  /// ORDER BY this NULLS FIRST / NULLS LAST (ascending).
  OrderTerm nulls_first() const;
  OrderTerm nulls_last() const;

  /// `expr AS "name"`, for select() and returning(). Throws UsageError for an invalid name.
  Aliased<T> as(std::string_view name) const;

  Expr<bool> is_null() const;
  Expr<bool> is_not_null() const;

  /// `expr BETWEEN low AND high` (inclusive); bounds are values or expressions.
  template <class L, class H>
  Expr<bool> between(L&& low, H&& high) const;

  /// `expr IN (...)`, every value bound; an empty list is a condition that is always false.
  Expr<bool> in(std::initializer_list<Base> values) const;
  template <class V>
  Expr<bool> in(std::initializer_list<V> values) const;
  template <class V>
  Expr<bool> in(const std::vector<V>& values) const;
  /// `expr NOT IN (...)`; an empty list is a condition that is always true.
  Expr<bool> not_in(std::initializer_list<Base> values) const;
  template <class V>
  Expr<bool> not_in(std::initializer_list<V> values) const;
  template <class V>
  Expr<bool> not_in(const std::vector<V>& values) const;

  /// `expr LIKE pattern` (text only). The pattern is bound; % and _ keep their SQL meaning.
  template <class V>
  Expr<bool> like(V&& pattern) const;

 private:
  const Derived& derived() const { return static_cast<const Derived&>(*this); }
  detail::Operand self() const { return detail::Access::operand(derived()); }
  Expr<bool> postfix(std::string_view op) const;
  OrderTerm order(std::string_view direction, std::string_view nulls) const;
  template <class Range>
  Expr<bool> in_impl(const Range& values, bool negate) const;
};

/// A composed SQL expression whose value has C++ type T (std::optional<U> when it may be NULL).
template <class T>
class Expr : public ExprOps<Expr<T>, T> {
 public:
  using value_type = T;
  explicit Expr(detail::Fragment fragment) : fragment_(std::move(fragment)) {}

 private:
  friend struct detail::Access;
  detail::Operand operand() const& { return detail::borrow(fragment_); }
  detail::Operand operand() && { return detail::take(fragment_); }

  detail::Fragment fragment_;
};

/// One ORDER BY term: an expression with its direction and where NULLs sort. A column's term
/// only points at the column's name (owned by its model); other expressions are copied.
class OrderTerm {
 public:
  OrderTerm(detail::Fragment expr, std::string_view direction, std::string_view nulls)
      : expr_(std::move(expr)), direction_(direction), nulls_(nulls) {}
  OrderTerm(std::string_view column, std::string_view direction, std::string_view nulls)
      : column_(column), direction_(direction), nulls_(nulls) {}

  /// Throws UsageError when the term already says where NULLs go.
  OrderTerm nulls_first() const& { return OrderTerm(*this).nulls(" NULLS FIRST"); }
  OrderTerm nulls_first() && { return std::move(*this).nulls(" NULLS FIRST"); }
  OrderTerm nulls_last() const& { return OrderTerm(*this).nulls(" NULLS LAST"); }
  OrderTerm nulls_last() && { return std::move(*this).nulls(" NULLS LAST"); }

 private:
  friend struct detail::Access;
  OrderTerm&& nulls(std::string_view nulls) &&;
  detail::Operand operand() const& { return pieces(false); }
  detail::Operand operand() && { return pieces(true); }
  // Built in place: assembling an Operand and then copying it costs more than the rest.
  detail::Operand pieces(bool movable) const {
    detail::Operand operand;
    if (column_.empty()) {
      operand.pieces[0] = {expr_.sql.view(), expr_.params.data(), expr_.params.size(), movable};
    } else {
      operand.pieces[0] = detail::text_piece(column_);
    }
    operand.pieces[1] = detail::text_piece(direction_);
    operand.pieces[2] = detail::text_piece(nulls_);
    operand.size = 3;
    return operand;
  }

  detail::Fragment expr_;
  std::string_view column_;
  std::string_view direction_;
  std::string_view nulls_;
};

/// `expr AS "name"`: a select() or returning() item, not usable inside other expressions.
template <class T>
class Aliased {
 public:
  using value_type = T;
  explicit Aliased(detail::Fragment fragment) : fragment_(std::move(fragment)) {}

 private:
  friend struct detail::Access;
  detail::Operand operand() const& { return detail::borrow(fragment_); }
  detail::Operand operand() && { return detail::take(fragment_); }

  detail::Fragment fragment_;
};

namespace detail {
template <class X>
inline constexpr bool is_aliased_v = false;
template <class T>
inline constexpr bool is_aliased_v<Aliased<T>> = true;
}  // namespace detail

/// What select() and returning() accept: expressions and aliased expressions.
template <class X>
concept SelectItem = SqlExpr<X> || detail::is_aliased_v<std::remove_cvref_t<X>>;
/// What order_by() accepts: expressions (ascending) and asc()/desc() terms.
template <class X>
concept OrderItem = SqlExpr<X> || std::same_as<std::remove_cvref_t<X>, OrderTerm>;

#define NEXDB_IN_VALUES_MESSAGE \
  "nexdb: in() values must be comparable with the expression (same kind, or both numeric)"
#define NEXDB_EXPR_OPS(...)         \
  template <class Derived, class T> \
  __VA_ARGS__ ExprOps<Derived, T>

NEXDB_EXPR_OPS(Expr<bool>)::is_null() const { return postfix(" IS NULL"); }
NEXDB_EXPR_OPS(Expr<bool>)::is_not_null() const { return postfix(" IS NOT NULL"); }
NEXDB_EXPR_OPS(Expr<bool>)::postfix(std::string_view op) const {
  return Expr<bool>(detail::postfix(self(), op, detail::Prec::comparison));
}

template <class Derived, class T>
template <class L, class H>
Expr<bool> ExprOps<Derived, T>::between(L&& low, H&& high) const {
  static_assert(ComparableOperands<Derived, L> && ComparableOperands<Derived, H>,
                "nexdb: between() bounds must be comparable with the expression");
  auto lo = detail::hold<Derived>(std::forward<L>(low));
  auto hi = detail::hold<Derived>(std::forward<H>(high));
  return Expr<bool>(detail::between(self(), detail::as_operand(lo), detail::as_operand(hi)));
}

template <class Derived, class T>
template <class Range>
Expr<bool> ExprOps<Derived, T>::in_impl(const Range& values, bool negate) const {
  using V = typename Range::value_type;
  return Expr<bool>(detail::in_list(self(), detail::make_values(values), negate,
                                    detail::needs_real_cast_v<Derived, V>));
}
NEXDB_EXPR_OPS(Expr<bool>)::in(std::initializer_list<Base> values) const {
  return in_impl(values, false);
}
template <class Derived, class T>
template <class V>
Expr<bool> ExprOps<Derived, T>::in(std::initializer_list<V> values) const {
  static_assert(ComparableOperands<Derived, V>, NEXDB_IN_VALUES_MESSAGE);
  return in_impl(values, false);
}
template <class Derived, class T>
template <class V>
Expr<bool> ExprOps<Derived, T>::in(const std::vector<V>& values) const {
  static_assert(ComparableOperands<Derived, V>, NEXDB_IN_VALUES_MESSAGE);
  return in_impl(values, false);
}
NEXDB_EXPR_OPS(Expr<bool>)::not_in(std::initializer_list<Base> values) const {
  return in_impl(values, true);
}
template <class Derived, class T>
template <class V>
Expr<bool> ExprOps<Derived, T>::not_in(std::initializer_list<V> values) const {
  static_assert(ComparableOperands<Derived, V>, NEXDB_IN_VALUES_MESSAGE);
  return in_impl(values, true);
}
template <class Derived, class T>
template <class V>
Expr<bool> ExprOps<Derived, T>::not_in(const std::vector<V>& values) const {
  static_assert(ComparableOperands<Derived, V>, NEXDB_IN_VALUES_MESSAGE);
  return in_impl(values, true);
}

template <class Derived, class T>
template <class V>
Expr<bool> ExprOps<Derived, T>::like(V&& pattern) const {
  static_assert(detail::kind_of<Derived>() == detail::Kind::text,
                "nexdb: like() applies to text expressions only");
  static_assert(detail::kind_of<V>() == detail::Kind::text,
                "nexdb: the like() pattern must be text");
  return Expr<bool>(
      detail::compose(derived(), " LIKE ", std::forward<V>(pattern), detail::Prec::comparison));
}

NEXDB_EXPR_OPS(OrderTerm)::order(std::string_view direction, std::string_view nulls) const {
  if constexpr (detail::has_stable_text_v<Derived>) {
    return OrderTerm(self().pieces[0].sql, direction, nulls);
  } else {
    detail::Fragment expr;
    detail::append(expr, self());
    return OrderTerm(std::move(expr), direction, nulls);
  }
}
NEXDB_EXPR_OPS(OrderTerm)::asc() const { return order(" ASC", {}); }
NEXDB_EXPR_OPS(OrderTerm)::desc() const { return order(" DESC", {}); }
NEXDB_EXPR_OPS(OrderTerm)::nulls_first() const { return order({}, " NULLS FIRST"); }
NEXDB_EXPR_OPS(OrderTerm)::nulls_last() const { return order({}, " NULLS LAST"); }
NEXDB_EXPR_OPS(Aliased<T>)::as(std::string_view name) const {
  return Aliased<T>(detail::alias(self(), name));
}

#undef NEXDB_EXPR_OPS
#undef NEXDB_IN_VALUES_MESSAGE

}  // namespace nexdb
