// get_user_orders on the async API: the schema and sample rows in one pipelined transaction,
// then a thousand concurrent lookups from coroutines on one thread.
//   example_async_get_user_orders [uri]      (default: the embedded SQLite database)
#include <nexdb/async.hpp>
#include <nexdb/nexdb.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <iostream>

#include "shop.hpp"

using namespace nexdb;

asio::awaitable<Rows> get_user_orders(AsyncDatabase& db, std::int64_t user_id) {
  co_return co_await db.async_run(user_orders_query(user_id));
}

asio::awaitable<void> load(AsyncDatabase& db) {
  co_await db.async_transaction([&](AsyncTransaction& tx) -> asio::awaitable<void> {
    for (const std::string& sql : schema_statements(db.dialect())) co_await tx.async_run(sql);
    Pipeline rows = tx.pipeline();  // both inserts in one round trip
    const Timestamp now = now_utc();
    rows.add(sample_users(now));
    rows.add(sample_orders(now));
    co_await rows.async_run();
  });
}

asio::awaitable<void> run(AsyncDatabase& db) {
  co_await load(db);
  const Rows orders = co_await get_user_orders(db, 2);
  std::cout << "user 2 has " << orders.size() << " orders, newest first:\n";
  for (Row row : orders) {
    std::cout << "  #" << row.get<std::int64_t>("id") << "  " << row.get<std::string>("status")
              << "  " << row.get<double>("total") << "\n";
  }
}

int main(int argc, char** argv) {
  try {
    asio::io_context io;
    AsyncDatabase db(io.get_executor(), Database::open(argc > 1 ? argv[1] : ""));
    auto done = asio::co_spawn(io, run(db), asio::use_future);
    io.run();
    done.get();

    // A thousand lookups in flight at once, all on this one thread.
    int found = 0;
    for (int i = 0; i < 1000; ++i) {
      asio::co_spawn(
          io,
          [&db, &found, i]() -> asio::awaitable<void> {
            found += static_cast<int>((co_await get_user_orders(db, 1 + i % 2)).size());
          },
          asio::detached);
    }
    io.restart();
    io.run();
    std::cout << "1000 concurrent lookups found " << found << " orders\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
