// SELECT rendered to SQL text and parameters, in both dialects; no database involved.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "models.hpp"
#include "nexdb/error.hpp"
#include "render_helpers.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

TEST(SelectSerialize, SeedQueryPostgres) {
  const Statement s = get_user_orders(42).render(Dialect::postgres);
  EXPECT_EQ(s.sql, R"(SELECT "orders"."id", "orders"."status", "orders"."total" FROM "orders" )"
                   R"(JOIN "users" ON "orders"."user_id" = "users"."id" WHERE "users"."id" = $1 )"
                   R"(ORDER BY "orders"."created_at" DESC LIMIT $2)");
  EXPECT_EQ(s.params, params(42, 100));
}

TEST(SelectSerialize, SeedQuerySqlite) {
  const Statement s = get_user_orders(42).render(Dialect::sqlite);
  EXPECT_EQ(s.sql, R"(SELECT "orders"."id", "orders"."status", "orders"."total" FROM "orders" )"
                   R"(JOIN "users" ON "orders"."user_id" = "users"."id" WHERE "users"."id" = ? )"
                   R"(ORDER BY "orders"."created_at" DESC LIMIT ?)");
  EXPECT_EQ(s.params, params(42, 100));
}

TEST(SelectSerialize, RenderingTwiceGivesTheSameStatement) {
  const auto query = get_user_orders(7);
  const Statement first = query.render(Dialect::postgres);
  const Statement second = query.render(Dialect::postgres);
  EXPECT_EQ(first.sql, second.sql);
  EXPECT_EQ(first.params, second.params);
  // The rvalue form moves the values out and gives the same statement.
  auto copy = query;
  const Statement moved = std::move(copy).render(Dialect::postgres);
  EXPECT_EQ(moved.sql, first.sql);
  EXPECT_EQ(moved.params, first.params);
}

TEST(SelectSerialize, BuilderKeptInAVariable) {
  auto query = select(User.id).from(User);
  query.where(User.id > 1);
  query.where(User.email != "x");
  query.order_by(User.id).limit(5);
  EXPECT_TRUE(renders(query,
                      R"(SELECT "users"."id" FROM "users" WHERE "users"."id" > $1 AND )"
                      R"("users"."email" <> $2 ORDER BY "users"."id" LIMIT $3)",
                      params(1, "x", 5)));
}

TEST(SelectSerialize, NoItemsSelectsStar) {
  EXPECT_TRUE(renders(select().from(User), R"(SELECT * FROM "users")", {}));
}

TEST(SelectSerialize, Distinct) {
  EXPECT_TRUE(renders(select(Order.status).distinct().from(Order),
                      R"(SELECT DISTINCT "orders"."status" FROM "orders")", {}));
}

TEST(SelectSerialize, Aliases) {
  EXPECT_TRUE(renders(select(Order.total.as("amount"), count().as("n")).from(Order),
                      R"(SELECT "orders"."total" AS "amount", count(*) AS "n" FROM "orders")", {}));
}

TEST(SelectSerialize, Aggregates) {
  EXPECT_TRUE(
      renders(select(count(), count(User.status), count_distinct(Order.user_id), sum(Order.total),
                     avg(Order.total), min(Order.created_at), max(User.email))
                  .from(Order),
              R"(SELECT count(*), count("users"."status"), count(DISTINCT "orders"."user_id"), )"
              R"(sum("orders"."total"), avg("orders"."total"), min("orders"."created_at"), )"
              R"(max("users"."email") FROM "orders")",
              {}));
}

TEST(SelectSerialize, AggregateOfAnExpression) {
  EXPECT_TRUE(renders(select(sum(Order.total * 2).as("doubled")).from(Order),
                      R"(SELECT sum("orders"."total" * $1) AS "doubled" FROM "orders")",
                      params(2)));
}

TEST(SelectSerialize, LeftJoin) {
  EXPECT_TRUE(
      renders(select(User.email, count(Order.id))
                  .from(User)
                  .left_join(Order, Order.user_id == User.id && Order.status == "paid")
                  .group_by(User.email),
              R"(SELECT "users"."email", count("orders"."id") FROM "users" LEFT JOIN "orders" )"
              R"(ON "orders"."user_id" = "users"."id" AND "orders"."status" = $1 )"
              R"(GROUP BY "users"."email")",
              params("paid")));
}

