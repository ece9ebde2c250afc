// PipelineError names the failed statement and keeps its error; settings are validated.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include "nexdb/async.hpp"
#include "nexdb/error.hpp"

namespace nexdb {
namespace {

TEST(PipelineError, CarriesTheIndexAndTheStatementsOwnError) {
  auto cause = std::make_exception_ptr(
      UniqueViolation("duplicate key value violates unique constraint \"u_pkey\"",
                      {.sqlstate = "23505", .host = "h:1/db", .statement = "INSERT INTO u"}));
  PipelineError error(2, 5, cause);
  EXPECT_EQ(error.index(), 2u);
  EXPECT_EQ(error.sqlstate(), "23505");
  EXPECT_EQ(error.statement(), "INSERT INTO u");
  EXPECT_NE(std::string(error.what()).find("statement 3 of the pipeline (index 2, of 5)"),
            std::string::npos);
  EXPECT_FALSE(error.retryable());
  EXPECT_THROW(error.rethrow_cause(), UniqueViolation);
}

TEST(PipelineError, IsRetryableWhenItsCauseIs) {
  PipelineError lost(0, 1, std::make_exception_ptr(ConnectionLost("gone")));
  EXPECT_TRUE(lost.retryable());
  PipelineError serial(0, 1,
                       std::make_exception_ptr(SerializationFailure("x", {.sqlstate = "40001"})));
  EXPECT_TRUE(serial.retryable());
}

TEST(AsyncSettings, InconsistentSettingsAreAConfigError) {
  asio::io_context io;
  ConnectionPool pool(ConnectOptions{.uri = "sqlite::memory:"}, PoolSettings{.min_idle = 0});
  EXPECT_THROW(AsyncDatabase(io.get_executor(), pool, {.max_lanes = 0}), ConfigError);
  EXPECT_THROW(AsyncDatabase(io.get_executor(), pool, {.blocking_threads = 0}), ConfigError);
  EXPECT_THROW(
      AsyncDatabase(io.get_executor(), pool, {.cancel_grace = std::chrono::milliseconds{-1}}),
      ConfigError);
  EXPECT_NO_THROW(AsyncDatabase(io.get_executor(), pool));
}

}  // namespace
}  // namespace nexdb
