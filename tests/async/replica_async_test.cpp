// Replica routing through the async path: the same routing, health and read-your-writes as the
// blocking ReplicaManager, with reads pipelined on each host's lanes.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <memory>
#include <set>

#include "../replica/replica_test_support.hpp"
#include "async_test_support.hpp"
#include "nexdb/async.hpp"
#include "nexdb/error.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;
using test::run_on;

class AsyncReplicaRouting : public ::testing::Test {
 protected:
  AsyncReplicaRouting() {
    auto settings = test::cluster_settings(test::pg_base_port(), ReadPreference::replica);
    settings.max_replication_lag_bytes = 0;  // lag limits off: only tokens protect reads
    settings.max_replication_lag = 0ms;
    manager = std::make_unique<ReplicaManager>(settings);
    table = fmt::format("\"{}\".counter", schema.name());
    manager->execute(fmt::format("CREATE TABLE {} (id int PRIMARY KEY, v bigint)", table));
    for (int id = 0; id < 20; ++id) {
      manager->execute(fmt::format("INSERT INTO {} VALUES ($1, 0)", table), id);
    }
    test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(1));
    test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(2));
    manager->refresh();
  }
  Statement update(int id, std::int64_t v) const {
    return {fmt::format("UPDATE {} SET v = $1 WHERE id = $2", table), {Value(v), Value(id)}};
  }
  Statement read(int id) const {
    return {fmt::format("SELECT v FROM {} WHERE id = $1", table), {Value(id)}};
  }

  test::PgSchema schema;
  std::string table;
  std::unique_ptr<ReplicaManager> manager;
  asio::io_context io;
};

TEST_F(AsyncReplicaRouting, ReadsGoToReplicasAndWritesToThePrimary) {
  AsyncReplicas replicas(io.get_executor(), *manager);
  std::multiset<std::int64_t> ports;
  for (int i = 0; i < 100; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Rows rows = co_await replicas.async_run("SELECT inet_server_port()");
          ports.insert(rows.scalar<std::int32_t>());
        },
        asio::detached);
  }
  io.run();
  const std::int64_t base = test::pg_base_port();
  EXPECT_EQ(ports.size(), 100u);
  EXPECT_EQ(ports.count(base), 0u);  // preference `replica`: never the primary
  EXPECT_GT(ports.count(base + 1) + ports.count(base + 2), 0u);
  Rows written =
      run_on(io, replicas.async_run(fmt::format(
                     "UPDATE {} SET v = v + 1 WHERE id = 1 RETURNING inet_server_port()", table)));
  EXPECT_EQ(written.scalar<std::int32_t>(), base);
  auto hosts = manager->hosts();
  EXPECT_EQ(hosts[1].reads + hosts[2].reads, 100u);  // counted in the manager's own statistics
  EXPECT_GE(hosts[0].writes, 1u);
  auto stats = replicas.stats();
  EXPECT_EQ(stats[1].calls + stats[2].calls, 100u);
}

// Many sessions write and read back concurrently on one thread: never a stale read.
TEST_F(AsyncReplicaRouting, SessionsReadTheirOwnWrites) {
  AsyncReplicas replicas(io.get_executor(), *manager);
  int stale = 0;
  int done = 0;
  for (int id = 0; id < 20; ++id) {
    asio::co_spawn(
        io,
        [&, id]() -> asio::awaitable<void> {
          AsyncReplicaSession session = replicas.session();
          for (std::int64_t v = 1; v <= 15; ++v) {
            co_await session.async_write(update(id, v));
            Rows rows = co_await session.async_read(read(id));
            if (rows.scalar<std::int64_t>() != v) ++stale;
          }
          EXPECT_FALSE(session.token().empty());
          ++done;
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(done, 20);
  EXPECT_EQ(stale, 0);
}

// With replay paused on both replicas, a session's read goes to the primary and is fresh; a read
// without a token is served by a replica and is stale.
TEST_F(AsyncReplicaRouting, APausedReplicaIsNotReadByASessionThatWrote) {
  test::ReplayPause pause1(test::pg_replica_uri(1));
  test::ReplayPause pause2(test::pg_replica_uri(2));
  AsyncReplicas replicas(io.get_executor(), *manager);
  auto work = [&]() -> asio::awaitable<void> {
    AsyncReplicaSession session = replicas.session();
    co_await session.async_write(update(3, 42));
    EXPECT_EQ((co_await session.async_read(read(3))).scalar<std::int64_t>(), 42);
    EXPECT_EQ((co_await replicas.async_read(read(3))).scalar<std::int64_t>(), 0);  // stale
    // The token survives a round trip through its text form (a cookie).
    AsyncReplicaSession resumed =
        replicas.session(ConsistencyToken::parse(session.token().to_string()));
    EXPECT_EQ((co_await resumed.async_read(read(3))).scalar<std::int64_t>(), 42);
    co_await session.async_transaction([&](AsyncTransaction& tx) -> asio::awaitable<void> {
      co_await tx.async_run(update(4, 7));
    });
    EXPECT_EQ((co_await session.async_read(read(4))).scalar<std::int64_t>(), 7);
  };
  run_on(io, work());
}

// A read-only transaction runs on a replica; the server refuses writes in it.
TEST_F(AsyncReplicaRouting, AReadOnlyTransactionRunsOnAReplica) {
  AsyncReplicas replicas(io.get_executor(), *manager);
  auto work = [&]() -> asio::awaitable<std::int32_t> {
    AsyncReadOnlyTransaction tx = co_await replicas.async_begin_read();
    std::int32_t port = (co_await tx.async_run("SELECT inet_server_port()")).scalar<std::int32_t>();
    EXPECT_THROW(co_await tx.async_run(update(1, 1)), SqlError);
    co_return port;
  };
  EXPECT_NE(run_on(io, work()), test::pg_base_port());
}

// A host that cannot be reached (its first health check has not run yet) is taken out and the
// read runs on another one.
TEST_F(AsyncReplicaRouting, AReadOnADeadHostRunsAgainOnAnotherOne) {
  auto settings = manager->settings();
  settings.replicas = {fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", test::closed_port())};
  settings.read_preference = ReadPreference::replica_preferred;
  settings.health_check_interval = 60000ms;
  ReplicaManager with_dead(settings);
  AsyncReplicas replicas(io.get_executor(), with_dead);
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await replicas.async_read(read(1));
          ++ok;
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(ok, 20);
  EXPECT_FALSE(with_dead.hosts()[1].healthy);
}

}  // namespace
}  // namespace nexdb