TEST(SelectSerialize, JoinThenOn) {
  EXPECT_TRUE(renders(select(Order.id).from(Order).join(User).on(Order.user_id == User.id),
                      R"(SELECT "orders"."id" FROM "orders" JOIN "users" ON "orders"."user_id" = )"
                      R"("users"."id")",
                      {}));
}

TEST(SelectSerialize, JoinParamsComeBeforeWhereParams) {
  // Clauses given out of order still number their parameters in text order.
  auto query = select(Order.id).from(Order).where(User.id == 1);
  query.join(User, Order.user_id == User.id && User.email == "a");
  EXPECT_TRUE(renders(query,
                      R"(SELECT "orders"."id" FROM "orders" JOIN "users" ON "orders"."user_id" = )"
                      R"("users"."id" AND "users"."email" = $1 WHERE "users"."id" = $2)",
                      params("a", 1)));
}

TEST(SelectSerialize, IncompleteJoinsThrow) {
  EXPECT_THROW(select(Order.id).from(Order).join(User).render(Dialect::postgres), UsageError);
  EXPECT_THROW(select(Order.id).from(Order).on(Order.user_id == User.id), UsageError);
  EXPECT_THROW(select(Order.id).from(Order).join(User).join(User), UsageError);
  EXPECT_THROW(select(Order.id).join(User, Order.user_id == User.id).render(Dialect::sqlite),
               UsageError);
}

TEST(SelectSerialize, ComparisonOperators) {
  EXPECT_TRUE(
      renders(select(User.id).from(User).where(User.id == 1 && User.id != 2 && User.id < 3 &&
                                               User.id <= 4 && User.id > 5 && User.id >= 6),
              R"(SELECT "users"."id" FROM "users" WHERE "users"."id" = $1 AND "users"."id" <> $2 )"
              R"(AND "users"."id" < $3 AND "users"."id" <= $4 AND "users"."id" > $5 AND )"
              R"("users"."id" >= $6)",
              params(1, 2, 3, 4, 5, 6)));
}

TEST(SelectSerialize, ValueOnTheLeft) {
  EXPECT_TRUE(renders(select(User.id).from(User).where(10 < User.id),
                      R"(SELECT "users"."id" FROM "users" WHERE $1 < "users"."id")", params(10)));
}

TEST(SelectSerialize, ColumnToColumnAndNumericMix) {
  EXPECT_TRUE(
      renders(select(Order.id).from(Order).where(Order.total > Order.user_id && Order.total > 10),
              R"(SELECT "orders"."id" FROM "orders" WHERE "orders"."total" > "orders"."user_id" )"
              R"(AND "orders"."total" > $1)",
              params(10)));
}

TEST(SelectSerialize, RealValuesAgainstIntegersAreCast) {
  // PostgreSQL would type the parameter as bigint after the column and reject 2.5.
  EXPECT_TRUE(renders(
      select().from(Order).where(Order.user_id == 2.5 || Order.user_id.in({1.5}) ||
                                 Order.user_id.between(0.5, 2) || 0.5 < Order.id),
      R"(SELECT * FROM "orders" WHERE "orders"."user_id" = CAST($1 AS DOUBLE PRECISION) OR )"
      R"("orders"."user_id" IN (CAST($2 AS DOUBLE PRECISION)) OR "orders"."user_id" BETWEEN )"
      R"(CAST($3 AS DOUBLE PRECISION) AND $4 OR CAST($5 AS DOUBLE PRECISION) < "orders"."id")",
      params(2.5, 1.5, 0.5, 2, 0.5)));
  EXPECT_TRUE(renders(select(Order.user_id * 1.5).from(Order),
                      R"(SELECT "orders"."user_id" * CAST($1 AS DOUBLE PRECISION) FROM "orders")",
                      params(1.5)));
}

TEST(SelectSerialize, OrBindsLooserThanAnd) {
  const auto a = User.id == 1;
  const auto b = User.id == 2;
  const auto c = User.id == 3;
  EXPECT_TRUE(renders(select().from(User).where((a || b) && c),
                      R"(SELECT * FROM "users" WHERE ("users"."id" = $1 OR "users"."id" = $2) AND )"
                      R"("users"."id" = $3)",
                      params(1, 2, 3)));
  EXPECT_TRUE(renders(select().from(User).where(a || (b && c)),
                      R"(SELECT * FROM "users" WHERE "users"."id" = $1 OR "users"."id" = $2 AND )"
                      R"("users"."id" = $3)",
                      params(1, 2, 3)));
  EXPECT_TRUE(renders(select().from(User).where(a || b).where(c),
                      R"(SELECT * FROM "users" WHERE ("users"."id" = $1 OR "users"."id" = $2) AND )"
                      R"("users"."id" = $3)",
                      params(1, 2, 3)));
}

