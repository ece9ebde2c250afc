// Prepared builder queries: a query prepared once and bound with arguments must render exactly
// what building it with those values renders. No database involved.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "models.hpp"
#include "nexdb/error.hpp"
#include "render_helpers.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

/// The bound prepared query and the query built directly with the same values must give the
/// same text and values in both dialects.
template <class Prepared, class Built>
void expect_same(const Prepared& bound, const Built& built) {
  for (Dialect dialect : {Dialect::postgres, Dialect::sqlite}) {
    const Statement expected = built.render(dialect);
    const Statement actual = bound.render(dialect);
    EXPECT_EQ(actual.sql, expected.sql) << to_string(dialect);
    EXPECT_EQ(actual.params, expected.params) << to_string(dialect);
    // Into a Statement still holding an earlier, longer statement (what execute() reuses).
    Statement reused{std::string(300, 'x'), std::vector<Value>(7, Value("stale"))};
    auto copy = bound;
    std::move(copy).render_into(reused, dialect);
    EXPECT_EQ(reused.sql, expected.sql) << to_string(dialect);
    EXPECT_EQ(reused.params, expected.params) << to_string(dialect);
  }
}

SelectQuery user_orders_since(auto user_id, auto since) {
  return select(Order.id, Order.total)
      .from(Order)
      .where(Order.user_id == user_id && Order.created_at >= since)
      .order_by(Order.created_at.desc())
      .limit(10);
}

TEST(PreparedQuery, SeedQueryBindsLikeTheBuiltQuery) {
  const auto prepared = prepare<std::int64_t>([](auto id) { return get_user_orders_of(id); });
  EXPECT_EQ(prepared.sql(Dialect::postgres), get_user_orders(1).render(Dialect::postgres).sql);
  for (std::int64_t id : {1, 42, -7}) expect_same(prepared(id), get_user_orders(id));
}

TEST(PreparedQuery, SeveralArgumentsInTheirPlaces) {
  const Timestamp day{std::chrono::sys_days{std::chrono::March / 3 / 2026}};
  const auto prepared = prepare<std::int64_t, Timestamp>(
      [](auto user_id, auto since) { return user_orders_since(user_id, since); });
  expect_same(prepared(5, day), user_orders_since(std::int64_t{5}, day));
  expect_same(prepared(6, day + 1h), user_orders_since(std::int64_t{6}, day + 1h));
}

TEST(PreparedQuery, ClausesGivenOutOfOrder) {
  // where() before select items and from(): the renderer reorders values; slots must follow.
  const auto make = [](auto status, auto minimum) {
    auto q = select(Order.id).where(Order.status == status);
    q.from(Order).where(Order.total > minimum).order_by(Order.id);
    return q;
  };
  const auto prepared = prepare<std::string, double>(make);
  expect_same(prepared("paid", 9.5), make(std::string("paid"), 9.5));
}

TEST(PreparedQuery, OneArgumentUsedTwice) {
  const auto make = [](auto word) {
    return select(User.id).from(User).where(User.email == word || User.status == word);
  };
  const auto prepared = prepare<std::string>(make);
  const auto bound = prepared("ada");
  expect_same(bound, make(std::string("ada")));
  const Statement s = bound.render(Dialect::postgres);
  ASSERT_EQ(s.params.size(), 2u);
  EXPECT_EQ(s.params[0], Value("ada"));
  EXPECT_EQ(s.params[1], Value("ada"));
}

TEST(PreparedQuery, InLikeBetweenAndConstants) {
  const auto make = [](auto a, auto b, auto pattern, auto low, auto high) {
    return select(User.id)
        .from(User)
        .where(User.id.in({a, b}) && User.email.like(pattern) &&
               User.created_at.between(low, high) && User.status != "banned")
        .limit(3);
  };
  const Timestamp t0{std::chrono::sys_days{std::chrono::January / 1 / 2026}};
  const auto prepared =
      prepare<std::int64_t, std::int64_t, std::string, Timestamp, Timestamp>(make);
  expect_same(prepared(1, 2, "%@x", t0, t0 + 24h),
              make(std::int64_t{1}, std::int64_t{2}, std::string("%@x"), t0, t0 + 24h));
}

