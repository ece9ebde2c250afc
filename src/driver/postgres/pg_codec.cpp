#include "driver/postgres/pg_codec.hpp"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across versions).
enum : Oid {
  kBool = 16,
  kBytea = 17,
  kName = 19,
  kInt8 = 20,
  kInt2 = 21,
  kInt4 = 23,
  kText = 25,
  kOid = 26,
  kFloat4 = 700,
  kFloat8 = 701,
  kBpchar = 1042,
  kVarchar = 1043,
  kDate = 1082,
  kTimestamp = 1114,
  kTimestampTz = 1184,
  kNumeric = 1700,
  kUuid = 2950
};

// PostgreSQL counts time from 2000-01-01 UTC.
constexpr std::int64_t kPgEpochMicros = 946684800LL * 1000000;

template <class T>
T read_big_endian(const char* data) {
  std::make_unsigned_t<T> value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value =
        static_cast<std::make_unsigned_t<T>>((value << 8) | static_cast<unsigned char>(data[i]));
  }
  return static_cast<T>(value);
}

// Text form of a non-string scalar into `out` (kTextSize bytes), NUL-terminated.
void encode_text(const Value& value, char* out, std::size_t size) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        fmt::format_to_n_result<char*> r{out, 0};
        if constexpr (std::is_same_v<T, bool>) {
          r = fmt::format_to_n(out, size - 1, "{}", v ? "true" : "false");
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          // The commonest parameter of all (keys): without fmt's format-string parsing.
          r.out = std::to_chars(out, out + size - 1, v).ptr;
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v))
            r = fmt::format_to_n(out, size - 1, "NaN");
          else if (std::isinf(v))
            r = fmt::format_to_n(out, size - 1, "{}", v > 0 ? "Infinity" : "-Infinity");
          else
            r = fmt::format_to_n(out, size - 1, "{}", v);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          r = fmt::format_to_n(out, size - 1, "{}", format_timestamp(v));
        }
        *r.out = '\0';
      },
      value.storage());
}

Value decode_numeric_binary(const char* data, int length) {
  if (length < 8) throw SqlError("malformed binary numeric from server");
  const int ndigits = read_big_endian<std::int16_t>(data);
  const int weight = read_big_endian<std::int16_t>(data + 2);
  const auto sign = read_big_endian<std::uint16_t>(data + 4);
  const int dscale = read_big_endian<std::int16_t>(data + 6);
  if (sign == 0xC000) return Value(std::string("NaN"));
  if (sign == 0xD000) return Value(std::string("Infinity"));
  if (sign == 0xF000) return Value(std::string("-Infinity"));
  auto digit = [&](int i) {
    return i < ndigits ? read_big_endian<std::int16_t>(data + 8 + 2 * i) : 0;
  };
  std::string out = sign == 0x4000 ? "-" : "";
  // Integer part: base-10000 digits 0..weight.
  if (weight < 0) out += '0';
  for (int i = 0; i <= weight; ++i) {
    out += i == 0 ? fmt::format("{}", digit(i)) : fmt::format("{:04}", digit(i));
  }
  if (dscale > 0) {
    std::string fraction;
    for (int i = weight + 1; static_cast<int>(fraction.size()) < dscale; ++i) {
      fraction += fmt::format("{:04}", i < 0 ? 0 : digit(i));
    }
    out += '.';
    out += fraction.substr(0, dscale);
  }
  return Value(std::move(out));
}

std::string format_uuid(const unsigned char* b) {
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

Timestamp from_pg_micros(std::int64_t micros) {
  return Timestamp(std::chrono::microseconds(micros + kPgEpochMicros));
}

Value decode_binary(Oid type, const char* data, int length) {
  switch (type) {
    case kBool:
      return Value(data[0] != 0);
    case kInt2:
      return Value(read_big_endian<std::int16_t>(data));
    case kInt4:
      return Value(read_big_endian<std::int32_t>(data));
    case kInt8:
      return Value(read_big_endian<std::int64_t>(data));
    case kOid:
      return Value(static_cast<std::int64_t>(read_big_endian<std::uint32_t>(data)));
    case kFloat4:
      return Value(std::bit_cast<float>(read_big_endian<std::uint32_t>(data)));
    case kFloat8:
      return Value(std::bit_cast<double>(read_big_endian<std::uint64_t>(data)));
    case kTimestamp:
    case kTimestampTz:
      return Value(from_pg_micros(read_big_endian<std::int64_t>(data)));
    case kDate:
      return Value(
          from_pg_micros(std::int64_t{read_big_endian<std::int32_t>(data)} * 86400000000LL));
    case kNumeric:
      return decode_numeric_binary(data, length);
    case kUuid:
      return Value(format_uuid(reinterpret_cast<const unsigned char*>(data)));
    case kBytea: {
      const auto* bytes = reinterpret_cast<const std::byte*>(data);
      return Value(Bytes(bytes, bytes + length));
    }
    default:
      return Value(std::string(data, static_cast<std::size_t>(length)));  // text-like
  }
}

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T out{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return out;
}

Value decode_bytea_text(std::string_view text) {
  size_t length = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(std::string(text).c_str()), &length);
  if (raw == nullptr) throw SqlError("could not decode bytea value from server");
  const auto* bytes = reinterpret_cast<const std::byte*>(raw);
  Bytes out(bytes, bytes + length);
  PQfreemem(raw);
  return Value(std::move(out));
}

