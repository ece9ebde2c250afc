// A server restart in the middle of pipelined work: every call in flight fails with a clear
// connection error (none hangs, none reports a wrong result), and the pool recovers.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <thread>

#include "../replica/private_cluster.hpp"
#include "async_test_support.hpp"
#include "nexdb/async.hpp"
#include "nexdb/error.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;

struct Tally {
  int ok = 0;
  int lost = 0;     // ConnectionLost / PipelineError caused by it: the connection broke mid-call
  int refused = 0;  // ConnectionError: no connection while the server was down
  int other = 0;
  int wrong = 0;  // a result that does not match its statement
};

asio::awaitable<void> one_call(AsyncDatabase& db, int i, Tally& tally) {
  try {
    Rows rows = co_await db.async_run("SELECT pg_sleep(0.002), $1::int4 AS i", i);
    ++(rows.front().get<std::int32_t>("i") == i ? tally.ok : tally.wrong);
  } catch (const ConnectionLost&) {
    ++tally.lost;
  } catch (const ConnectionError&) {
    ++tally.refused;
  } catch (...) {
    ++tally.other;
  }
}

asio::awaitable<void> one_pipeline(AsyncDatabase& db, Tally& tally) {
  Pipeline pipeline = db.pipeline();
  for (int i = 0; i < 300; ++i) pipeline.add("SELECT pg_sleep(0.002), $1::int4 AS i", i);
  try {
    auto results = co_await pipeline.async_run();
    ++tally.ok;
  } catch (const PipelineError& e) {
    try {
      e.rethrow_cause();
    } catch (const ConnectionLost&) {
      ++tally.lost;
    } catch (...) {
      ++tally.other;
    }
  } catch (const ConnectionError&) {
    ++tally.refused;
  } catch (...) {
    ++tally.other;
  }
}

TEST(AsyncRestart, AServerRestartMidPipelineGivesClearErrorsAndThePoolRecovers) {
  test::PrivateCluster cluster;
  // Every connection is pinged before it is handed out: one idle in the pool across the
  // restart (for less than the default 500 ms threshold) would otherwise fail its first
  // statement after the restart, as it would through the blocking API.
  Database db = Database::open(
      {.connection = {.uri = cluster.uri(0)},
       .pool = {
           .min_idle = 0, .max_size = 6, .acquire_timeout = 5000ms, .validation_threshold = 0ms}});
  asio::io_context io;
  AsyncDatabase adb(io.get_executor(), db, {.max_lanes = 3});
  Tally before;
  for (int i = 0; i < 600; ++i) asio::co_spawn(io, one_call(adb, i, before), asio::detached);
  asio::co_spawn(io, one_pipeline(adb, before), asio::detached);

  std::atomic<bool> restarted{false};
  std::thread restarter([&] {
    std::this_thread::sleep_for(150ms);  // the pipeline (0.6 s of server time) is under way
    cluster.restart("primary");
    restarted = true;
  });
  io.run();
  restarter.join();
  ASSERT_TRUE(restarted);
  std::printf("during the restart: %d ok, %d lost mid-call, %d refused, %d other\n", before.ok,
              before.lost, before.refused, before.other);
  EXPECT_EQ(before.wrong, 0);
  EXPECT_EQ(before.other, 0);
  EXPECT_GT(before.lost, 0);  // the restart did hit calls in flight
  EXPECT_EQ(before.ok + before.lost + before.refused, 601);
  EXPECT_EQ(adb.stats().in_flight, 0u);

  // The pool threw the broken connections away and opens new ones.
  Tally after;
  for (int i = 0; i < 200; ++i) asio::co_spawn(io, one_call(adb, i, after), asio::detached);
  asio::co_spawn(io, one_pipeline(adb, after), asio::detached);
  io.restart();
  io.run();
  std::printf("after the restart: %d ok, %d lost mid-call, %d refused, %d other\n", after.ok,
              after.lost, after.refused, after.other);
  EXPECT_EQ(after.ok, 201);
  EXPECT_GT(db.pool().stats().destroyed, 0u);
  EXPECT_EQ(db.pool().stats().active, 0u);
}

}  // namespace
}  // namespace nexdb