TEST(PreparedQuery, RealArgumentAgainstIntegerColumnIsCast) {
  const auto prepared =
      prepare<double>([](auto x) { return select(User.id).from(User).where(User.id < x); });
  const Statement s = prepared(2.5).render(Dialect::postgres);
  EXPECT_EQ(
      s.sql,
      R"(SELECT "users"."id" FROM "users" WHERE "users"."id" < CAST($1 AS DOUBLE PRECISION))");
  EXPECT_EQ(s.params, params(2.5));
}

TEST(PreparedQuery, InsertUpdateDelete) {
  const Timestamp t0{std::chrono::sys_days{std::chrono::January / 1 / 2026}};
  const auto add = [](auto email, auto status, auto at) {
    return insert_into(User)
        .set(User.email = email, User.status = status, User.created_at = at)
        .returning(User.id);
  };
  const auto prepared_add = prepare<std::string, std::optional<std::string>, Timestamp>(add);
  expect_same(prepared_add("a@x", std::nullopt, t0),
              add(std::string("a@x"), std::optional<std::string>(), t0));
  expect_same(prepared_add("b@x", "new", t0),
              add(std::string("b@x"), std::optional<std::string>("new"), t0));

  const auto rows = [](auto a, auto b) {
    return insert_into(Order).columns(Order.user_id, Order.status).values(a, "x").values(b, "y");
  };
  expect_same(prepare<std::int64_t, std::int64_t>(rows)(3, 4),
              rows(std::int64_t{3}, std::int64_t{4}));

  const auto reprice = [](auto factor, auto id) {
    return update(Order).set(Order.total = Order.total * factor).where(Order.id == id);
  };
  expect_same(prepare<double, std::int64_t>(reprice)(1.5, 9), reprice(1.5, std::int64_t{9}));

  const auto remove = [](auto id) {
    return delete_from(User).where(User.id == id).returning(User.email);
  };
  expect_same(prepare<std::int64_t>(remove)(11), remove(std::int64_t{11}));
}

TEST(PreparedQuery, BindingKeepsThePreparedQueryAndBoundArgumentsIntact) {
  const auto prepared = prepare<std::string>(
      [](auto e) { return select(User.id).from(User).where(User.email == e); });
  const auto bound = prepared(std::string(40, 'a'));  // long enough to live on the heap
  const Statement first = bound.render(Dialect::postgres);
  const Statement second = bound.render(Dialect::sqlite);  // const& render copies the arguments
  EXPECT_EQ(first.params, params(std::string(40, 'a')));
  EXPECT_EQ(second.params, params(std::string(40, 'a')));
  EXPECT_EQ(prepared("b").render(Dialect::postgres).params, params("b"));
}

TEST(PreparedQuery, UnusedArgumentIsAUsageError) {
  const auto make = [](auto id, auto) { return select(User.id).from(User).where(User.id == id); };
  try {
    prepare<std::int64_t, std::string>(make);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("argument 1"), std::string::npos) << e.what();
  }
}

TEST(PreparedQuery, OrdinaryBytesValuesAreNotMistakenForArguments) {
  const Bytes blob(20, std::byte{0});  // the size of an argument's marker
  const auto make = [&](auto id) {
    return select(Odd.blob).from(Odd).where(Odd.blob == blob && Odd.select == id);
  };
  const auto prepared = prepare<std::int64_t>(make);
  expect_same(prepared(8), make(std::int64_t{8}));
}

TEST(PreparedQuery, UsableFromManyThreads) {
  const auto prepared = prepare<std::int64_t>([](auto id) { return get_user_orders_of(id); });
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t i = 0; i < 2000; ++i) {
        const Statement s = prepared(t * 10000 + i).render(Dialect::postgres);
        if (s.params != params(t * 10000 + i, 100)) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace nexdb::test
