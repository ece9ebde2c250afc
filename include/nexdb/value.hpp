// Typed SQL values, shared by every backend and by the query builder.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nexdb {

/// A point in time, UTC, microsecond precision (PostgreSQL's timestamp resolution).
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;
/// Binary data (bytea / BLOB).
using Bytes = std::vector<std::byte>;
struct Null {
  friend bool operator==(Null, Null) = default;
};
inline constexpr Null null{};

/// The SQL dialect a statement is rendered for.
enum class Dialect { postgres, sqlite };
std::string_view to_string(Dialect dialect) noexcept;

enum class ValueType { null, boolean, integer, real, text, bytes, timestamp };
std::string_view to_string(ValueType type) noexcept;

/// One SQL value. Integers are widened to int64 and floats to double on the way in.
class Value {
 public:
  using Storage = std::variant<Null, bool, std::int64_t, double, std::string, Bytes, Timestamp>;

  Value() = default;
  Value(Null) {}
  Value(std::nullptr_t) {}
  Value(bool v) : storage_(v) {}
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Value(T v) : storage_(static_cast<std::int64_t>(v)) {}
  template <std::floating_point T>
  Value(T v) : storage_(static_cast<double>(v)) {}
  Value(std::string v) : storage_(std::move(v)) {}
  Value(std::string_view v) : storage_(std::string(v)) {}
  Value(const char* v) : storage_(std::string(v)) {}
  Value(Bytes v) : storage_(std::move(v)) {}
  Value(Timestamp v) : storage_(v) {}
  template <class T>
  Value(const std::optional<T>& v) {
    if (v) *this = Value(*v);
  }

  ValueType type() const noexcept { return static_cast<ValueType>(storage_.index()); }
  bool is_null() const noexcept { return storage_.index() == 0; }
  const Storage& storage() const noexcept { return storage_; }

  /// The value as a T; throws TypeMismatch when it does not convert without loss.
  /// std::optional<T> maps NULL to nullopt; any other T throws on NULL.
  template <class T>
  T as() const;

  /// Human-readable rendering for diagnostics (bytes as \x.., text unquoted).
  std::string to_display_string() const;

  friend bool operator==(const Value&, const Value&) = default;

 private:
  Storage storage_;
};

template <class T>
struct FromValue;  // specialised in value.cpp for each supported T

namespace detail {
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
}  // namespace detail

template <class T>
T Value::as() const {
  if constexpr (detail::IsOptional<T>::value) {
    if (is_null()) return std::nullopt;
    return as<typename T::value_type>();
  } else {
    return FromValue<T>::convert(*this);
  }
}

#define NEXDB_FROM_VALUE(T)                 \
  template <>                               \
  struct FromValue<T> {                     \
    static T convert(const Value& value);   \
  }
NEXDB_FROM_VALUE(bool);
NEXDB_FROM_VALUE(std::int16_t);
NEXDB_FROM_VALUE(std::int32_t);
NEXDB_FROM_VALUE(std::int64_t);
NEXDB_FROM_VALUE(std::uint32_t);
NEXDB_FROM_VALUE(std::uint64_t);
NEXDB_FROM_VALUE(double);
NEXDB_FROM_VALUE(float);
NEXDB_FROM_VALUE(std::string);
/// A view of the text held by the Value (no copy): valid while the Value, e.g. its Rows, lives.
NEXDB_FROM_VALUE(std::string_view);
NEXDB_FROM_VALUE(Bytes);
NEXDB_FROM_VALUE(Timestamp);
NEXDB_FROM_VALUE(Value);
#undef NEXDB_FROM_VALUE

/// Parses "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM]]" (PostgreSQL and SQLite text forms).
std::optional<Timestamp> parse_timestamp(std::string_view text);
/// Formats as "YYYY-MM-DD HH:MM:SS.ffffff+00" (accepted by both backends).
std::string format_timestamp(Timestamp ts);

/// SQL text plus its bound parameters, ready to run. Values are never spliced into `sql`.
struct Statement {
  std::string sql{};
  std::vector<Value> params{};
};

}  // namespace nexdb
