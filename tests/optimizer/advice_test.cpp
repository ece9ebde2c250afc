// Index advice on a real backend: the missing index is found exactly, an existing one gives
// nothing, and no suggestion fails to lower the cost of the queries it claims to help.
#include "seed_world.hpp"

namespace nexdb::test {
namespace {

using Advice = SeedWorld;

std::vector<std::string> index_names(Database& db) {
  std::vector<std::string> names;
  for (const IndexInfo& i : IndexManager(db).list()) names.push_back(i.name);
  return names;
}

double cost_of(Database& db, const Statement& statement) {
  Lease lease = db.connection();
  return explain(*lease, statement).total_cost();
}

TEST_P(Advice, MissingIndexGetsExactlyTheRightSuggestion) {
  QueryOptimizer optimizer{*db};
  for (std::int64_t id = 1; id <= 20; ++id) (void)optimizer.run(get_user_orders(id));
  const auto before = index_names(*db);
  const auto suggestions = optimizer.suggest_indexes();
  ASSERT_EQ(suggestions.size(), 1u);
  const IndexSuggestion& s = suggestions[0];
  EXPECT_EQ(s.table, "orders");
  EXPECT_EQ(s.columns, (std::vector<std::string>{"user_id", "created_at"}));
  EXPECT_GT(s.cost_before, 0);
  EXPECT_LE(s.cost_after, s.cost_before * 0.5);
  EXPECT_GE(s.reduction(), 0.5);
  EXPECT_EQ(s.cost_unit, postgres() ? "planner cost" : "SQLite VM steps");
  ASSERT_EQ(s.queries.size(), 1u);
  EXPECT_EQ(s.queries[0].calls, 20u);
  EXPECT_NE(s.queries[0].sql.find("JOIN"), std::string::npos);
  EXPECT_EQ(s.create_sql, s.definition.create_sql(GetParam()));
  EXPECT_NE(s.create_sql.find(R"(ON "orders")"), std::string::npos) << s.create_sql;
  EXPECT_NE(s.create_sql.find(R"(("user_id", "created_at"))"), std::string::npos) << s.create_sql;
  // Nothing was built (PostgreSQL) or everything was rolled back (SQLite).
  EXPECT_EQ(index_names(*db), before);
}

TEST_P(Advice, WithTheIndexThereIsNoSuggestion) {
  IndexManager(*db).create_index({.table = "orders", .columns = {"user_id", "created_at"}});
  if (postgres()) {
    Lease lease = db->connection();
    lease->execute_script("ANALYZE orders");
  }
  QueryOptimizer optimizer{
      *db, {.slow_query = std::chrono::milliseconds(0)}};  // every shape is a candidate
  for (std::int64_t id = 1; id <= 20; ++id) (void)optimizer.run(get_user_orders(id));
  EXPECT_TRUE(optimizer.suggest_indexes().empty());
}

TEST_P(Advice, NoSuggestionFailsToLowerTheCostOfWhatItHelps) {
  // Queries an index helps and queries it cannot (all rows, an aggregate over everything).
  std::vector<WorkloadQuery> workload;
  const auto add = [&](const auto& query) {
    workload.push_back({.statement = query.render(GetParam())});
  };
  add(get_user_orders(5));
  add(select(Order.id).from(Order).where(Order.total >= 0.0));
  add(select(count()).from(Order));
  add(select(Order.id, Order.total)
          .from(Order)
          .where(Order.status == "paid" && Order.total > 99.5));
  add(select(User.id).from(User).where(User.email == "user3@example.com"));
  const auto suggestions = IndexAdvisor(*db).suggest(workload);
  ASSERT_FALSE(suggestions.empty());
  for (const IndexSuggestion& s : suggestions) {
    EXPECT_NE(s.table, "users") << s.create_sql;  // users.email is served by its UNIQUE index
    for (const HelpedQuery& q : s.queries) {
      EXPECT_LE(q.cost_after, q.cost_before * 0.5) << s.create_sql << " for " << q.sql;
      EXPECT_EQ(q.sql.find("count("), std::string::npos) << s.create_sql;
      EXPECT_EQ(q.sql.find(">= "), std::string::npos) << s.create_sql;
    }
  }
  if (!postgres()) return;
  // The real index, built, lowers the planner's cost as the hypothetical one said it would.
  for (const IndexSuggestion& s : suggestions) {
    for (const HelpedQuery& q : s.queries) {
      const WorkloadQuery* w = nullptr;
      for (const auto& item : workload) {
        if (item.statement.sql == q.sql) w = &item;
      }
      ASSERT_NE(w, nullptr);
      const double before = cost_of(*db, w->statement);
      IndexManager(*db).create_index(s.definition);
      const double after = cost_of(*db, w->statement);
      IndexManager(*db).drop_index(s.definition.index_name());
      EXPECT_LT(after, before * 0.6) << s.create_sql << " for " << q.sql;
    }
  }
}

TEST_P(Advice, UnanalysableStatementsAreSkipped) {
  std::vector<WorkloadQuery> workload{
      {.statement = {"INSERT INTO users (id, email) VALUES (9999, 'x')", {}}},
      {.statement = {"SELECT 1", {}}},
      {.statement = {"this is not sql", {}}}};
  EXPECT_TRUE(IndexAdvisor(*db).suggest(workload).empty());
  EXPECT_EQ(db->execute("SELECT count(*) FROM users WHERE id = 9999").scalar<std::int64_t>(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backend, Advice, ::testing::Values(NEXDB_TEST_DIALECT), backend_name);

}  // namespace
}  // namespace nexdb::test
