// nexdb error hierarchy: one root, split by what a caller does about it.
//
//   Error
//   ├── UsageError            a bug in the calling code (wrong type, unknown column, misuse)
//   │   ├── ColumnNotFound
//   │   └── TypeMismatch
//   ├── ConfigError           bad URI, bad settings
//   ├── ConnectionError       could not connect (host down, bad credentials)
//   │   ├── AuthenticationError
//   │   ├── ConnectTimeout    the host did not answer within connect_timeout
//   │   └── ConnectionLost    an established connection broke mid-use (retryable only if idempotent)
//   ├── TimeoutError          connect / statement timeout
//   │   └── PoolExhausted     no connection within the acquire timeout
//   ├── PoolClosed
//   └── SqlError              the server rejected a statement; carries SQLSTATE
//       ├── ConstraintViolation
//       │   ├── UniqueViolation       23505
//       │   ├── ForeignKeyViolation   23503
//       │   ├── NotNullViolation      23502
//       │   └── CheckViolation        23514
//       └── RetryableError    the whole transaction may be retried as is
//           ├── SerializationFailure  40001
//           └── DeadlockDetected      40P01
//
// Messages never contain passwords or bound parameter values.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nexdb {

/// Where and why a server-side error happened.
struct ErrorDetails {
  std::string sqlstate{};   // five-character SQLSTATE, empty when not from a server
  std::string host{};       // "host:port/db" or a SQLite path; never a password
  std::string statement{};  // the SQL text (never its bound values)
};

class Error : public std::runtime_error {
 public:
  using Details = ErrorDetails;

  explicit Error(std::string message, Details details = {});

  /// The message without the host/SQLSTATE decoration added to what().
  const std::string& message() const noexcept { return message_; }
  const std::string& sqlstate() const noexcept { return details_.sqlstate; }
  const std::string& host() const noexcept { return details_.host; }
  const std::string& statement() const noexcept { return details_.statement; }
  /// True when running the same transaction again may succeed.
  virtual bool retryable() const noexcept { return false; }

 private:
  std::string message_;
  Details details_;
};

#define NEXDB_ERROR_TYPE(Name, Base) \
  class Name : public Base {         \
   public:                           \
    using Base::Base;                \
  }

NEXDB_ERROR_TYPE(UsageError, Error);
NEXDB_ERROR_TYPE(ColumnNotFound, UsageError);
NEXDB_ERROR_TYPE(TypeMismatch, UsageError);
NEXDB_ERROR_TYPE(ConfigError, Error);
NEXDB_ERROR_TYPE(ConnectionError, Error);
NEXDB_ERROR_TYPE(AuthenticationError, ConnectionError);
NEXDB_ERROR_TYPE(ConnectTimeout, ConnectionError);
NEXDB_ERROR_TYPE(TimeoutError, Error);
NEXDB_ERROR_TYPE(PoolExhausted, TimeoutError);
NEXDB_ERROR_TYPE(PoolClosed, Error);
NEXDB_ERROR_TYPE(SqlError, Error);
NEXDB_ERROR_TYPE(ConstraintViolation, SqlError);
NEXDB_ERROR_TYPE(UniqueViolation, ConstraintViolation);
NEXDB_ERROR_TYPE(ForeignKeyViolation, ConstraintViolation);
NEXDB_ERROR_TYPE(NotNullViolation, ConstraintViolation);
NEXDB_ERROR_TYPE(CheckViolation, ConstraintViolation);

/// The connection broke while in use. Whether the statement ran is unknown, so it is safe
/// to retry only when the work is idempotent; nexdb never retries it silently.
class ConnectionLost : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
  bool retryable() const noexcept override { return true; }
};

class RetryableError : public SqlError {
 public:
  using SqlError::SqlError;
  bool retryable() const noexcept override { return true; }
};
NEXDB_ERROR_TYPE(SerializationFailure, RetryableError);
NEXDB_ERROR_TYPE(DeadlockDetected, RetryableError);

#undef NEXDB_ERROR_TYPE

/// Throws the most specific error type for a server-reported SQLSTATE.
[[noreturn]] void throw_sql_error(std::string message, Error::Details details);

/// Removes the password from a connection URI or key=value string, for messages and logs.
std::string redact_password(std::string_view connection_string);

}  // namespace nexdb
