#include <gtest/gtest.h>

#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"

namespace nexdb {
namespace {

template <class Expected>
void expect_thrown_as(const char* sqlstate, bool retryable) {
  try {
    throw_sql_error("boom", {.sqlstate = sqlstate, .host = "db:5432/app"});
  } catch (const Expected& e) {
    EXPECT_EQ(e.sqlstate(), sqlstate);
    EXPECT_EQ(e.host(), "db:5432/app");
    EXPECT_EQ(e.retryable(), retryable) << sqlstate;
    EXPECT_EQ(e.message(), "boom");
    EXPECT_STREQ(e.what(), (std::string("boom [SQLSTATE ") + sqlstate + "] (on db:5432/app)").c_str());
    return;
  }
  FAIL() << "wrong type for " << sqlstate;
}

TEST(Errors, SqlstateSelectsTheType) {
  expect_thrown_as<UniqueViolation>("23505", false);
  expect_thrown_as<ForeignKeyViolation>("23503", false);
  expect_thrown_as<NotNullViolation>("23502", false);
  expect_thrown_as<CheckViolation>("23514", false);
  expect_thrown_as<ConstraintViolation>("23P01", false);
  expect_thrown_as<SerializationFailure>("40001", true);
  expect_thrown_as<DeadlockDetected>("40P01", true);
  expect_thrown_as<RetryableError>("40P01", true);
  expect_thrown_as<TimeoutError>("57014", false);
  expect_thrown_as<ConnectionLost>("57P01", true);
  expect_thrown_as<AuthenticationError>("28P01", false);
  expect_thrown_as<SqlError>("42601", false);
}

TEST(Errors, AllDeriveFromTheRoot) {
  EXPECT_THROW(throw PoolExhausted("x"), TimeoutError);
  EXPECT_THROW(throw PoolExhausted("x"), Error);
  EXPECT_THROW(throw ConnectTimeout("x"), ConnectionError);
  EXPECT_THROW(throw TypeMismatch("x"), UsageError);
}

TEST(Errors, PasswordsAreRedacted) {
  EXPECT_EQ(redact_password("postgresql://app:s3cret@db:5432/x"), "postgresql://app:***@db:5432/x");
  EXPECT_EQ(redact_password("host=db password=s3cret user=app"), "host=db password=*** user=app");
  EXPECT_EQ(redact_password("postgresql://db/x?user=a&password=s3cret"),
            "postgresql://db/x?user=a&password=***");
  EXPECT_EQ(redact_password("postgresql://app@db:5432/x"), "postgresql://app@db:5432/x");
  // libpq's key = value syntax allows spaces around '=' and quoted values with escapes.
  EXPECT_EQ(redact_password("host=db password = s3cret user=app"), "host=db password = *** user=app");
  EXPECT_EQ(redact_password("password='a b\\' c' dbname=x"), "password=*** dbname=x");
  EXPECT_EQ(redact_password("host=db\tpassword=s3cret"), "host=db\tpassword=***");
  // Other keys that merely contain the word are left alone.
  EXPECT_EQ(redact_password("host=db passwordless=1"), "host=db passwordless=1");
}

TEST(Errors, UnknownSchemeIsAConfigErrorWithoutThePassword) {
  try {
    (void)connect("mysql://root:hunter2@db/x");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'mysql'"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
  }
  EXPECT_EQ(dialect_of("sqlite::memory:"), Dialect::sqlite);
  EXPECT_EQ(dialect_of("postgres://x"), Dialect::postgres);
  EXPECT_EQ(dialect_of("host=localhost dbname=x"), Dialect::postgres);
}

}  // namespace
}  // namespace nexdb
