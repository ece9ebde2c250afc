// QueryOptimizer on a real backend: the seed query, shape bookkeeping, plan checks and the
// result cache.
#include <thread>

#include "seed_world.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

using OptimizerRun = SeedWorld;

std::vector<std::int64_t> ids_of(const Rows& rows) {
  std::vector<std::int64_t> ids;
  for (Row row : rows) ids.push_back(row.get<std::int64_t>("id"));
  return ids;
}

const ShapeReport* shape_of(const std::vector<ShapeReport>& shapes, std::string_view needle) {
  for (const ShapeReport& s : shapes) {
    if (s.sql.find(needle) != std::string::npos) return &s;
  }
  return nullptr;
}

bool has_finding(const ShapeReport& shape, FindingKind kind, std::string_view table) {
  for (const PlanFinding& f : shape.findings) {
    if (f.kind == kind && (table.empty() || f.table == table)) return true;
  }
  return false;
}

TEST_P(OptimizerRun, RunsTheSeedQueryVerbatim) {
  QueryOptimizer optimizer{*db};
  const Rows rows = optimizer.run(select(Order.id, Order.status, Order.total)
                                      .from(Order)
                                      .join(User, Order.user_id == User.id)
                                      .where(User.id == 42)
                                      .order_by(Order.created_at.desc())
                                      .limit(100));
  const Rows direct =
      db->execute("SELECT id FROM orders WHERE user_id = 42 ORDER BY created_at DESC");
  ASSERT_EQ(rows.size(), direct.size());
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kSeedOrders / kSeedUsers));
  EXPECT_EQ(ids_of(rows), ids_of(direct));
  EXPECT_EQ(rows.columns(), (std::vector<std::string>{"id", "status", "total"}));
}

TEST_P(OptimizerRun, OptimizeWrapsAFunctionThatBuildsTheQuery) {
  QueryOptimizer optimizer{*db};
  auto user_orders =
      optimizer.optimize([](std::int64_t user_id) { return get_user_orders(user_id); });
  EXPECT_EQ(ids_of(user_orders(7)), ids_of(db->execute(get_user_orders(7))));
  EXPECT_EQ(user_orders(8).size(), 40u);
  EXPECT_EQ(optimizer.stats().queries, 2u);
}

TEST_P(OptimizerRun, OneShapeForAllValuesWithCallsRowsAndTime) {
  QueryOptimizer optimizer{*db, {.plan_checks = false}};
  for (std::int64_t id = 1; id <= 10; ++id) (void)optimizer.run(get_user_orders(id));
  (void)optimizer.run(select(count()).from(User));
  const auto shapes = optimizer.shapes();
  ASSERT_EQ(shapes.size(), 2u);
  const ShapeReport* seed = shape_of(shapes, "JOIN");
  ASSERT_NE(seed, nullptr);
  EXPECT_EQ(seed->calls, 10u);
  EXPECT_EQ(seed->rows, 10u * kSeedOrders / kSeedUsers);
  EXPECT_EQ(seed->errors, 0u);
  EXPECT_GT(seed->total_time.count(), 0);
  EXPECT_GE(seed->max_time, seed->mean_time());
  EXPECT_EQ(seed->fingerprint.size(), 16u);
  EXPECT_EQ(seed->tables, (std::vector<std::string>{"orders", "users"}));
  EXPECT_FALSE(seed->plan);  // checks were off
}

TEST_P(OptimizerRun, RawSqlWithDifferentConstantsIsOneShape) {
  QueryOptimizer optimizer{*db, {.plan_checks = false}};
  (void)optimizer.run(Statement{"SELECT email FROM users WHERE id = 1", {}});
  (void)optimizer.run(Statement{"SELECT email FROM users WHERE id = 2", {}});
  const auto shapes = optimizer.shapes();
  ASSERT_EQ(shapes.size(), 1u);
  EXPECT_EQ(shapes[0].calls, 2u);
}

TEST_P(OptimizerRun, ErrorsAreCountedAndRethrown) {
  QueryOptimizer optimizer{*db};
  EXPECT_THROW((void)optimizer.run(Statement{"SELECT nope FROM users", {}}), SqlError);
  ASSERT_EQ(optimizer.shapes().size(), 1u);
  EXPECT_EQ(optimizer.shapes()[0].errors, 1u);
}

