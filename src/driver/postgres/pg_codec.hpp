// Encoding bound parameters for libpq and decoding result values, text and binary.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/rows.hpp"
#include "nexdb/value.hpp"

namespace nexdb::detail {

/// Parameters in libpq's parallel-array form. Text format for everything but bytea, with
/// type OID 0 so the server infers each type from its use (as for an untyped literal).
class PgParams {
 public:
  explicit PgParams(std::span<const Value> values);
  PgParams(const PgParams&) = delete;
  PgParams& operator=(const PgParams&) = delete;
  int count() const noexcept { return count_; }
  const Oid* types() const noexcept { return types_; }
  const char* const* values() const noexcept { return values_; }
  const int* lengths() const noexcept { return lengths_; }
  const int* formats() const noexcept { return formats_; }

 private:
  // Up to kInline parameters live in the object itself: the common statement allocates nothing.
  static constexpr std::size_t kInline = 8;
  static constexpr std::size_t kTextSize = 40;  // fits int64, double, bool and timestamps
  struct Slot {
    Oid type = 0;
    const char* value = nullptr;
    int length = 0;
    int format = 0;
  };
  void allocate(std::size_t n);
  const char* encode(const Value& value, std::size_t index);

  int count_ = 0;
  Oid inline_types_[kInline];
  const char* inline_values_[kInline];
  int inline_lengths_[kInline];
  int inline_formats_[kInline];
  char inline_text_[kInline][kTextSize];
  std::vector<Oid> heap_types_;
  std::vector<const char*> heap_values_;
  std::vector<int> heap_lengths_;
  std::vector<int> heap_formats_;
  std::vector<std::array<char, kTextSize>> heap_text_;
  Oid* types_ = inline_types_;
  const char** values_ = inline_values_;
  int* lengths_ = inline_lengths_;
  int* formats_ = inline_formats_;
};

/// True when every column of `description` has a binary decoder (else ask for text).
bool pg_binary_decodable(const PGresult* description);

/// What values of the type `type` mean (numeric: exact decimal text).
ColumnType pg_column_type(Oid type) noexcept;

/// How a result column's fields are decoded: the same in every row, so read once per result.
struct PgColumnCodec {
  Oid type = 0;
  bool binary = false;
};
PgColumnCodec pg_column_codec(const PGresult* result, int column);

/// Converts one field of a result (text or binary, as the result says) into a Value.
Value pg_decode(const PGresult* result, int row, int column, PgColumnCodec codec);

/// Rows changed (INSERT/UPDATE/DELETE) or returned, as the result's command tag says.
std::int64_t pg_affected_rows(const PGresult* result);

/// A statement's result status that means it ran (an empty query string included).
bool pg_succeeded(ExecStatusType status) noexcept;

/// PostgreSQL's answer to a cached statement whose result type changed under it since it was
/// prepared (0A000 is also "feature not supported" in general, which must not be retried).
bool pg_is_stale_plan(std::string_view sqlstate, std::string_view message) noexcept;
/// The same, read from a failed result (false for none).
bool pg_is_stale_plan(const PGresult* result) noexcept;

/// libpq's transaction status as nexdb's.
TransactionStatus pg_transaction_status(const PGconn* connection) noexcept;

}  // namespace nexdb::detail
