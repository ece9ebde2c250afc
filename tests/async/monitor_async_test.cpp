// Monitoring through the async path: a DBMonitor attached to a database that is already open sees
// the statements its AsyncDatabase runs (lanes, pipelines, failures), as it sees blocking ones.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "async_test_support.hpp"
#include "nexdb/async.hpp"
#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"
#include "nexdb/sql_text.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;
using test::run_on;

class AsyncMonitor : public ::testing::Test {
 protected:
  void SetUp() override { host_ = db_.connection()->description(); }
  MonitorSettings settings() {
    return {.watch_metrics = {"query_duration", "errors"},
            .interval = 60s,
            .registry = &registry_,
            .background = false};
  }
  std::optional<double> value(std::string_view name, const std::string& labels) const {
    std::string text = registry_.expose();
    const std::string series =
        fmt::format("{}{{cluster=\"default\",host=\"{}\",{}}}", name, host_, labels);
    for (std::size_t pos = text.find(series); pos != std::string::npos;
         pos = text.find(series, pos + 1)) {
      if (pos != 0 && text[pos - 1] != '\n') continue;
      const auto end = text.find('\n', pos);
      return std::stod(text.substr(pos + series.size(), end - pos - series.size()));
    }
    return std::nullopt;
  }
  static std::string fingerprint(std::string_view sql) { return sql::fingerprint(sql).hex; }

  test::PgSchema schema_;
  Database db_ = Database::open(schema_.uri());
  std::string host_;
  metrics::Registry registry_;
  asio::io_context io_;
};

TEST_F(AsyncMonitor, DBMonitorSeesStatementsOfTheAsyncPath) {
  db_.execute("CREATE TABLE seen (id int PRIMARY KEY)");
  AsyncDatabase adb(io_.get_executor(), db_);
  run_on(io_, adb.async_run("SELECT 1"));  // the lanes exist before the monitor attaches
  DBMonitor monitor(db_, settings());

  // Concurrent coroutines (pipelined on shared lanes), a pipeline, and one failure.
  const std::string lane_sql = "SELECT $1::int AS async_lane_probe";
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        io_, [&, i]() -> asio::awaitable<void> { co_await adb.async_run(lane_sql, i); },
        asio::detached);
  }
  io_.run();
  io_.restart();
  Pipeline batch = adb.pipeline();
  batch.add("INSERT INTO seen (id) VALUES ($1)", 1);
  batch.add("INSERT INTO seen (id) VALUES ($1)", 2);
  run_on(io_, batch.async_run());
  EXPECT_THROW(run_on(io_, adb.async_run("INSERT INTO seen (id) VALUES ($1)", 1)), UniqueViolation);
  monitor.sample();

  const auto count = [&](std::string_view sql) {
    return value("nexdb_query_duration_seconds_count",
                 fmt::format("fingerprint=\"{}\"", fingerprint(sql)));
  };
  EXPECT_EQ(count(lane_sql), 5);
  EXPECT_EQ(count("INSERT INTO seen (id) VALUES ($1)"), 3);  // two pipelined, one failed
  EXPECT_EQ(value("nexdb_statement_errors_total", "class=\"23\""), 1);
}

}  // namespace
}  // namespace nexdb
