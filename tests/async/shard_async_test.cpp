// Sharding through the async path, on the four shard primaries of the test cluster: merged reads
// equal the blocking ShardManager's and one unsharded database; a fan-out's parts run at the same
// time from one thread; pinned and cross-shard writes; partial results when a shard is down.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "async_test_support.hpp"
#include "nexdb/async_shard.hpp"
#include "nexdb/error.hpp"
#include "shard_pg_fixture.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

class AsyncShardPostgres : public ShardPostgres {
 protected:
  asio::io_context io;
};

// Every comparison query at once, from one thread: each equals the unsharded reference.
TEST_F(AsyncShardPostgres, ConcurrentMergedReadsEqualOneUnshardedDatabase) {
  load_random(*shards_, *reference_, 7, 60, 400);
  AsyncShards async(io.get_executor(), *shards_);
  const auto queries = comparison_queries();
  std::vector<std::optional<Rows>> results(queries.size());
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          Statement statement = for_dialect(queries[i], Dialect::postgres);
          results[i].emplace(co_await async.async_run(std::move(statement)));
        },
        [&, i](std::exception_ptr error) {
          if (!error) return;
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            failures.push_back(queries[i].sql + ": " + e.what());
          }
        });
  }
  io.run();
  EXPECT_TRUE(failures.empty()) << failures.front();
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (!results[i]) continue;
    const Statement statement = for_dialect(queries[i], Dialect::postgres);
    expect_same_rows(*results[i], reference_->execute(statement), statement.sql);
  }
}

// Each shard server holds an advisory lock the fan-out's parts wait for. Only parts sent at the
// same time can all be waiting at once: a fan-out that ran its parts one after another would
// never have more than one waiting.
TEST_F(AsyncShardPostgres, AFanOutRunsItsPartsConcurrentlyOnOneThread) {
  load_random(*shards_, *reference_, 3, 40, 100);
  const std::int64_t lock_key = 880000 + ::getpid();
  std::vector<std::unique_ptr<Connection>> holders;
  for (int s = 0; s < 4; ++s) {
    holders.push_back(connect(pg_shard_uri(s)));
    holders.back()->execute("SELECT pg_advisory_lock($1)", lock_key);
  }
  AsyncShards async(io.get_executor(), *shards_);
  std::optional<Rows> merged;
  std::exception_ptr error;
  const Statement statement{
      "SELECT count(*) AS n FROM users WHERE pg_advisory_xact_lock_shared($1)::text = ''",
      {lock_key}};
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { merged.emplace(co_await async.async_run(statement)); },
      [&](std::exception_ptr e) { error = e; });
  std::thread loop([&] { io.run(); });  // the one thread that runs the fan-out

  const auto waiting_on = [&](int shard) {
    return connect(pg_shard_uri(shard))
               ->execute(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory' "
                   "AND query LIKE '%pg_advisory_xact_lock_shared%'")
               .scalar<std::int64_t>() > 0;
  };
  bool all_waiting = false;
  for (const auto give_up = std::chrono::steady_clock::now() + 20s;
       !all_waiting && std::chrono::steady_clock::now() < give_up;
       std::this_thread::sleep_for(20ms)) {
    all_waiting = waiting_on(0) && waiting_on(1) && waiting_on(2) && waiting_on(3);
  }
  for (auto& holder : holders) holder->execute("SELECT pg_advisory_unlock($1)", lock_key);
  loop.join();
  EXPECT_TRUE(all_waiting) << "the four parts were never in flight at the same time";
  ASSERT_FALSE(error);
  EXPECT_EQ(merged->scalar<std::int64_t>(),
            reference_->execute("SELECT count(*) FROM users").scalar<std::int64_t>());
}

