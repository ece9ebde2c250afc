// Query builder cost: building and rendering the seed's get_user_orders query, against
// fmt::format producing the same SQL text with the same number of substitutions (the floor
// for any code that produces this string at run time). Goal: build + render <= 3x fmt::format.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nexdb/query.hpp"
#include "ratio_main.hpp"

namespace {

using namespace nexdb;

struct Users : Table<Users> {
  static constexpr std::string_view table_name = "users";
  Column<std::int64_t> id{this, "id"};
  Column<std::string> email{this, "email"};
  Column<std::optional<std::string>> status{this, "status"};
  Column<Timestamp> created_at{this, "created_at"};
};
const Users User;

struct Orders : Table<Orders> {
  static constexpr std::string_view table_name = "orders";
  Column<std::int64_t> id{this, "id"};
  Column<std::int64_t> user_id{this, "user_id"};
  Column<std::string> status{this, "status"};
  Column<double> total{this, "total"};
  Column<Timestamp> created_at{this, "created_at"};
};
const Orders Order;

SelectQuery get_user_orders(std::int64_t user_id) {
  return select(Order.id, Order.status, Order.total)
      .from(Order)
      .join(User, Order.user_id == User.id)
      .where(User.id == user_id)
      .order_by(Order.created_at.desc())
      .limit(100);
}

void BM_render_seed_query_postgres(benchmark::State& state) {
  std::int64_t user_id = 0;
  for (auto _ : state) {
    Statement statement = get_user_orders(++user_id).render(Dialect::postgres);
    benchmark::DoNotOptimize(statement);
  }
}
BENCHMARK(BM_render_seed_query_postgres);

void BM_render_seed_query_sqlite(benchmark::State& state) {
  std::int64_t user_id = 0;
  for (auto _ : state) {
    Statement statement = get_user_orders(++user_id).render(Dialect::sqlite);
    benchmark::DoNotOptimize(statement);
  }
}
BENCHMARK(BM_render_seed_query_sqlite);

void BM_render_prebuilt_seed_query(benchmark::State& state) {
  const SelectQuery query = get_user_orders(42);
  for (auto _ : state) {
    Statement statement = query.render(Dialect::postgres);
    benchmark::DoNotOptimize(statement);
  }
}
BENCHMARK(BM_render_prebuilt_seed_query);

void BM_fmt_format_seed_sql(benchmark::State& state) {
  std::int64_t user_id = 0;
  for (auto _ : state) {
    std::string sql = fmt::format(
        FMT_STRING(R"(SELECT "orders"."id", "orders"."status", "orders"."total" FROM "orders" )"
                   R"(JOIN "users" ON "orders"."user_id" = "users"."id" WHERE "users"."id" = ${} )"
                   R"(ORDER BY "orders"."created_at" DESC LIMIT ${})"),
        ++user_id, 100);
    benchmark::DoNotOptimize(sql);
  }
}
BENCHMARK(BM_fmt_format_seed_sql);

}  // namespace

NEXDB_BENCHMARK_MAIN({{"BM_render_seed_query_postgres", "BM_fmt_format_seed_sql"},
                      {"BM_render_seed_query_sqlite", "BM_fmt_format_seed_sql"},
                      {"BM_render_prebuilt_seed_query", "BM_fmt_format_seed_sql"}})