TEST_P(OptimizerRun, FrequentShapeGetsItsPlanCheckedAndFlagged) {
  QueryOptimizer optimizer{*db, {.plan_check_after_calls = 5}};
  for (std::int64_t id = 1; id <= 4; ++id) (void)optimizer.run(get_user_orders(id));
  EXPECT_FALSE(optimizer.shapes()[0].plan);  // not yet frequent
  (void)optimizer.run(get_user_orders(5));
  const auto shapes = optimizer.shapes();
  ASSERT_TRUE(shapes[0].plan) << shapes[0].plan_error;
  EXPECT_TRUE(has_finding(shapes[0], FindingKind::sequential_scan, "orders"))
      << shapes[0].plan->to_text();
  EXPECT_FALSE(has_finding(shapes[0], FindingKind::sequential_scan, "users"));
  if (!postgres()) {  // SQLite sorts the scanned rows in a temporary B-tree
    EXPECT_TRUE(has_finding(shapes[0], FindingKind::sort_without_index, ""))
        << shapes[0].plan->to_text();
  }
  EXPECT_EQ(optimizer.stats().plan_checks, 1u);
  EXPECT_GE(optimizer.stats().findings, 1u);
}

TEST_P(OptimizerRun, SortsWithoutAnIndexAndBigNestedLoopsAreFlagged) {
  QueryOptimizer optimizer{*db, {.plan_check_after_calls = 1}};
  (void)optimizer.run(
      select(Order.id).from(Order).where(Order.status == "paid").order_by(Order.total.desc()));
  // A join on an inequality no index can serve: every pair of rows is visited.
  (void)optimizer.run(
      Statement{"SELECT count(*) FROM users u JOIN orders o ON o.total > length(u.email)", {}});
  const auto shapes = optimizer.shapes();
  const ShapeReport* sorted = shape_of(shapes, "ORDER BY");
  const ShapeReport* joined = shape_of(shapes, "JOIN");
  ASSERT_TRUE(sorted != nullptr && joined != nullptr);
  ASSERT_TRUE(sorted->plan && joined->plan) << sorted->plan_error << joined->plan_error;
  EXPECT_TRUE(has_finding(*sorted, FindingKind::sort_without_index, "")) << sorted->plan->to_text();
  EXPECT_FALSE(has_finding(*sorted, FindingKind::nested_loop, ""));
  bool big_loop = false;
  for (const PlanFinding& f : joined->findings) {
    if (f.kind != FindingKind::nested_loop) continue;
    big_loop = true;
    EXPECT_GE(f.rows, 0.9 * kSeedUsers * kSeedOrders) << f.message;
    EXPECT_NE(f.message.find("nested loop"), std::string::npos);
  }
  EXPECT_TRUE(big_loop) << joined->plan->to_text();
  // The seed query's join is on the key, one user: no nested-loop finding there.
  (void)optimizer.run(get_user_orders(1));
  const auto after = optimizer.shapes();
  const ShapeReport* seed = shape_of(after, "LIMIT");
  ASSERT_TRUE(seed != nullptr && seed->plan);
  EXPECT_FALSE(has_finding(*seed, FindingKind::nested_loop, "")) << seed->plan->to_text();
}

TEST_P(OptimizerRun, SchemaChangeByThisProcessRechecksThePlan) {
  QueryOptimizer optimizer{*db, {.plan_check_after_calls = 2}};
  for (std::int64_t id = 1; id <= 3; ++id) (void)optimizer.run(get_user_orders(id));
  ASSERT_TRUE(has_finding(optimizer.shapes()[0], FindingKind::sequential_scan, "orders"));
  IndexManager(*db).create_index({.table = "orders", .columns = {"user_id", "created_at"}});
  if (postgres()) {
    Lease lease = db->connection();
    lease->execute_script("ANALYZE orders");
  }
  (void)optimizer.run(get_user_orders(4));
  const auto shapes = optimizer.shapes();
  ASSERT_TRUE(shapes[0].plan);
  EXPECT_TRUE(shapes[0].findings.empty()) << shapes[0].findings[0].message << "\n"
                                          << shapes[0].plan->to_text();
  EXPECT_TRUE(shapes[0].plan->uses_index("orders_user_id_created_at_idx"))
      << shapes[0].plan->to_text();
  EXPECT_EQ(optimizer.stats().plan_checks, 2u);
}

TEST_P(OptimizerRun, SlowCallIsCheckedAtOnce) {
  QueryOptimizer optimizer{*db, {.plan_check_after_calls = 1000, .slow_query = 0ms}};
  (void)optimizer.run(get_user_orders(1));
  EXPECT_TRUE(optimizer.shapes()[0].plan);
}

