#include <fmt/format.h>

#include "driver/observed_connection.hpp"
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
  std::unique_ptr<Connection> connection;
  if (dialect_of(options.uri) == Dialect::sqlite) {
    connection = std::make_unique<detail::SqliteConnection>(options);
  } else {
    connection = std::make_unique<detail::PgConnection>(options);
  }
  return detail::observe(std::move(connection), options.observer);
}

}  // namespace nexdb
