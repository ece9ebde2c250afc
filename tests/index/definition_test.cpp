// IndexDefinition: names and CREATE INDEX text for both dialects, and what it refuses.
#include <gtest/gtest.h>

#include "nexdb/error.hpp"
#include "nexdb/index.hpp"

namespace nexdb {
namespace {

TEST(IndexDefinition, SeedIndexOnBothDialects) {
  const IndexDefinition d{.table = "orders", .columns = {"user_id", "created_at"}};
  EXPECT_EQ(d.index_name(), "orders_user_id_created_at_idx");
  EXPECT_EQ(
      d.create_sql(Dialect::postgres),
      R"(CREATE INDEX IF NOT EXISTS "orders_user_id_created_at_idx" ON "orders" USING btree ("user_id", "created_at"))");
  EXPECT_EQ(
      d.create_sql(Dialect::sqlite),
      R"(CREATE INDEX IF NOT EXISTS "orders_user_id_created_at_idx" ON "orders" ("user_id", "created_at"))");
}

TEST(IndexDefinition, EveryOption) {
  const IndexDefinition d{.table = "sales.orders",
                          .columns = {"user_id", "created_at DESC NULLS LAST"},
                          .type = IndexType::btree,
                          .unique = true,
                          .where = "status = 'open'",
                          .include = {"total"},
                          .concurrently = true,
                          .name = "open_orders"};
  EXPECT_EQ(
      d.create_sql(Dialect::postgres, false),
      R"(CREATE UNIQUE INDEX CONCURRENTLY "open_orders" ON "sales"."orders" USING btree ("user_id", )"
      R"("created_at" DESC NULLS LAST) INCLUDE ("total") WHERE (status = 'open'))");
  EXPECT_EQ(
      (IndexDefinition{.table = "docs", .columns = {"body"}, .type = IndexType::gin}.create_sql(
          Dialect::postgres)),
      R"(CREATE INDEX IF NOT EXISTS "docs_body_idx" ON "docs" USING gin ("body"))");
}

TEST(IndexDefinition, NamesAreQuotedAndLongNamesShortened) {
  const IndexDefinition odd{.table = "my table", .columns = {"\"say \"\"hi\"\"\""}};
  EXPECT_NE(
      odd.create_sql(Dialect::postgres).find(R"sql(ON "my table" USING btree ("say ""hi"""))sql"),
      std::string::npos)
      << odd.create_sql(Dialect::postgres);
  const IndexDefinition wide{.table = "a_rather_long_table_name_for_orders",
                             .columns = {"first_long_column_name", "second_long_column_name"}};
  const std::string name = wide.index_name();
  EXPECT_LE(name.size(), 63u);
  EXPECT_TRUE(name.starts_with("a_rather_long_table_name_for_orders_first_long_col")) << name;
  IndexDefinition other = wide;
  other.columns = {"first_long_column_name", "third_long_column_name"};
  EXPECT_NE(other.index_name(), name);  // the hash tells them apart
}

TEST(IndexDefinition, RefusesWhatCannotBeRight) {
  EXPECT_THROW((IndexDefinition{.table = "t"}.create_sql(Dialect::postgres)), UsageError);
  EXPECT_THROW((IndexDefinition{.columns = {"a"}}.create_sql(Dialect::postgres)), UsageError);
  EXPECT_THROW((IndexDefinition{.table = "t", .columns = {"a\tb"}}.create_sql(Dialect::postgres)),
               UsageError);
  // A predicate is one expression, never a way to smuggle in another statement.
  EXPECT_THROW((IndexDefinition{.table = "t", .columns = {"a"}, .where = "true); DROP TABLE t; --"}
                    .create_sql(Dialect::postgres)),
               UsageError);
  EXPECT_THROW(
      (IndexDefinition{.table = "t", .columns = {"a"}, .where = "1) UNION SELECT (1"}.create_sql(
          Dialect::postgres)),
      UsageError);
  EXPECT_THROW((IndexDefinition{.table = "t", .columns = {"a"}, .type = IndexType::gin}.create_sql(
                   Dialect::sqlite)),
               UsageError);
  EXPECT_THROW((IndexDefinition{.table = "t", .columns = {"a"}, .include = {"b"}}.create_sql(
                   Dialect::sqlite)),
               UsageError);
}

TEST(IndexDefinition, TypesByName) {
  EXPECT_EQ(index_type_from_string("brin"), IndexType::brin);
  EXPECT_EQ(index_type_from_string("BTREE"), std::nullopt);
  EXPECT_EQ(to_string(IndexType::gist), "gist");
}

}  // namespace
}  // namespace nexdb
