// The optimizer's findings per query shape reach Prometheus through DBMonitor::watch(optimizer),
// and leave it once the index is there.
#include "nexdb/monitor.hpp"
#include "seed_world.hpp"

namespace nexdb::test {
namespace {

using OptimizerMetricsExport = SeedWorld;

/// The value of the exposition line that starts with `series`, or -1 when there is none.
double value_of(const std::string& exposition, const std::string& series) {
  const std::size_t at = exposition.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  const std::size_t start = at + series.size() + 2;
  return std::stod(exposition.substr(start, exposition.find('\n', start) - start));
}

std::size_t lines_with(const std::string& exposition, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = exposition.find(needle); at != std::string::npos;
       at = exposition.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST_P(OptimizerMetricsExport, FindingsPerFingerprintAreExportedAndWithdrawn) {
  metrics::Registry registry;
  QueryOptimizer optimizer{*db, {.plan_check_after_calls = 5}};
  DBMonitor monitor{{.registry = &registry, .background = false}};
  monitor.watch(optimizer, "app");
  for (std::int64_t id = 1; id <= 5; ++id) (void)optimizer.run(get_user_orders(id));
  const auto shapes = optimizer.shapes();
  ASSERT_EQ(shapes.size(), 1u);
  ASSERT_FALSE(shapes[0].findings.empty()) << shapes[0].plan_error;

  std::string text = registry.expose();
  EXPECT_EQ(value_of(text, R"(nexdb_optimizer_events_total{cluster="app",event="query"})"), 5);
  EXPECT_EQ(value_of(text, R"(nexdb_optimizer_events_total{cluster="app",event="plan_check"})"), 1);
  EXPECT_EQ(value_of(text, R"(nexdb_optimizer_state{cluster="app",item="shapes"})"), 1);
  EXPECT_EQ(
      value_of(text, R"(nexdb_optimizer_plan_findings{cluster="app",kind="sequential_scan"})"), 1);
  const std::string finding = R"(nexdb_optimizer_plan_finding_rows{cluster="app",fingerprint=")" +
                              shapes[0].fingerprint +
                              R"(",kind="sequential_scan",table="orders",query=")";
  ASSERT_NE(text.find(finding), std::string::npos) << text;
  const std::size_t line = text.find(finding);
  const std::string row = text.substr(line, text.find('\n', line) - line);
  EXPECT_NE(row.find("JOIN"), std::string::npos) << row;
  EXPECT_EQ(row.substr(row.rfind(' ') + 1), std::to_string(kSeedOrders)) << row;
  EXPECT_EQ(row.find("= 5"), std::string::npos) << "values never reach a label: " << row;

  // The index cuts the scan: the next check (after this schema change) finds nothing, and the
  // finding's series goes away.
  IndexManager(*db).create_index({.table = "orders", .columns = {"user_id", "created_at"}});
  if (postgres()) {
    Lease lease = db->connection();
    lease->execute_script("ANALYZE orders");
  }
  (void)optimizer.run(get_user_orders(6));
  text = registry.expose();
  EXPECT_EQ(lines_with(text, "nexdb_optimizer_plan_finding_rows{"), 0u) << text;
  EXPECT_EQ(
      value_of(text, R"(nexdb_optimizer_plan_findings{cluster="app",kind="sequential_scan"})"), 0);
  EXPECT_EQ(value_of(text, R"(nexdb_optimizer_events_total{cluster="app",event="plan_check"})"), 2);
}

TEST_P(OptimizerMetricsExport, ResultCacheCountersAndOneOptimizerPerClusterName) {
  metrics::Registry registry;
  QueryOptimizer optimizer{*db};
  DBMonitor monitor{{.registry = &registry, .background = false}};
  monitor.watch(optimizer, "app");
  EXPECT_THROW(monitor.watch(QueryOptimizer{*db}, "app"), ConfigError);
  const auto email = select(User.email).from(User).where(User.id == 1);
  for (int i = 0; i < 3; ++i) (void)optimizer.run(email, {.cache_ttl = std::chrono::hours(1)});
  const std::string text = registry.expose();
  EXPECT_EQ(value_of(text, R"(nexdb_optimizer_events_total{cluster="app",event="cache_hit"})"), 2);
  EXPECT_EQ(value_of(text, R"(nexdb_optimizer_events_total{cluster="app",event="cache_miss"})"), 1);
  EXPECT_EQ(value_of(text, R"(nexdb_optimizer_state{cluster="app",item="cache_entries"})"), 1);
  EXPECT_GT(value_of(text, R"(nexdb_optimizer_state{cluster="app",item="cache_bytes"})"), 0);
}

INSTANTIATE_TEST_SUITE_P(Backend, OptimizerMetricsExport, ::testing::Values(NEXDB_TEST_DIALECT),
                         backend_name);

}  // namespace
}  // namespace nexdb::test
