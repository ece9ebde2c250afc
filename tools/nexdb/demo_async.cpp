// The demo's async step: the seed's get_user_orders for every user as coroutines on one thread
// (PostgreSQL: pipelined on shared connections; SQLite: on nexdb's worker threads), checked against
// the blocking API, and a pipeline whose failing statement is reported by its index with nothing
// written.
#include <fmt/format.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>

#include "demo_models.hpp"
#include "demo_step.hpp"
#include "nexdb/async.hpp"

namespace nexdb::cli {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

asio::awaitable<void> orders_of(AsyncDatabase adb, std::int64_t user, std::size_t& rows) {
  const auto query = get_user_orders(user);  // not a temporary inside co_await (g++ 12)
  const Rows result = co_await adb.async_run(query);
  rows += result.size();  // one thread runs every coroutine
}

struct PipelineOutcome {
  std::size_t index = 0;
  std::string sqlstate;
  std::string message;
};

// An update, then an insert of a user that exists: the pipeline is one implicit transaction, so
// the update is undone with it.
asio::awaitable<void> failing_pipeline(AsyncDatabase adb, PipelineOutcome& out) {
  Pipeline batch = adb.pipeline();
  batch.add(update(User).set(User.status = "async").where(User.id == 1));
  batch.add(insert_into(User).set(User.email = "user1@example.com", User.status = "active"));
  batch.add(select(count()).from(User));
  try {
    co_await batch.async_run();
  } catch (const PipelineError& e) {
    out.index = e.index();
    try {
      e.rethrow_cause();
    } catch (const Error& cause) {
      out.sqlstate = std::string(cause.sqlstate());
      out.message = cause.what();
    }
  }
}

void run(asio::io_context& io, asio::awaitable<void> work, std::exception_ptr& failed) {
  asio::co_spawn(io, std::move(work), [&failed](std::exception_ptr e) {
    if (e && !failed) failed = e;
  });
}

}  // namespace

void demo_async(DemoContext& demo) {
  demo.heading("Async: get_user_orders for every user as coroutines on one thread; a pipeline");
  Database& db = demo.db;
  asio::io_context io;
  AsyncDatabase adb(io.get_executor(), db);
  const auto users = static_cast<std::int64_t>(demo.options.users);
  std::size_t async_rows = 0;
  std::exception_ptr failed;
  const auto start = steady_clock::now();
  for (std::int64_t user = 1; user <= users; ++user)
    run(io, orders_of(adb, user, async_rows), failed);
  io.run();
  const auto ms = duration_cast<milliseconds>(steady_clock::now() - start).count();
  if (failed) std::rethrow_exception(failed);
  std::size_t blocking_rows = 0;
  for (std::int64_t user = 1; user <= users; ++user) {
    blocking_rows += db.execute(get_user_orders(user)).size();
  }

  const auto status_of_user1 = [&] {
    const Rows rows = db.execute(select(User.status).from(User).where(User.id == 1));
    return rows[0].get<std::optional<std::string>>("status").value_or("NULL");
  };
  const std::string before = status_of_user1();
  PipelineOutcome outcome;
  io.restart();
  run(io, failing_pipeline(adb, outcome), failed);
  io.run();
  if (failed) std::rethrow_exception(failed);
  const std::string after = status_of_user1();
  const AsyncStats stats = adb.stats();

  const std::string where = db.dialect() == Dialect::postgres
                                ? fmt::format("{} pipelined on shared connections", stats.pipelined)
                                : "SQLite statements on nexdb's worker threads";
  demo.line(
      fmt::format("    {} coroutines on one thread: {} rows in {} ms ({}); the blocking API "
                  "returns {} rows",
                  users, async_rows, ms, where, blocking_rows));
  demo.line("    pipeline: UPDATE user 1, INSERT a duplicate user1@example.com, SELECT count(*)");
  demo.line(fmt::format(
      "    {}statement {} failed ({}); user 1's status before '{}', after '{}' "
      "(one implicit transaction: nothing written)",
      demo.term.red("PipelineError: "), outcome.index, outcome.sqlstate, before, after));
  demo.report["async"] = {{"coroutines", users},
                          {"rows", async_rows},
                          {"blocking_rows", blocking_rows},
                          {"pipelined", stats.pipelined},
                          {"pipeline_failed_index", outcome.index},
                          {"pipeline_error", outcome.sqlstate},
                          {"status_before", before},
                          {"status_after", after}};
}

}  // namespace nexdb::cli