TEST(SelectSerialize, Not) {
  EXPECT_TRUE(renders(select().from(User).where(!(User.id == 1) && !User.status.is_null()),
                      R"(SELECT * FROM "users" WHERE NOT ("users"."id" = $1) AND )"
                      R"(NOT ("users"."status" IS NULL))",
                      params(1)));
}

TEST(SelectSerialize, BooleanColumnIsACondition) {
  EXPECT_TRUE(renders(select(Odd.select).from(Odd).where(Odd.flag || !Odd.flag),
                      R"(SELECT "my table"."select" FROM "my table" WHERE "my table"."x;--" OR )"
                      R"(NOT "my table"."x;--")",
                      {}));
}

TEST(SelectSerialize, Arithmetic) {
  EXPECT_TRUE(
      renders(select((Order.total + 1) * 2, Order.total - (Order.total - 1), Order.total / 4 + 3,
                     2 * Order.total)
                  .from(Order),
              R"(SELECT ("orders"."total" + $1) * $2, "orders"."total" - ("orders"."total" - $3), )"
              R"("orders"."total" / $4 + $5, $6 * "orders"."total" FROM "orders")",
              params(1, 2, 1, 4, 3, 2)));
}

TEST(SelectSerialize, InList) {
  EXPECT_TRUE(renders(select().from(User).where(User.id.in({1, 2, 3})),
                      R"(SELECT * FROM "users" WHERE "users"."id" IN ($1, $2, $3))",
                      params(1, 2, 3)));
  EXPECT_TRUE(renders(select().from(User).where(User.email.in({"a@x", "b@x"})),
                      R"(SELECT * FROM "users" WHERE "users"."email" IN ($1, $2))",
                      params("a@x", "b@x")));
  const std::vector<std::int64_t> ids{4, 5};
  EXPECT_TRUE(renders(select().from(User).where(User.id.in(ids)),
                      R"(SELECT * FROM "users" WHERE "users"."id" IN ($1, $2))", params(4, 5)));
  EXPECT_TRUE(renders(select().from(User).where(User.status.not_in({"x"})),
                      R"(SELECT * FROM "users" WHERE "users"."status" NOT IN ($1))", params("x")));
}

TEST(SelectSerialize, EmptyInListIsAConstantCondition) {
  const std::vector<std::int64_t> none;
  EXPECT_TRUE(renders(select().from(User).where(User.id.in({})),
                      R"(SELECT * FROM "users" WHERE 1 = 0)", {}));
  EXPECT_TRUE(renders(select().from(User).where(User.id.in(none) || User.id == 1),
                      R"(SELECT * FROM "users" WHERE 1 = 0 OR "users"."id" = $1)", params(1)));
  EXPECT_TRUE(renders(select().from(User).where(User.id.not_in(none)),
                      R"(SELECT * FROM "users" WHERE 1 = 1)", {}));
}

TEST(SelectSerialize, InOnAnExpression) {
  EXPECT_TRUE(renders(select().from(Order).where((Order.total * 2).in({10, 20})),
                      R"(SELECT * FROM "orders" WHERE "orders"."total" * $1 IN ($2, $3))",
                      params(2, 10, 20)));
}

TEST(SelectSerialize, Like) {
  EXPECT_TRUE(
      renders(select().from(User).where(User.email.like("%@example.com") && User.status.like("a%")),
              R"(SELECT * FROM "users" WHERE "users"."email" LIKE $1 AND "users"."status" LIKE $2)",
              params("%@example.com", "a%")));
}

TEST(SelectSerialize, NullTests) {
  EXPECT_TRUE(renders(
      select().from(User).where(User.status.is_null() || User.status.is_not_null()),
      R"(SELECT * FROM "users" WHERE "users"."status" IS NULL OR "users"."status" IS NOT NULL)",
      {}));
}

