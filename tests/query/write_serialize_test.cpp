// INSERT, UPDATE, DELETE and upserts rendered to SQL text and parameters; no database involved.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "models.hpp"
#include "nexdb/error.hpp"
#include "render_helpers.hpp"

namespace nexdb::test {
namespace {

TEST(InsertSerialize, OneRowWithSet) {
  EXPECT_TRUE(renders(insert_into(User).set(User.email = "a@x", User.status = "new"),
                      R"(INSERT INTO "users" ("email", "status") VALUES ($1, $2))",
                      params("a@x", "new")));
}

TEST(InsertSerialize, SetAcceptsNulloptAndOptionalsOnNullableColumns) {
  const std::optional<std::string> maybe;
  EXPECT_TRUE(renders(
      insert_into(User).set(User.email = std::string("a@x")).set(User.status = std::nullopt),
      R"(INSERT INTO "users" ("email", "status") VALUES ($1, $2))", params("a@x", null)));
  EXPECT_TRUE(renders(insert_into(User).set(User.status = maybe),
                      R"(INSERT INTO "users" ("status") VALUES ($1))", params(null)));
}

TEST(InsertSerialize, NoColumnsIsDefaultValues) {
  EXPECT_TRUE(renders(insert_into(User).returning(User.id),
                      R"(INSERT INTO "users" DEFAULT VALUES RETURNING "users"."id")", {}));
}

TEST(InsertSerialize, ManyRowsTypedPerColumn) {
  EXPECT_TRUE(renders(insert_into(User)
                          .columns(User.email, User.status)
                          .values("a@x", "new")
                          .values("b@x", std::nullopt)
                          .returning(User.id, User.email.as("mail")),
                      R"(INSERT INTO "users" ("email", "status") VALUES ($1, $2), ($3, $4) )"
                      R"(RETURNING "users"."id", "users"."email" AS "mail")",
                      params("a@x", "new", "b@x", null)));
}

TEST(InsertSerialize, RowsAddedInALoop) {
  auto insert = insert_into(Order).columns(Order.user_id, Order.total);
  for (int i = 1; i <= 3; ++i) insert.values(i, i * 1.5);
  EXPECT_TRUE(renders(
      insert, R"(INSERT INTO "orders" ("user_id", "total") VALUES ($1, $2), ($3, $4), ($5, $6))",
      params(1, 1.5, 2, 3.0, 3, 4.5)));
}

TEST(InsertSerialize, IntegerIntoRealColumnAndExpressionValues) {
  EXPECT_TRUE(renders(insert_into(Order).columns(Order.total, Order.status).values(10, "new"),
                      R"(INSERT INTO "orders" ("total", "status") VALUES ($1, $2))",
                      params(10, "new")));
}

TEST(InsertSerialize, UpsertDoUpdate) {
  EXPECT_TRUE(
      renders(insert_into(User)
                  .set(User.email = "a@x", User.status = "new")
                  .on_conflict(User.email)
                  .do_update(User.status = excluded(User.status))
                  .returning(User.id),
              R"(INSERT INTO "users" ("email", "status") VALUES ($1, $2) ON CONFLICT ("email") )"
              R"(DO UPDATE SET "status" = excluded."status" RETURNING "users"."id")",
              params("a@x", "new")));
}

TEST(InsertSerialize, UpsertDoUpdateWithExpressionsAndValues) {
  EXPECT_TRUE(renders(
      insert_into(Order)
          .columns(Order.id, Order.total)
          .values(1, 2.0)
          .on_conflict(Order.id)
          .do_update(Order.total = Order.total + excluded(Order.total), Order.status = "merged"),
      R"(INSERT INTO "orders" ("id", "total") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE )"
      R"(SET "total" = "orders"."total" + excluded."total", "status" = $3)",
      params(1, 2.0, "merged")));
}

TEST(InsertSerialize, UpsertDoNothing) {
  EXPECT_TRUE(
      renders(insert_into(User).set(User.email = "a@x").on_conflict(User.email).do_nothing(),
              R"(INSERT INTO "users" ("email") VALUES ($1) ON CONFLICT ("email") DO NOTHING)",
              params("a@x")));
  EXPECT_TRUE(renders(insert_into(User).set(User.email = "a@x").on_conflict().do_nothing(),
                      R"(INSERT INTO "users" ("email") VALUES ($1) ON CONFLICT DO NOTHING)",
                      params("a@x")));
}

TEST(InsertSerialize, IncompleteInsertsThrow) {
  EXPECT_THROW(insert_into(User).columns(User.email).render(Dialect::postgres), UsageError);
  EXPECT_THROW(
      insert_into(User).set(User.email = "a").on_conflict(User.email).render(Dialect::postgres),
      UsageError);
  EXPECT_THROW(insert_into(User)
                   .set(User.email = "a")
                   .on_conflict()
                   .do_update(User.status = "x")
                   .render(Dialect::sqlite),
               UsageError);
  EXPECT_THROW(insert_into(User).set(User.email = "a").do_nothing(), UsageError);
  EXPECT_THROW(insert_into(User).set(User.email = "a").do_update(User.status = "x"), UsageError);
  EXPECT_THROW(insert_into(User).on_conflict(User.email).on_conflict(User.id), UsageError);
}

TEST(InsertSerialize, ColumnsOfAnotherTableThrow) {
  EXPECT_THROW(insert_into(User).set(Order.status = "x"), UsageError);
  EXPECT_THROW(insert_into(User).columns(User.email, Order.status), UsageError);
  EXPECT_THROW(insert_into(User).set(User.email = "a").on_conflict(Order.id), UsageError);
}

TEST(UpdateSerialize, SetWhereReturning) {
  EXPECT_TRUE(renders(
      update(User).set(User.status = "active").where(User.id == 5).returning(User.id, User.status),
      R"(UPDATE "users" SET "status" = $1 WHERE "users"."id" = $2 RETURNING "users"."id", )"
      R"("users"."status")",
      params("active", 5)));
}

TEST(UpdateSerialize, ArithmeticAndSeveralAssignments) {
  EXPECT_TRUE(renders(update(Order)
                          .set(Order.total = Order.total * 1.1, Order.status = "repriced")
                          .where(Order.status == "new" && Order.total < 100),
                      R"(UPDATE "orders" SET "total" = "orders"."total" * $1, "status" = $2 WHERE )"
                      R"("orders"."status" = $3 AND "orders"."total" < $4)",
                      params(1.1, "repriced", "new", 100)));
}

TEST(UpdateSerialize, SetNullAndColumnFromColumn) {
  EXPECT_TRUE(renders(update(User).set(User.status = std::nullopt, User.email = User.email),
                      R"(UPDATE "users" SET "status" = $1, "email" = "users"."email")",
                      params(null)));
}

TEST(UpdateSerialize, Misuse) {
  EXPECT_THROW(update(User).where(User.id == 1).render(Dialect::postgres), UsageError);
  EXPECT_THROW(update(User).set(Order.status = "x"), UsageError);
}

TEST(DeleteSerialize, WhereReturning) {
  EXPECT_TRUE(
      renders(delete_from(User)
                  .where(User.status.is_null() || User.email.like("%@spam"))
                  .returning(User.id),
              R"(DELETE FROM "users" WHERE "users"."status" IS NULL OR "users"."email" LIKE $1 )"
              R"(RETURNING "users"."id")",
              params("%@spam")));
}

TEST(DeleteSerialize, WithoutWhereDeletesEverything) {
  EXPECT_TRUE(renders(delete_from(Order), R"(DELETE FROM "orders")", {}));
}

TEST(WriteSerialize, InjectionStringsStayBoundValues) {
  const std::string evil = "x'); DROP TABLE users; --";
  const Statement s = insert_into(User).set(User.email = evil).render(Dialect::sqlite);
  EXPECT_EQ(s.sql, R"(INSERT INTO "users" ("email") VALUES (?))");
  EXPECT_EQ(s.params, params(evil));
}

TEST(WriteSerialize, LargeInsertRendersEveryRow) {
  auto insert = insert_into(Order).columns(Order.user_id, Order.status);
  for (int i = 0; i < 500; ++i) insert.values(i, std::string("s").append(std::to_string(i)));
  const Statement s = insert.render(Dialect::postgres);
  EXPECT_EQ(s.params.size(), 1000u);
  EXPECT_NE(s.sql.find("($999, $1000)"), std::string::npos);
  EXPECT_EQ(s.params[999], Value("s499"));
  const Statement lite = std::move(insert).render(Dialect::sqlite);
  EXPECT_EQ(lite.params.size(), 1000u);
  EXPECT_NE(lite.sql.find("(?, ?), (?, ?)"), std::string::npos);
}

TEST(WriteSerialize, RvalueRenderMovesValues) {
  const std::string long_text(200, 'x');
  Statement s = update(User).set(User.email = long_text).render(Dialect::postgres);
  EXPECT_EQ(s.sql, R"(UPDATE "users" SET "email" = $1)");
  EXPECT_EQ(s.params, params(long_text));
}

}  // namespace
}  // namespace nexdb::test
