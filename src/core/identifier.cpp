#include "nexdb/identifier.hpp"

#include <fmt/format.h>

#include "nexdb/error.hpp"

namespace nexdb {

void validate_identifier(std::string_view name) {
  if (name.empty()) throw UsageError("empty SQL identifier: give the table or column a name");
  if (name.size() > 63) {
    throw UsageError(fmt::format("SQL identifier '{}...' is {} bytes; PostgreSQL's limit is 63",
                                 name.substr(0, 20), name.size()));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      throw UsageError("SQL identifier contains a control character; use printable names only");
    }
  }
}

void append_quoted_identifier(std::string& out, std::string_view name) {
  validate_identifier(name);
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string quote_identifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  append_quoted_identifier(out, name);
  return out;
}

}  // namespace nexdb
