// SQL identifiers: validated, then always quoted. Values never go through here: they are bound.
#pragma once

#include <string>
#include <string_view>

namespace nexdb {

/// Throws UsageError unless `name` is a usable identifier: 1..63 bytes, no NUL or control
/// characters. Any other character (quotes, spaces, ';') is allowed because it will be quoted.
void validate_identifier(std::string_view name);

/// `name` validated and wrapped in double quotes with embedded quotes doubled: users -> "users".
/// Both PostgreSQL and SQLite accept this form.
std::string quote_identifier(std::string_view name);

/// Appends quote_identifier(name) to `out` without a temporary.
void append_quoted_identifier(std::string& out, std::string_view name);

}  // namespace nexdb