TEST(SelectSerialize, Between) {
  const Timestamp t0{std::chrono::sys_days{std::chrono::January / 1 / 2026}};
  const Timestamp t1 = t0 + 24h;
  EXPECT_TRUE(renders(
      select().from(Order).where(Order.total.between(10, 20.5) && Order.created_at.between(t0, t1)),
      R"(SELECT * FROM "orders" WHERE "orders"."total" BETWEEN $1 AND $2 AND )"
      R"("orders"."created_at" BETWEEN $3 AND $4)",
      params(10, 20.5, t0, t1)));
  EXPECT_TRUE(
      renders(select().from(Order).where(Order.total.between(Order.user_id, Order.user_id + 1)),
              R"(SELECT * FROM "orders" WHERE "orders"."total" BETWEEN "orders"."user_id" AND )"
              R"("orders"."user_id" + $1)",
              params(1)));
}

TEST(SelectSerialize, TimestampsAreBoundAsTimestamps) {
  const Timestamp since{std::chrono::sys_days{std::chrono::March / 1 / 2026}};
  const Statement s = select().from(User).where(User.created_at >= since).render(Dialect::postgres);
  ASSERT_EQ(s.params.size(), 1u);
  EXPECT_EQ(s.params[0].type(), ValueType::timestamp);
  EXPECT_EQ(s.params[0], Value(since));
}

TEST(SelectSerialize, GroupByHaving) {
  EXPECT_TRUE(
      renders(select(Order.user_id, sum(Order.total).as("spent"))
                  .from(Order)
                  .group_by(Order.user_id, Order.status)
                  .having(count() > 2)
                  .having(sum(Order.total) >= 100.0),
              R"(SELECT "orders"."user_id", sum("orders"."total") AS "spent" FROM "orders" )"
              R"(GROUP BY "orders"."user_id", "orders"."status" HAVING count(*) > $1 AND )"
              R"(sum("orders"."total") >= $2)",
              params(2, 100.0)));
}

TEST(SelectSerialize, OrderBy) {
  EXPECT_TRUE(
      renders(select().from(User).order_by(User.email, User.id.asc(), User.created_at.desc(),
                                           User.status.nulls_first(),
                                           User.status.desc().nulls_last(), count().desc()),
              R"(SELECT * FROM "users" ORDER BY "users"."email", "users"."id" ASC, )"
              R"("users"."created_at" DESC, "users"."status" NULLS FIRST, "users"."status" DESC )"
              R"(NULLS LAST, count(*) DESC)",
              {}));
  EXPECT_THROW(User.id.desc().nulls_first().nulls_last(), UsageError);
}

TEST(SelectSerialize, LimitAndOffsetAreBound) {
  EXPECT_TRUE(renders(select().from(User).limit(10).offset(20),
                      R"(SELECT * FROM "users" LIMIT $1 OFFSET $2)", params(10, 20)));
  EXPECT_THROW(select().from(User).limit(-1), UsageError);
  EXPECT_THROW(select().from(User).offset(-1), UsageError);
}

TEST(SelectSerialize, OffsetWithoutLimit) {
  const auto query = select().from(User).offset(5);
  const Statement pg = query.render(Dialect::postgres);
  EXPECT_EQ(pg.sql, R"(SELECT * FROM "users" OFFSET $1)");
  EXPECT_EQ(pg.params, params(5));
  // SQLite accepts OFFSET only after LIMIT; LIMIT -1 means no limit.
  const Statement lite = query.render(Dialect::sqlite);
  EXPECT_EQ(lite.sql, R"(SELECT * FROM "users" LIMIT ? OFFSET ?)");
  EXPECT_EQ(lite.params, params(-1, 5));
}

TEST(SelectSerialize, InjectionStringStaysABoundValue) {
  const std::string evil = "x'; DROP TABLE users; --";
  const Statement s =
      select(User.id).from(User).where(User.email == evil).render(Dialect::postgres);
  EXPECT_EQ(s.sql, R"(SELECT "users"."id" FROM "users" WHERE "users"."email" = $1)");
  EXPECT_EQ(s.params, params(evil));
  EXPECT_EQ(s.sql.find("DROP"), std::string::npos);
}

TEST(SelectSerialize, ControlCharactersInValuesNeverReachTheText) {
  const std::string value(
      "a\x01"
      "b\0c",
      5);
  const Statement s = select().from(User).where(User.email == value).render(Dialect::postgres);
  EXPECT_EQ(s.sql, R"(SELECT * FROM "users" WHERE "users"."email" = $1)");
  EXPECT_EQ(s.params, params(value));
}

TEST(SelectSerialize, WeirdIdentifiersAreQuoted) {
  EXPECT_TRUE(renders(select(Odd.select, Odd.quoted).from(Odd).where(Odd.quoted == "q"),
                      R"(SELECT "my table"."select", "my table"."say ""hi""" FROM "my table" )"
                      R"(WHERE "my table"."say ""hi""" = $1)",
                      params("q")));
}

