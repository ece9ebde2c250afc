// Encoding bound parameters for libpq and decoding result values, text and binary.
#pragma once

#include <libpq-fe.h>

#include <span>
#include <string>
#include <vector>

#include "nexdb/value.hpp"

namespace nexdb::detail {

/// Parameters in libpq's parallel-array form. Text format for everything but bytea, with
/// type OID 0 so the server infers each type from its use (as for an untyped literal).
class PgParams {
 public:
  explicit PgParams(std::span<const Value> values);
  int count() const noexcept { return static_cast<int>(values_.size()); }
  const Oid* types() const noexcept { return types_.data(); }
  const char* const* values() const noexcept { return values_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }

 private:
  std::vector<std::string> text_;  // owns the text of converted values
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

/// True when every column of `description` has a binary decoder (else ask for text).
bool pg_binary_decodable(const PGresult* description);

/// Converts one field of a result (text or binary, as the result says) into a Value.
Value pg_decode(const PGresult* result, int row, int column);

}  // namespace nexdb::detail
