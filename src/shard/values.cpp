#include "shard/values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "nexdb/error.hpp"

namespace nexdb::shard_detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// An exact decimal: sign, integer digits without leading zeros ("" for 0), fraction digits.
struct Decimal {
  bool negative = false;
  std::string integer;
  std::string fraction;
};

Decimal parse_decimal(std::string_view text) {
  Decimal d;
  if (!text.empty() && text.front() == '-') {
    d.negative = true;
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  d.integer = std::string(text.substr(0, dot));
  if (dot != std::string_view::npos) d.fraction = std::string(text.substr(dot + 1));
  d.integer.erase(0, std::min(d.integer.find_first_not_of('0'), d.integer.size()));
  return d;
}

bool is_zero(const Decimal& d) {
  return d.integer.empty() && d.fraction.find_first_not_of('0') == std::string::npos;
}

// Compares magnitudes.
int compare_magnitude(const Decimal& a, const Decimal& b) {
  if (a.integer.size() != b.integer.size()) return a.integer.size() < b.integer.size() ? -1 : 1;
  if (int c = a.integer.compare(b.integer); c != 0) return c < 0 ? -1 : 1;
  const std::size_t n = std::max(a.fraction.size(), b.fraction.size());
  for (std::size_t i = 0; i < n; ++i) {
    const char x = i < a.fraction.size() ? a.fraction[i] : '0';
    const char y = i < b.fraction.size() ? b.fraction[i] : '0';
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

int compare_decimal(const Decimal& a, const Decimal& b) {
  const bool a_neg = a.negative && !is_zero(a);
  const bool b_neg = b.negative && !is_zero(b);
  if (a_neg != b_neg) return a_neg ? -1 : 1;
  const int c = compare_magnitude(a, b);
  return a_neg ? -c : c;
}

// Digits of `d` at `scale` fraction digits, as one digit string (no sign, no point).
std::string scaled(const Decimal& d, std::size_t scale) {
  std::string fraction = d.fraction;
  fraction.resize(scale, '0');
  return d.integer + fraction;
}

std::string add_digits(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry != 0; ++i) {
    int sum = carry;
    if (i < a.size()) sum += a[a.size() - 1 - i] - '0';
    if (i < b.size()) sum += b[b.size() - 1 - i] - '0';
    out.push_back(static_cast<char>('0' + sum % 10));
    carry = sum / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// a - b for a >= b (digit strings of equal scale).
std::string subtract_digits(const std::string& a, const std::string& b) {
  std::string out;
  int borrow = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    int digit = a[a.size() - 1 - i] - '0' - borrow;
    if (i < b.size()) digit -= b[b.size() - 1 - i] - '0';
    borrow = digit < 0 ? 1 : 0;
    out.push_back(static_cast<char>('0' + digit + 10 * borrow));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string format_decimal(bool negative, std::string digits, std::size_t scale) {
  if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
  std::string integer = digits.substr(0, digits.size() - scale);
  integer.erase(0, std::min(integer.find_first_not_of('0'), integer.size() - 1));
  std::string out = integer;
  if (scale > 0) out += '.' + digits.substr(digits.size() - scale);
  const bool zero = out.find_first_not_of("0.") == std::string::npos;
  return negative && !zero ? '-' + out : out;
}

std::string add_decimal(std::string_view a_text, std::string_view b_text) {
  const Decimal a = parse_decimal(a_text);
  const Decimal b = parse_decimal(b_text);
  const std::size_t scale = std::max(a.fraction.size(), b.fraction.size());
  const std::string x = scaled(a, scale);
  const std::string y = scaled(b, scale);
  if (a.negative == b.negative) return format_decimal(a.negative, add_digits(x, y), scale);
  if (compare_magnitude(a, b) >= 0) return format_decimal(a.negative, subtract_digits(x, y), scale);
  return format_decimal(b.negative, subtract_digits(y, x), scale);
}

bool is_special(std::string_view text) {
  return text == "NaN" || text == "Infinity" || text == "-Infinity";
}

// A number's kind for comparison: 0 integer (booleans too), 1 float, 2 decimal text, -1 not a
// number. Text is a number only in a numeric column.
int number_kind(const Value& v, ColumnType type) {
  switch (v.type()) {
    case ValueType::boolean:
    case ValueType::integer:
      return 0;
    case ValueType::real:
      return 1;
    case ValueType::text:
      return type == ColumnType::numeric && is_decimal_text(std::get<std::string>(v.storage()))
                 ? 2
                 : -1;
    default:
      return -1;
  }
}

// Order of kinds when two values are not both numbers (SQLite's order).
int kind_rank(const Value& v, ColumnType type) {
  if (number_kind(v, type) >= 0) return 1;
  switch (v.type()) {
    case ValueType::boolean:
    case ValueType::integer:
    case ValueType::real:
      return 1;
    case ValueType::timestamp:
      return 2;
    case ValueType::text:
      return 3;
    case ValueType::bytes:
      return 4;
    default:
      return 5;
  }
}

std::int64_t integer_of(const Value& v) {
  if (v.type() == ValueType::boolean) return std::get<bool>(v.storage()) ? 1 : 0;
  return std::get<std::int64_t>(v.storage());
}

std::string decimal_text(const Value& v) {
  if (v.type() == ValueType::text) return std::get<std::string>(v.storage());
  return std::to_string(integer_of(v));
}

long double to_long_double(const Value& v) {
  switch (v.type()) {
    case ValueType::boolean:
    case ValueType::integer:
      return static_cast<long double>(integer_of(v));
    case ValueType::real:
      return std::get<double>(v.storage());
    case ValueType::text: {
      const auto& text = std::get<std::string>(v.storage());
      if (text == "NaN") return std::numeric_limits<long double>::quiet_NaN();
      return std::strtold(text.c_str(), nullptr);  // also reads Infinity and -Infinity
    }
    default:
      return 0;
  }
}

int compare_long_double(long double a, long double b) {
  // PostgreSQL sorts NaN above every number.
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) == std::isnan(b) ? 0 : (std::isnan(a) ? 1 : -1);
  return a < b ? -1 : (a > b ? 1 : 0);
}

int compare_numbers(const Value& a, int ka, const Value& b, int kb) {
  const bool exact = ka != 1 && kb != 1;
  if (exact) {
    const std::string x = decimal_text(a);
    const std::string y = decimal_text(b);
    if (!is_special(x) && !is_special(y))
      return compare_decimal(parse_decimal(x), parse_decimal(y));
  }
  return compare_long_double(to_long_double(a), to_long_double(b));
}

template <class T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// NaN, Infinity and -Infinity in a numeric sum: as PostgreSQL adds them.
std::string add_special(const std::string& a, const std::string& b) {
  if (a == "NaN" || b == "NaN") return "NaN";
  const bool a_inf = is_special(a);
  const bool b_inf = is_special(b);
  if (a_inf && b_inf && a != b) return "NaN";  // Infinity + -Infinity
  return a_inf ? a : b;
}

// One spelling per number: integers and integral floats as digits, decimal text without trailing
// fraction zeros (so 1, 1.0 and "1.00" are one), other floats by their bits.
std::string canonical_number(const Value& v, int kind) {
  if (kind == 0) return std::to_string(integer_of(v));
  if (kind == 1) {
    const double d = std::get<double>(v.storage());
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == std::floor(d) && std::abs(d) < 9.2e18)
      return std::to_string(static_cast<std::int64_t>(d));
    return fmt::format("f{:016x}", std::bit_cast<std::uint64_t>(d));
  }
  const std::string& text = std::get<std::string>(v.storage());
  if (is_special(text)) return text;
  Decimal d = parse_decimal(text);
  d.fraction.erase(d.fraction.find_last_not_of('0') + 1);
  std::string out;
  if (d.negative && !is_zero(d)) out += '-';
  out += d.integer.empty() ? std::string("0") : d.integer;
  if (!d.fraction.empty()) {
    out += '.';
    out += d.fraction;
  }
  return out;
}

}  // namespace

bool is_decimal_text(std::string_view text) noexcept {
  if (is_special(text)) return true;
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  const auto dot = text.find('.');
  const std::string_view integer = text.substr(0, dot);
  if (integer.empty() || !std::all_of(integer.begin(), integer.end(), is_digit)) return false;
  if (integer.size() > 1 && integer.front() == '0') return false;
  if (dot == std::string_view::npos) return true;
  const std::string_view fraction = text.substr(dot + 1);
  return !fraction.empty() && std::all_of(fraction.begin(), fraction.end(), is_digit);
}

int compare_values(Typed a_typed, Typed b_typed) {
  const Value& a = a_typed.value;
  const Value& b = b_typed.value;
  const int ka = number_kind(a, a_typed.type);
  const int kb = number_kind(b, b_typed.type);
  if (ka >= 0 && kb >= 0) return compare_numbers(a, ka, b, kb);
  const int ra = kind_rank(a, a_typed.type);
  const int rb = kind_rank(b, b_typed.type);
  if (ra != rb) return three_way(ra, rb);
  const auto& x = a.storage();
  const auto& y = b.storage();
  switch (a.type()) {
    case ValueType::timestamp:
      return three_way(std::get<Timestamp>(x), std::get<Timestamp>(y));
    case ValueType::text:  // bytewise, as PostgreSQL's C collation and SQLite's BINARY
      return three_way(std::get<std::string>(x).compare(std::get<std::string>(y)), 0);
    case ValueType::bytes: {
      const auto& p = std::get<Bytes>(x);
      const auto& q = std::get<Bytes>(y);
      return std::lexicographical_compare_three_way(p.begin(), p.end(), q.begin(), q.end()) < 0
                 ? -1
                 : (p == q ? 0 : 1);
    }
    default:
      return 0;
  }
}

Value add_values(const Value& a, const Value& b, ColumnType type) {
  if (a.is_null()) return b;
  if (b.is_null()) return a;
  const int ka = number_kind(a, type);
  const int kb = number_kind(b, type);
  if (ka < 0 || kb < 0) {
    throw Error(fmt::format("cannot add {} and {} from different shards: not numbers",
                            a.to_display_string(), b.to_display_string()));
  }
  if (ka == 1 || kb == 1) return Value(static_cast<double>(to_long_double(a) + to_long_double(b)));
  if (ka == 0 && kb == 0) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(integer_of(a), integer_of(b), &sum)) {
      throw_sql_error("integer out of range adding the shards' results", {.sqlstate = "22003"});
    }
    return Value(sum);
  }
  const std::string x = decimal_text(a);
  const std::string y = decimal_text(b);
  if (is_special(x) || is_special(y)) return Value(add_special(x, y));
  return Value(add_decimal(x, y));
}

double to_double(const Value& value) { return static_cast<double>(to_long_double(value)); }

void append_key(std::string& key, Typed typed) {
  const Value& value = typed.value;
  const int kind = number_kind(value, typed.type);
  if (kind >= 0) {
    key += 'N';
    key += canonical_number(value, kind);
    key += ';';
    return;
  }
  key += static_cast<char>('A' + static_cast<int>(value.type()));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          key += std::to_string(v.size()) + ':' + v;
        } else if constexpr (std::is_same_v<T, Bytes>) {
          key += std::to_string(v.size()) + ':';
          for (std::byte b : v) key += static_cast<char>(b);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          key += std::to_string(v.time_since_epoch().count()) + ';';
        }
      },
      value.storage());
}

}  // namespace nexdb::shard_detail
