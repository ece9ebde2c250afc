// Compile-time SQL typing of the query builder: which C++ types a column may hold, and which
// operands may be compared, combined or assigned.
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "nexdb/value.hpp"

namespace nexdb {

template <class T>
class Parameter;  // prepared.hpp

namespace dsl {
/// Base of every SQL expression type. Operators live in this namespace, so argument-dependent
/// lookup finds them for expressions and never for unrelated types.
struct ExprTag {};
}  // namespace dsl

namespace detail {

/// The SQL kind of a C++ type: what it compares with and what it can be assigned.
enum class Kind { none, boolean, integer, real, text, bytes, timestamp };

template <class T>
struct Unoptional {
  using type = T;
};
template <class T>
struct Unoptional<std::optional<T>> {
  using type = T;
};
/// T without cv, reference or std::optional: the SQL value type of a nullable T.
template <class T>
using unoptional_t = typename Unoptional<std::remove_cvref_t<T>>::type;

template <class T>
inline constexpr bool is_optional_v = IsOptional<std::remove_cvref_t<T>>::value;

template <class T>
inline constexpr bool is_char_v =
    std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
    std::same_as<T, char16_t> || std::same_as<T, char32_t>;

template <class T>
struct ParameterOf {
  static constexpr bool value = false;
};
template <class T>
struct ParameterOf<Parameter<T>> {
  static constexpr bool value = true;
  using type = T;
};
/// True for a prepared query's Parameter<T>: it stands where a plain T value may.
template <class T>
inline constexpr bool is_parameter_v = ParameterOf<std::remove_cvref_t<T>>::value;

/// Kind of a plain value type (already decayed). std::optional, nullptr and chars have none.
template <class T>
consteval Kind value_kind() {
  if constexpr (is_parameter_v<T>) {
    return value_kind<std::remove_cvref_t<
        typename Unoptional<typename ParameterOf<T>::type>::type>>();
  } else if constexpr (std::same_as<T, bool>) {
    return Kind::boolean;
  } else if constexpr (std::integral<T>) {
    return is_char_v<T> ? Kind::none : Kind::integer;
  } else if constexpr (std::floating_point<T>) {
    return Kind::real;
  } else if constexpr (std::same_as<T, Bytes>) {
    return Kind::bytes;
  } else if constexpr (std::same_as<T, std::nullptr_t>) {
    return Kind::none;
  } else if constexpr (std::convertible_to<T, std::string_view>) {
    return Kind::text;
  } else if constexpr (std::convertible_to<T, Timestamp>) {
    return Kind::timestamp;
  } else {
    return Kind::none;
  }
}

template <class X>
inline constexpr bool is_expr_v = std::derived_from<std::remove_cvref_t<X>, dsl::ExprTag>;

/// Kind of any operand: an expression's value type, or a plain value.
template <class X>
consteval Kind kind_of() {
  using D = std::remove_cvref_t<X>;
  if constexpr (is_expr_v<D>) {
    return value_kind<unoptional_t<typename D::value_type>>();
  } else {
    return value_kind<std::decay_t<X>>();
  }
}

constexpr bool is_numeric(Kind k) { return k == Kind::integer || k == Kind::real; }
constexpr bool comparable(Kind a, Kind b) {
  return a != Kind::none && b != Kind::none && (a == b || (is_numeric(a) && is_numeric(b)));
}
/// A column of kind `to` accepts `from`: same kind, or an integer into a real column.
constexpr bool assignable(Kind to, Kind from) {
  return to != Kind::none && (to == from || (to == Kind::real && from == Kind::integer));
}

template <class T>
inline constexpr bool dependent_false = false;

/// Types a Column may be declared with: the storage types of Value, optionally std::optional.
template <class T>
inline constexpr bool is_storage_type_v =
    std::same_as<T, bool> || (std::integral<T> && !is_char_v<T>) || std::floating_point<T> ||
    std::same_as<T, std::string> || std::same_as<T, Bytes> || std::same_as<T, Timestamp>;

}  // namespace detail

/// Any SQL expression: a Column, an Expr or an aggregate.
template <class X>
concept SqlExpr = detail::is_expr_v<X>;

/// A boolean SQL expression: what where(), having() and join conditions accept.
template <class X>
concept Condition = SqlExpr<X> &&(detail::kind_of<X>() == detail::Kind::boolean);

/// A numeric SQL expression: what sum(), avg() and + - * / accept.
template <class X>
concept NumericExpr = SqlExpr<X> && detail::is_numeric(detail::kind_of<X>());

/// Two operands, at least one an expression, of kinds SQL can compare.
template <class L, class R>
concept ComparableOperands = (SqlExpr<L> || SqlExpr<R>)&&detail::comparable(detail::kind_of<L>(),
                                                                            detail::kind_of<R>());

/// Two operands, at least one an expression, both numeric.
template <class L, class R>
concept NumericOperands = (SqlExpr<L> || SqlExpr<R>)&&detail::is_numeric(detail::kind_of<L>()) &&
                          detail::is_numeric(detail::kind_of<R>());

namespace detail {

/// True when `V` may be stored in a column of type `T` (T may be std::optional).
template <class T, class V>
consteval bool assignable_to() {
  using D = std::remove_cvref_t<V>;
  constexpr Kind column = value_kind<unoptional_t<T>>();
  if constexpr (std::same_as<D, std::nullopt_t> || std::same_as<D, Null>) {
    return is_optional_v<T>;
  } else if constexpr (is_optional_v<D>) {
    return is_optional_v<T> && assignable(column, value_kind<unoptional_t<D>>());
  } else {
    return assignable(column, kind_of<V>());
  }
}

/// The value a Parameter binds while its query is built (prepared.hpp).
Value parameter_marker(std::size_t index);

/// The Value bound for a plain C++ value; nullopt, null and empty optionals become NULL.
template <class V>
Value make_value(V&& v) {
  using D = std::decay_t<V>;
  if constexpr (is_parameter_v<D>) {
    return parameter_marker(v.index());
  } else if constexpr (std::same_as<D, std::nullopt_t> || std::same_as<D, Null>) {
    return Value{};
  } else if constexpr (is_optional_v<D>) {
    return v ? make_value(*std::forward<V>(v)) : Value{};
  } else if constexpr (std::same_as<D, std::string>) {
    return Value(std::forward<V>(v));
  } else if constexpr (value_kind<D>() == Kind::text) {
    return Value(std::string_view(v));
  } else if constexpr (value_kind<D>() == Kind::timestamp) {
    return Value(Timestamp(v));
  } else {
    return Value(std::forward<V>(v));
  }
}

}  // namespace detail
}  // namespace nexdb
