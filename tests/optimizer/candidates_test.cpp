// Candidate indexes from a statement's predicates, joins and ordering.
#include <gtest/gtest.h>

#include <map>

#include "optimizer/candidates.hpp"

namespace nexdb::detail {
namespace {

constexpr const char* kSeedQuery =
    R"(SELECT "orders"."id", "orders"."status", "orders"."total" FROM "orders" JOIN "users" ON "orders"."user_id" = )"
    R"("users"."id" WHERE "users"."id" = $1 ORDER BY "orders"."created_at" DESC LIMIT $2)";

class Candidates : public ::testing::Test {
 protected:
  void SetUp() override {
    tables_["orders"].columns = {"id", "user_id", "status", "total", "created_at"};
    tables_["orders"].indexes = {index("orders_pkey", {"id"})};
    tables_["users"].columns = {"id", "email", "created_at"};
    tables_["users"].indexes = {index("users_pkey", {"id"})};
  }
  static IndexInfo index(std::string name, std::vector<std::string> columns) {
    return IndexInfo{.name = std::move(name), .columns = std::move(columns), .unique = true};
  }
  std::vector<std::string> keys(std::string_view sql) {
    const TableLookup lookup = [this](const std::string&,
                                      const std::string& table) -> const TableInfo& {
      return tables_[table];
    };
    std::vector<std::string> out;
    for (const Candidate& c :
         index_candidates(analyze_statement(sql, Dialect::postgres), lookup, 12)) {
      out.push_back(c.key());
    }
    return out;
  }
  std::map<std::string, TableInfo> tables_;
};

TEST_F(Candidates, SeedQueryEqualityThroughTheJoinThenOrdering) {
  const auto got = keys(kSeedQuery);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(),
            "orders(user_id, created_at)");  // users.id = $1 and orders.user_id = users.id
  EXPECT_NE(std::find(got.begin(), got.end(), "orders(user_id)"), got.end());
  for (const auto& k : got)
    EXPECT_FALSE(k.starts_with("users(id")) << k;  // the primary key serves it
}

TEST_F(Candidates, AnExistingIndexWithTheLeadingColumnsServesThem) {
  tables_["orders"].indexes.push_back(
      index("orders_user_id_created_at_idx", {"user_id", "created_at"}));
  for (const auto& k : keys(kSeedQuery)) {
    EXPECT_FALSE(k.starts_with("orders(user_id")) << k;
  }
}

TEST_F(Candidates, RangeAfterEqualityAndUnknownColumnsDropped) {
  const auto got =
      keys("SELECT * FROM orders o WHERE o.status = $1 AND o.created_at > $2 AND o.nope = 1");
  EXPECT_EQ(got, (std::vector<std::string>{"orders(status, created_at)", "orders(status)",
                                           "orders(created_at)"}));
}

TEST_F(Candidates, MixedOrderKeepsDirectionsFirstAscending) {
  const auto got =
      keys("SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id ASC LIMIT 10");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), "orders(user_id, created_at, id DESC)");
}

TEST_F(Candidates, UnqualifiedColumnsResolveByTheTablesColumns) {
  const auto got =
      keys("SELECT * FROM orders JOIN users ON users.id = orders.user_id WHERE email = $1");
  EXPECT_NE(std::find(got.begin(), got.end(), "users(email)"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), "orders(user_id)"), got.end());
}

TEST_F(Candidates, TablesWeCannotReadGiveNone) {
  EXPECT_TRUE(keys("SELECT * FROM some_view WHERE a = 1").empty());
  EXPECT_TRUE(keys("SELECT * FROM pg_class WHERE relname = $1").empty());
}

}  // namespace
}  // namespace nexdb::detail