TEST_P(OptimizerRun, ExplainShowsThePlanWithoutRunningTheQuery) {
  QueryOptimizer optimizer{*db};
  const Plan plan =
      optimizer.explain(update(Order).set(Order.status = "x").where(Order.user_id == 3));
  EXPECT_EQ(plan.dialect, GetParam());
  EXPECT_FALSE(plan.to_text().empty());
  EXPECT_EQ(db->execute("SELECT count(*) FROM orders WHERE status = 'x'").scalar<std::int64_t>(),
            0);
  if (postgres()) {
    EXPECT_GT(plan.total_cost(), 0);
  }
}

TEST_P(OptimizerRun, CachedResultIsServedUntilAWriteThroughTheOptimizer) {
  QueryOptimizer optimizer{*db};
  const auto count_paid =
      select(count()).from(Order).where(Order.user_id == 9 && Order.status == "paid");
  const auto first = optimizer.run(count_paid, {.cache_ttl = 1h}).scalar<std::int64_t>();
  // A write the optimizer does not see: the cached (stale) count is served.
  db->execute(update(Order).set(Order.status = "paid").where(Order.user_id == 9));
  EXPECT_EQ(optimizer.run(count_paid, {.cache_ttl = 1h}).scalar<std::int64_t>(), first);
  EXPECT_EQ(optimizer.stats().cache_hits, 1u);
  // A write through the optimizer to a table the query reads drops the entry.
  (void)optimizer.run(update(Order).set(Order.total = 1.0).where(Order.id == 1));
  EXPECT_EQ(optimizer.run(count_paid, {.cache_ttl = 1h}).scalar<std::int64_t>(), 40);
  EXPECT_EQ(optimizer.stats().cache_hits, 1u);
  EXPECT_EQ(optimizer.run(count_paid, {.cache_ttl = 1h}).scalar<std::int64_t>(), 40);
  EXPECT_EQ(optimizer.stats().cache_hits, 2u);
}

TEST_P(OptimizerRun, WritesToOtherTablesKeepTheEntryAndInvalidateDropsIt) {
  QueryOptimizer optimizer{*db};
  const auto emails = select(User.email).from(User).where(User.id == 3);
  (void)optimizer.run(emails, {.cache_ttl = 1h});
  (void)optimizer.run(update(Order).set(Order.total = 2.0).where(Order.id == 2));
  (void)optimizer.run(emails, {.cache_ttl = 1h});
  EXPECT_EQ(optimizer.stats().cache_hits, 1u);
  optimizer.invalidate("users");
  (void)optimizer.run(emails, {.cache_ttl = 1h});
  EXPECT_EQ(optimizer.stats().cache_hits, 1u);
  optimizer.invalidate_all();
  EXPECT_EQ(optimizer.stats().cache_entries, 0u);
}

TEST_P(OptimizerRun, CacheEntriesExpireAndOnlyMarkedQueriesAreCached) {
  QueryOptimizer optimizer{*db};
  const auto one = select(User.email).from(User).where(User.id == 1);
  (void)optimizer.run(one);
  (void)optimizer.run(one);
  EXPECT_EQ(optimizer.stats().cache_entries, 0u);  // not marked cacheable
  (void)optimizer.run(one, {.cache_ttl = 30ms});
  std::this_thread::sleep_for(50ms);
  (void)optimizer.run(one, {.cache_ttl = 30ms});
  EXPECT_EQ(optimizer.stats().cache_hits, 0u);
  // Writes are never cached, even when marked.
  (void)optimizer.run(update(User).set(User.status = "x").where(User.id == 1), {.cache_ttl = 1h});
  (void)optimizer.run(update(User).set(User.status = "x").where(User.id == 1), {.cache_ttl = 1h});
  EXPECT_EQ(optimizer.stats().cache_hits, 0u);
}

TEST_P(OptimizerRun, ConcurrentCallersShareTheBookkeeping) {
  QueryOptimizer optimizer{*db, {.plan_check_after_calls = 50}};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        (void)optimizer.run(get_user_orders(1 + (t * 50 + i) % kSeedUsers));
    });
  }
  for (auto& thread : threads) thread.join();
  const auto shapes = optimizer.shapes();
  ASSERT_EQ(shapes.size(), 1u);
  EXPECT_EQ(shapes[0].calls, 200u);
  EXPECT_EQ(optimizer.stats().plan_checks, 1u);  // exactly one thread checked it
}

INSTANTIATE_TEST_SUITE_P(Backend, OptimizerRun, ::testing::Values(NEXDB_TEST_DIALECT),
                         backend_name);

}  // namespace
}  // namespace nexdb::test
