#include "nexdb/value.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "nexdb/error.hpp"

namespace nexdb {

std::string_view to_string(Dialect dialect) noexcept {
  return dialect == Dialect::postgres ? "postgres" : "sqlite";
}

std::string_view to_string(ValueType type) noexcept {
  switch (type) {
    case ValueType::null:
      return "null";
    case ValueType::boolean:
      return "bool";
    case ValueType::integer:
      return "int64";
    case ValueType::real:
      return "double";
    case ValueType::text:
      return "string";
    case ValueType::bytes:
      return "bytes";
    case ValueType::timestamp:
      return "timestamp";
  }
  return "unknown";
}

namespace {

[[noreturn]] void mismatch(const Value& value, std::string_view wanted) {
  if (value.is_null()) {
    throw TypeMismatch(
        fmt::format("value is NULL, cannot read it as {}; read it as "
                    "std::optional<{}> if the column is nullable",
                    wanted, wanted));
  }
  throw TypeMismatch(fmt::format("value {} of type {} cannot be read as {}",
                                 value.to_display_string(), to_string(value.type()), wanted));
}

template <class T>
T integer_as(const Value& value, std::string_view wanted) {
  const auto* i = std::get_if<std::int64_t>(&value.storage());
  if (i == nullptr) mismatch(value, wanted);
  if constexpr (std::is_unsigned_v<T>) {
    if (*i < 0 || static_cast<std::uint64_t>(*i) > std::numeric_limits<T>::max())
      mismatch(value, wanted);
  } else {
    if (*i < std::numeric_limits<T>::min() || *i > std::numeric_limits<T>::max())
      mismatch(value, wanted);
  }
  return static_cast<T>(*i);
}

int parse_int(std::string_view text, std::size_t pos, std::size_t len, bool& ok) {
  int out = 0;
  if (pos + len > text.size()) {
    ok = false;
    return 0;
  }
  auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
  if (ec != std::errc() || ptr != text.data() + pos + len) ok = false;
  return out;
}

}  // namespace

bool FromValue<bool>::convert(const Value& value) {
  if (const auto* b = std::get_if<bool>(&value.storage())) return *b;
  // SQLite stores booleans as 0/1 integers.
  if (const auto* i = std::get_if<std::int64_t>(&value.storage()); i && (*i == 0 || *i == 1))
    return *i == 1;
  mismatch(value, "bool");
}
std::int16_t FromValue<std::int16_t>::convert(const Value& v) {
  return integer_as<std::int16_t>(v, "int16");
}
std::int32_t FromValue<std::int32_t>::convert(const Value& v) {
  return integer_as<std::int32_t>(v, "int32");
}
std::int64_t FromValue<std::int64_t>::convert(const Value& v) {
  return integer_as<std::int64_t>(v, "int64");
}
std::uint32_t FromValue<std::uint32_t>::convert(const Value& v) {
  return integer_as<std::uint32_t>(v, "uint32");
}
std::uint64_t FromValue<std::uint64_t>::convert(const Value& v) {
  return integer_as<std::uint64_t>(v, "uint64");
}

double FromValue<double>::convert(const Value& value) {
  if (const auto* d = std::get_if<double>(&value.storage())) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&value.storage())) return static_cast<double>(*i);
  mismatch(value, "double");
}
float FromValue<float>::convert(const Value& value) {
  return static_cast<float>(FromValue<double>::convert(value));
}

std::string FromValue<std::string>::convert(const Value& value) {
  if (const auto* s = std::get_if<std::string>(&value.storage())) return *s;
  mismatch(value, "string");
}

std::string_view FromValue<std::string_view>::convert(const Value& value) {
  if (const auto* s = std::get_if<std::string>(&value.storage())) return *s;
  mismatch(value, "string");
}

Bytes FromValue<Bytes>::convert(const Value& value) {
  if (const auto* b = std::get_if<Bytes>(&value.storage())) return *b;
  mismatch(value, "bytes");
}

Timestamp FromValue<Timestamp>::convert(const Value& value) {
  if (const auto* t = std::get_if<Timestamp>(&value.storage())) return *t;
  // SQLite has no timestamp type: CURRENT_TIMESTAMP and friends store ISO-8601 text.
  if (const auto* s = std::get_if<std::string>(&value.storage())) {
    if (auto parsed = parse_timestamp(*s)) return *parsed;
  }
  mismatch(value, "timestamp");
}

Value FromValue<Value>::convert(const Value& value) { return value; }

std::string Value::to_display_string() const {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Null>)
          return "NULL";
        else if constexpr (std::is_same_v<T, bool>)
          return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>)
          return fmt::format("'{}'", v.size() > 40 ? v.substr(0, 40) + "..." : v);
        else if constexpr (std::is_same_v<T, Bytes>)
          return fmt::format("<{} bytes>", v.size());
        else if constexpr (std::is_same_v<T, Timestamp>)
          return format_timestamp(v);
        else
          return fmt::format("{}", v);
      },
      storage_);
}

std::optional<Timestamp> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  bool ok = text.size() >= 19 && text[4] == '-' && text[7] == '-' &&
            (text[10] == ' ' || text[10] == 'T') && text[13] == ':' && text[16] == ':';
  if (!ok) return std::nullopt;
  const year_month_day date{year{parse_int(text, 0, 4, ok)}, month(parse_int(text, 5, 2, ok)),
                            day(parse_int(text, 8, 2, ok))};
  const int h = parse_int(text, 11, 2, ok), m = parse_int(text, 14, 2, ok),
            s = parse_int(text, 17, 2, ok);
  if (!ok || !date.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    int digits = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
    }
    for (; digits < 6; ++digits) micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < text.size()) {
    const char sign = text[pos];
    if (sign == 'Z' && pos + 1 == text.size()) {
      ++pos;
    } else if (sign == '+' || sign == '-') {
      const int oh = parse_int(text, pos + 1, 2, ok);
      int om = 0;
      std::size_t end = pos + 3;
      if (end < text.size()) {
        if (text[end] == ':') ++end;
        om = parse_int(text, end, 2, ok);
        end += 2;
      }
      if (!ok || end != text.size()) return std::nullopt;
      offset_seconds = (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      pos = end;
    }
    if (pos != text.size()) return std::nullopt;
  }
  auto tp = sys_days(date) + hours(h) + minutes(m) + seconds(s) + microseconds(micros) -
            seconds(offset_seconds);
  return time_point_cast<microseconds>(tp);
}

std::string format_timestamp(Timestamp ts) {
  using namespace std::chrono;
  const auto day_point = floor<days>(ts);
  const year_month_day date{day_point};
  const hh_mm_ss<microseconds> time{ts - day_point};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count(),
                     time.subseconds().count());
}

}  // namespace nexdb