Value decode_text(Oid type, std::string_view text) {
  switch (type) {
    case kBool:
      return Value(text == "t");
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      if (auto v = parse_number<std::int64_t>(text)) return Value(*v);
      break;
    case kFloat4:
    case kFloat8:
      if (text == "NaN") return Value(std::nan(""));
      if (text == "Infinity") return Value(HUGE_VAL);
      if (text == "-Infinity") return Value(-HUGE_VAL);
      if (auto v = parse_number<double>(text)) return Value(*v);
      break;
    case kBytea:
      return decode_bytea_text(text);
    case kTimestamp:
    case kTimestampTz:
      if (auto ts = parse_timestamp(text)) return Value(*ts);
      break;  // 'infinity' stays text
    case kDate:
      if (auto ts = parse_timestamp(std::string(text) + " 00:00:00")) return Value(*ts);
      break;
    default:
      break;
  }
  return Value(std::string(text));
}

bool has_binary_decoder(Oid type) {
  switch (type) {
    case kBool:
    case kBytea:
    case kName:
    case kInt8:
    case kInt2:
    case kInt4:
    case kText:
    case kOid:
    case kFloat4:
    case kFloat8:
    case kBpchar:
    case kVarchar:
    case kDate:
    case kTimestamp:
    case kTimestampTz:
    case kNumeric:
    case kUuid:
      return true;
    default:
      return false;
  }
}

}  // namespace

PgParams::PgParams(std::span<const Value> values) {
  allocate(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Value& v = values[i];
    types_[i] = 0;  // let the server infer the type from the parameter's use
    formats_[i] = 0;
    lengths_[i] = 0;
    values_[i] = nullptr;
    if (v.is_null()) continue;
    if (const auto* s = std::get_if<std::string>(&v.storage())) {
      values_[i] = s->c_str();  // the caller's Value outlives the call
    } else if (const auto* b = std::get_if<Bytes>(&v.storage())) {
      types_[i] = kBytea;
      formats_[i] = 1;
      values_[i] = reinterpret_cast<const char*>(b->data());
      lengths_[i] = static_cast<int>(b->size());
    } else {
      values_[i] = encode(v, i);
    }
  }
}

void PgParams::allocate(std::size_t n) {
  count_ = static_cast<int>(n);
  if (n <= kInline) return;
  heap_types_.resize(n);
  heap_values_.resize(n);
  heap_lengths_.resize(n);
  heap_formats_.resize(n);
  heap_text_.resize(n);
  types_ = heap_types_.data();
  values_ = heap_values_.data();
  lengths_ = heap_lengths_.data();
  formats_ = heap_formats_.data();
}

const char* PgParams::encode(const Value& value, std::size_t index) {
  char* out = heap_text_.empty() ? inline_text_[index] : heap_text_[index].data();
  encode_text(value, out, kTextSize);
  return out;
}

bool pg_binary_decodable(const PGresult* description) {
  for (int c = 0; c < PQnfields(description); ++c) {
    if (!has_binary_decoder(PQftype(description, c))) return false;
  }
  return true;
}

ColumnType pg_column_type(Oid type) noexcept {
  switch (type) {
    case kBool:
      return ColumnType::boolean;
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      return ColumnType::integer;
    case kFloat4:
    case kFloat8:
      return ColumnType::real;
    case kNumeric:
      return ColumnType::numeric;
    // uuid's order is that of its bytes, which its lower-case hex text keeps.
    case kText:
    case kVarchar:
    case kBpchar:
    case kName:
    case kUuid:
      return ColumnType::text;
    case kBytea:
      return ColumnType::bytes;
    case kTimestamp:
    case kTimestampTz:
    case kDate:
      return ColumnType::timestamp;
    default:
      return ColumnType::other;
  }
}

PgColumnCodec pg_column_codec(const PGresult* result, int column) {
  return {.type = PQftype(result, column), .binary = PQfformat(result, column) == 1};
}

Value pg_decode(const PGresult* result, int row, int column, PgColumnCodec codec) {
  const int length = PQgetlength(result, row, column);
  // NULL has length 0: ask only then (an empty string has it too).
  if (length == 0 && PQgetisnull(result, row, column)) return Value();
  const char* data = PQgetvalue(result, row, column);
  if (codec.binary) return decode_binary(codec.type, data, length);
  return decode_text(codec.type, std::string_view(data, static_cast<std::size_t>(length)));
}

std::int64_t pg_affected_rows(const PGresult* result) {
  // A result with rows (SELECT, or a write with RETURNING) counts exactly the rows it holds.
  if (PQresultStatus(result) == PGRES_TUPLES_OK) return PQntuples(result);
  const char* tuples = PQcmdTuples(const_cast<PGresult*>(result));
  return (tuples && *tuples) ? std::atoll(tuples) : 0;
}

bool pg_is_stale_plan(std::string_view sqlstate, std::string_view message) noexcept {
  return sqlstate == "0A000" && message.starts_with("cached plan must not change result type");
}

bool pg_is_stale_plan(const PGresult* result) noexcept {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* message = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  return state != nullptr && message != nullptr && pg_is_stale_plan(state, message);
}

bool pg_succeeded(ExecStatusType status) noexcept {
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
}

TransactionStatus pg_transaction_status(const PGconn* connection) noexcept {
  switch (PQtransactionStatus(connection)) {
    case PQTRANS_IDLE:
      return TransactionStatus::idle;
    case PQTRANS_INTRANS:
      return TransactionStatus::in_transaction;
    case PQTRANS_INERROR:
      return TransactionStatus::failed;
    default:
      return TransactionStatus::unknown;
  }
}

}  // namespace nexdb::detail
