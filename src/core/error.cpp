#include "nexdb/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nexdb {
namespace {

std::string decorate(const std::string& message, const Error::Details& details) {
  std::string out = message;
  if (!details.sqlstate.empty()) out += fmt::format(" [SQLSTATE {}]", details.sqlstate);
  if (!details.host.empty()) out += fmt::format(" (on {})", details.host);
  return out;
}

}  // namespace

Error::Error(std::string message, Details details)
    : std::runtime_error(decorate(message, details)),
      message_(std::move(message)),
      details_(std::move(details)) {}

void throw_sql_error(std::string message, Error::Details details) {
  const std::string_view state = details.sqlstate;
  if (state == "23505") throw UniqueViolation(std::move(message), std::move(details));
  if (state == "23503") throw ForeignKeyViolation(std::move(message), std::move(details));
  if (state == "23502") throw NotNullViolation(std::move(message), std::move(details));
  if (state == "23514") throw CheckViolation(std::move(message), std::move(details));
  if (state.starts_with("23")) throw ConstraintViolation(std::move(message), std::move(details));
  if (state == "40001") throw SerializationFailure(std::move(message), std::move(details));
  if (state == "40P01") throw DeadlockDetected(std::move(message), std::move(details));
  // 57014 query_canceled is what statement_timeout raises; 55P03 lock_not_available.
  if (state == "57014" || state == "55P03") throw TimeoutError(std::move(message), std::move(details));
  if (state == "57P01" || state == "57P02" || state == "57P03" || state.starts_with("08")) {
    throw ConnectionLost(std::move(message), std::move(details));
  }
  if (state == "28P01" || state == "28000") {
    throw AuthenticationError(std::move(message), std::move(details));
  }
  throw SqlError(std::move(message), std::move(details));
}

std::string redact_password(std::string_view text) {
  std::string out(text);
  // URI form: scheme://user:password@host -> scheme://user:***@host
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    auto at = out.find('@', scheme + 3);
    auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // Query parameter or libpq key=value form: password=secret, password = 'a b' -> password=***
  for (std::size_t pos = out.find("password"); pos != std::string::npos; pos = out.find("password", pos + 1)) {
    if (pos > 0 && std::string_view(" \t?&;,").find(out[pos - 1]) == std::string_view::npos) continue;
    std::size_t begin = out.find_first_not_of(" \t", pos + 8);
    if (begin == std::string::npos || out[begin] != '=') continue;
    begin = out.find_first_not_of(" \t", begin + 1);
    if (begin == std::string::npos) break;
    std::size_t end = begin;
    if (out[begin] == '\'') {  // libpq quoting: backslash escapes, up to the closing quote
      for (end = begin + 1; end < out.size() && out[end] != '\''; ++end) {
        if (out[end] == '\\') ++end;
      }
      end = std::min(end + 1, out.size());
    } else {
      end = std::min(out.find_first_of(" \t&", begin), out.size());
    }
    out.replace(begin, end - begin, "***");
  }
  return out;
}

}  // namespace nexdb