TEST_F(AsyncShardPostgres, WritesGoWhereTheirKeySays) {
  AsyncShards async(io.get_executor(), *shards_);
  std::vector<std::int64_t> keys;  // one user on each shard
  std::set<std::size_t> seen;
  for (std::int64_t k = 1; seen.size() < 4; ++k) {
    if (seen.insert(shards_->shard_for(k)).second) keys.push_back(k);
  }
  // Pinned: one shard's primary.
  run_on(io, async.async_run("INSERT INTO users (id, name) VALUES ($1, 'pinned')", keys[0]));
  for (int s = 0; s < 4; ++s) {
    EXPECT_EQ(count_on(s, "SELECT count(*) FROM users"),
              static_cast<std::size_t>(s) == shards_->shard_for(keys[0]) ? 1 : 0);
  }
  // Several shards: two-phase commit (on a worker thread), all or nothing.
  const Rows returned = run_on(
      io, async.async_run("INSERT INTO users (id, name) VALUES ($1, 'b'), ($2, 'c'), ($3, 'd') "
                          "RETURNING id",
                          keys[1], keys[2], keys[3]));
  EXPECT_EQ(returned.size(), 3u);
  for (int s = 0; s < 4; ++s) EXPECT_EQ(count_on(s, "SELECT count(*) FROM users"), 1) << s;
  EXPECT_THROW(
      run_on(io, async.async_run("INSERT INTO users (id, name) VALUES ($1, 'x'), ($2, 'y')",
                                 keys[1] + 1000003, keys[2])),
      UniqueViolation);
  // A pinned failure keeps its type and names its shard.
  try {
    run_on(io, async.async_run("INSERT INTO users (id, name) VALUES ($1, 'again')", keys[0]));
    ADD_FAILURE() << "expected a unique violation";
  } catch (const UniqueViolation& e) {
    EXPECT_NE(std::string(e.what()).find(fmt::format("shard {}", shards_->shard_for(keys[0]))),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(run_on(io, async.async_run("SELECT count(*) FROM users")).scalar<std::int64_t>(), 4);
  // Unroutable statements are refused as by the blocking manager.
  EXPECT_THROW(run_on(io, async.async_run("UPDATE users SET name = 'all'")), UnroutableStatement);
}

TEST_F(AsyncShardPostgres, ATransactionOnOneShard) {
  AsyncShards async(io.get_executor(), *shards_);
  const std::int64_t user = 12;
  const std::size_t home = shards_->shard_for(user);
  run_on(io, async.async_transaction_on(home, [&](AsyncTransaction& tx) -> asio::awaitable<void> {
    co_await tx.async_run("INSERT INTO users (id, name) VALUES ($1, 'tx')", user);
    co_await tx.async_run(
        "INSERT INTO orders (id, user_id, status, total, qty, created_at, code) "
        "VALUES (1, $1, 'new', 10, 1, now(), 'c1')",
        user);
  }));
  EXPECT_EQ(count_on(static_cast<int>(home), "SELECT count(*) FROM orders"), 1);
  // An exception rolls back.
  EXPECT_THROW(
      run_on(io, async.async_transaction_on(home,
                                            [&](AsyncTransaction& tx) -> asio::awaitable<void> {
                                              co_await tx.async_run(
                                                  "DELETE FROM orders WHERE user_id = $1", user);
                                              throw std::runtime_error("changed my mind");
                                            })),
      std::runtime_error);
  EXPECT_EQ(count_on(static_cast<int>(home), "SELECT count(*) FROM orders"), 1);
}

TEST_F(AsyncShardPostgres, PartialResultsWhenAShardIsDown) {
  load_random(*shards_, *reference_, 11, 50, 200);
  std::vector<std::string> uris = uris_;
  uris[3] = fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", closed_port());  // nothing there
  ShardManager degraded(shard_test_config(uris));
  AsyncShards async(io.get_executor(), degraded);
  const ScatterResult result = run_on(
      io,
      async.async_scatter("SELECT count(*) FROM orders", ScatterOptions{.allow_partial = true}));
  EXPECT_TRUE(result.partial);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].shards, std::vector<std::size_t>{3});
  std::int64_t up = 0;
  for (int s = 0; s < 3; ++s) up += count_on(s, "SELECT count(*) FROM orders");
  EXPECT_EQ(result.rows.scalar<std::int64_t>(), up);
  try {
    run_on(io, async.async_run("SELECT count(*) FROM orders"));
    ADD_FAILURE() << "expected the down shard to fail the read";
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("shard 3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nexdb::test
