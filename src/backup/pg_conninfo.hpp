// A libpq URI turned into what PostgreSQL's programs take: a key=value string without the
// password (argv is visible to every user) plus the password for PGPASSWORD.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "backup/process.hpp"

namespace nexdb::backup_detail {

struct PgConnInfo {
  /// key='value' pairs of every parameter given, except the password.
  std::string conninfo{};
  std::optional<std::string> password{};
  std::string dbname{};  // empty when not given (libpq then uses the user name)
  std::string user{};

  /// The same server, another database (for CREATE DATABASE and scratch databases).
  PgConnInfo with_dbname(std::string_view dbname) const;
  /// The conninfo as a URI-like string for nexdb::connect (key=value form works there too),
  /// with the password back in.
  std::string connect_string() const;
  /// Adds PGPASSWORD to a command's environment when there is a password.
  void add_password(Command& command) const;
};

/// Parses a URI or key=value string; BackupError (password masked) when libpq rejects it.
PgConnInfo parse_conninfo(std::string_view uri);

/// A single-quoted conninfo value: quotes and backslashes escaped.
std::string quote_conninfo_value(std::string_view value);

}  // namespace nexdb::backup_detail
