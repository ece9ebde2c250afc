// Comparing, adding and grouping values from different shards the way the databases do. A value
// is read with its column's type (Rows::column_type): text of a `numeric` column is an exact
// decimal (PostgreSQL sends numeric so), text of any other column is text.
#pragma once

#include <string>
#include <string_view>

#include "nexdb/rows.hpp"
#include "nexdb/value.hpp"

namespace nexdb::shard_detail {

/// True for text in PostgreSQL's numeric output form: -?digits[.digits] without leading zeros,
/// NaN, Infinity, -Infinity.
bool is_decimal_text(std::string_view text) noexcept;

/// A value with the type of the column it came from.
struct Typed {
  const Value& value;
  ColumnType type = ColumnType::unknown;
};

/// <0, 0, >0 for two non-null values: numbers (integers, floats, booleans as 0 and 1, text of a
/// numeric column) by value, exactly; text bytewise (the C collation); values of different kinds
/// in SQLite's order: numbers, timestamps, text, bytes. A total order.
int compare_values(Typed a, Typed b);
inline int compare_values(const Value& a, const Value& b, ColumnType type) {
  return compare_values(Typed{a, type}, Typed{b, type});
}

/// a + b for numbers of a column of type `type`: exact for integers and decimal text, a float
/// operand makes the sum a float. NULL is ignored (NULL + x = x). SqlError 22003 when integers
/// overflow (as both databases fail then); Error for values that are not numbers.
Value add_values(const Value& a, const Value& b, ColumnType type);

/// The number as a double (for avg); 0 for non-numbers.
double to_double(const Value& value);

/// Appends a key under which values equal in SQL (for GROUP BY and DISTINCT) are equal bytes:
/// 1, 1.0 and numeric "1.00" share one key; '1' in a text column does not.
void append_key(std::string& key, Typed value);

/// True when values of this column type cannot be compared or grouped outside the database.
inline bool is_opaque(ColumnType type) noexcept { return type == ColumnType::other; }

}  // namespace nexdb::shard_detail