TEST(SelectSerialize, BytesCompareWithBytes) {
  const Bytes blob{std::byte{1}, std::byte{0}};
  EXPECT_TRUE(renders(select().from(Odd).where(Odd.blob == blob),
                      R"(SELECT * FROM "my table" WHERE "my table"."blob" = $1)", params(blob)));
}

TEST(SelectSerialize, ComparisonsConvertToStoredExpressions) {
  // A comparison of columns and values is a lazy Comparison; it converts to Expr<bool> for
  // conditions built up at run time.
  Expr<bool> condition = User.id == 1;
  for (const char* email : {"a@x", "b@x"}) condition = condition || User.email == email;
  const Expr<bool> copy = condition;
  EXPECT_TRUE(renders(select().from(User).where(copy),
                      R"(SELECT * FROM "users" WHERE "users"."id" = $1 OR "users"."email" = $2 OR )"
                      R"("users"."email" = $3)",
                      params(1, "a@x", "b@x")));
  const Comparison lazy = Order.user_id == User.id;
  EXPECT_TRUE(renders(select().from(Order).where(lazy).where(lazy),
                      R"(SELECT * FROM "orders" WHERE "orders"."user_id" = "users"."id" AND )"
                      R"("orders"."user_id" = "users"."id")",
                      {}));
}

TEST(SelectSerialize, ClausesInAnyOrderRenderInSqlOrder) {
  auto query = select(User.id);
  query.limit(3).order_by(User.id.desc()).where(User.email == "x").from(User);
  query.where(User.id > 1 || User.id < -1).group_by(User.id).having(count() > 0);
  query.left_join(Order, Order.user_id == User.id && Order.total > 2.5);
  EXPECT_TRUE(
      renders(query,
              R"(SELECT "users"."id" FROM "users" LEFT JOIN "orders" ON "orders"."user_id" = )"
              R"("users"."id" AND "orders"."total" > $1 WHERE "users"."email" = $2 AND )"
              R"(("users"."id" > $3 OR "users"."id" < $4) GROUP BY "users"."id" HAVING )"
              R"(count(*) > $5 ORDER BY "users"."id" DESC LIMIT $6)",
              params(2.5, "x", 1, -1, 0, 3)));
}

TEST(SelectSerialize, TemporaryAndKeptBuildersRenderAlike) {
  // The temporary form reuses the builder's buffers; it must give exactly the same statement.
  const auto make = [](int variant) {
    auto query = select(User.id, User.email).distinct().from(User);
    if (variant > 0) query.where(User.email.like("%x") || User.status.is_null());
    if (variant > 1) query.where(User.id.in({1, 2, 3}));
    if (variant > 2) query.order_by(User.id).offset(2);
    return query;
  };
  for (int variant = 0; variant < 4; ++variant) {
    for (Dialect dialect : {Dialect::postgres, Dialect::sqlite}) {
      const auto kept = make(variant);
      const Statement expected = kept.render(dialect);
      const Statement moved = make(variant).render(dialect);
      EXPECT_EQ(moved.sql, expected.sql);
      EXPECT_EQ(moved.params, expected.params);
    }
  }
}

TEST(SelectSerialize, ManyParametersInATemporary) {
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < 40; ++i) ids.push_back(i);
  const Statement s =
      select(User.id).from(User).where(User.id.in(ids)).limit(1).render(Dialect::postgres);
  EXPECT_NE(s.sql.find("$40)"), std::string::npos);
  EXPECT_NE(s.sql.find("LIMIT $41"), std::string::npos);
  ASSERT_EQ(s.params.size(), 41u);
  EXPECT_EQ(s.params[39], Value(39));
  EXPECT_EQ(s.params[40], Value(1));
}

TEST(SelectSerialize, ManyParametersAreNumberedInOrder) {
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < 12; ++i) ids.push_back(i);
  const Statement s = select().from(User).where(User.id.in(ids)).render(Dialect::postgres);
  EXPECT_EQ(s.sql,
            R"(SELECT * FROM "users" WHERE "users"."id" IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, )"
            R"($10, $11, $12))");
  ASSERT_EQ(s.params.size(), 12u);
  EXPECT_EQ(s.params[11], Value(11));
}

}  // namespace
}  // namespace nexdb::test
