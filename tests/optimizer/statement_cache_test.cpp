// The statement cache as the server sees it: a shape run through the optimizer is prepared once
// per connection and then only executed (pg_prepared_statements / SQLite's sqlite_stmt), and a
// connection never keeps more statements than its bound.
#include <fmt/format.h>

#include "seed_world.hpp"

namespace nexdb::test {
namespace {

class StatementCache : public SeedWorld {
 protected:
  /// A pool of exactly one connection, so every statement below shares it.
  Database single_connection(std::size_t cache_size) const {
    return Database::open(
        DatabaseSettings{.connection = {.uri = uri(), .statement_cache_size = cache_size},
                         .pool = {.min_idle = 1, .max_size = 1}});
  }
  /// (statements prepared with this text, times they ran) on the connection of `db`.
  std::pair<std::int64_t, std::int64_t> prepared(Database& db, const std::string& sql) const {
    const Rows rows =
        postgres() ? db.execute(
                         "SELECT count(*)::int8, COALESCE(sum(generic_plans + custom_plans), "
                         "0)::int8 FROM pg_prepared_statements WHERE statement = $1",
                         sql)
                   : db.execute(
                         "SELECT count(*), COALESCE(sum(run), 0) FROM sqlite_stmt "
                         "WHERE sql = ?",
                         sql);
    return {rows[0].get<std::int64_t>(0), rows[0].get<std::int64_t>(1)};
  }
  /// Statements this connection keeps prepared whose text starts with `prefix`.
  std::int64_t prepared_like(Database& db, const std::string& prefix) const {
    return (postgres() ? db.execute("SELECT count(*)::int8 FROM pg_prepared_statements WHERE "
                                    "starts_with(statement, $1)",
                                    prefix)
                       : db.execute("SELECT count(*) FROM sqlite_stmt WHERE substr(sql, 1, "
                                    "length(?1)) = ?1",
                                    prefix))
        .scalar<std::int64_t>();
  }
};

TEST_P(StatementCache, OneShapeIsPreparedOncePerConnectionAndReused) {
  Database one = single_connection(256);
  QueryOptimizer optimizer{one, {.plan_checks = false}};
  for (std::int64_t id = 1; id <= 25; ++id) {
    EXPECT_EQ(optimizer.run(get_user_orders(id)).size(),
              static_cast<std::size_t>(kSeedOrders / kSeedUsers));
  }
  const std::string sql = get_user_orders(1).render(GetParam()).sql;
  const auto [statements, runs] = prepared(one, sql);
  EXPECT_EQ(statements, 1);  // one server-side statement for 25 different users
  EXPECT_EQ(runs, 25);
}

TEST_P(StatementCache, AConnectionKeepsNoMoreThanItsBoundAndEvictsTheOldest) {
  constexpr std::size_t bound = 4;
  Database one = single_connection(bound);
  QueryOptimizer optimizer{one, {.plan_checks = false}};
  const auto text = [](int k) { return fmt::format("SELECT {} AS cached_k", k); };
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(optimizer.run(Statement{text(k), {}}).scalar<std::int64_t>(), k);
  // The counting statement takes a slot too, evicting the oldest survivor: 3 of ours are left,
  // the most recent ones; the evicted ones were deallocated on the server.
  EXPECT_EQ(prepared_like(one, "SELECT "), static_cast<std::int64_t>(bound));
  EXPECT_EQ(prepared(one, text(9)).first, 1);
  EXPECT_EQ(prepared(one, text(0)).first, 0);
  // An evicted text simply prepares again.
  EXPECT_EQ(optimizer.run(Statement{text(0), {}}).scalar<std::int64_t>(), 0);
  EXPECT_EQ(prepared(one, text(0)).first, 1);
}

INSTANTIATE_TEST_SUITE_P(Backend, StatementCache, ::testing::Values(NEXDB_TEST_DIALECT),
                         backend_name);

}  // namespace
}  // namespace nexdb::test
