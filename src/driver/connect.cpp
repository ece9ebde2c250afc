#include <fmt/format.h>

#include "driver/postgres/pg_connection.hpp"
#include "driver/sqlite/sqlite_connection.hpp"
#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"

namespace nexdb {

Dialect dialect_of(std::string_view uri) {
  if (uri.starts_with("sqlite:")) return Dialect::sqlite;
  if (uri.starts_with("postgresql://") || uri.starts_with("postgres://") ||
      uri.find('=') != std::string_view::npos) {
    return Dialect::postgres;
  }
  const auto scheme_end = uri.find(':');
  throw ConfigError(fmt::format(
      "unsupported connection URI scheme '{}': use postgresql://user@host:port/db, a libpq "
      "'key=value' string, sqlite:path/to/file.db or sqlite::memory:",
      scheme_end == std::string_view::npos ? redact_password(uri)
                                           : std::string(uri.substr(0, scheme_end))));
}

std::unique_ptr<Connection> connect(const ConnectOptions& options) {
  if (dialect_of(options.uri) == Dialect::sqlite) {
    return std::make_unique<detail::SqliteConnection>(options);
  }
  return std::make_unique<detail::PgConnection>(options);
}

}  // namespace nexdb
