// Comparing and adding values from different shards the way the databases do. PostgreSQL
// numerics arrive as exact decimal text ("12.50"), so text in PostgreSQL's numeric output form
// (no leading zeros) takes part in numeric comparison and sums exactly.
#pragma once

#include <string>
#include <string_view>

#include "nexdb/value.hpp"

namespace nexdb::shard_detail {

/// True for text in PostgreSQL's numeric output form: -?digits[.digits] without leading zeros,
/// NaN, Infinity, -Infinity.
bool is_decimal_text(std::string_view text) noexcept;

/// <0, 0, >0 for two non-null values. Numbers (integers, floats, decimal text) compare by value;
/// text bytewise (the C collation); then booleans, timestamps and bytes; values of different
/// kinds order as SQLite does (numbers before text before bytes).
int compare_values(const Value& a, const Value& b);

/// a + b for numbers, exact for integers (widening to decimal text on overflow) and decimal
/// text; a float operand makes the sum a float. NULL is ignored (NULL + x = x).
Value add_values(const Value& a, const Value& b);

/// The number as a double (for avg); 0 for non-numbers.
double to_double(const Value& value);

/// Appends a key under which equal values (for GROUP BY and DISTINCT) are equal bytes.
void append_key(std::string& key, const Value& value);

}  // namespace nexdb::shard_detail
