// The demo's first steps: the seed's world (migrations, sample data, get_user_orders, an
// aggregate, a failing transaction) on the demo database.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "demo_models.hpp"
#include "demo_step.hpp"
#include "nexdb/migrate.hpp"
#include "seed_migrations.hpp"

namespace nexdb::cli {
namespace {

using namespace std::chrono;

constexpr std::size_t kBatch = 500;

// The demo owns these tables: each run starts from an empty schema and migrates it.
constexpr std::string_view kReset =
    "DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS "
    "nexdb_schema_history; DROP TABLE IF EXISTS orders_archive; DROP TABLE IF EXISTS "
    "nexdb_archive_checkpoint";

/// Writes the seed's migrations (built into the binary) to `folder`.
void write_seed_migrations(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  for (const auto& [name, text] : seed_migrations) {
    std::ofstream(folder / std::string(name), std::ios::trunc) << text;
  }
}

void insert_users(Transaction& tx, const DemoOptions& options, Timestamp base, ProgressBar& bar,
                  bool text) {
  for (std::size_t first = 0; first < options.users; first += kBatch) {
    auto insert = insert_into(User).columns(User.email, User.status, User.created_at);
    const std::size_t last = std::min(options.users, first + kBatch);
    for (std::size_t i = first; i < last; ++i) {
      insert.values(fmt::format("user{}@example.com", i + 1), i % 10 == 0 ? "inactive" : "active",
                    base + hours(i));
    }
    tx.execute(insert);
    if (text) bar.advance(last - first);
  }
}

void insert_orders(Transaction& tx, const DemoOptions& options, Timestamp base, ProgressBar& bar,
                   bool text) {
  static constexpr const char* statuses[] = {"new", "paid", "shipped", "delivered"};
  std::mt19937_64 random(42);
  for (std::size_t first = 0; first < options.orders; first += kBatch) {
    auto insert =
        insert_into(Order).columns(Order.user_id, Order.status, Order.total, Order.created_at);
    const std::size_t last = std::min(options.orders, first + kBatch);
    for (std::size_t i = first; i < last; ++i) {
      const auto user = static_cast<std::int64_t>(random() % options.users) + 1;
      const double total = static_cast<double>(random() % 100000) / 100.0;
      insert.values(user, statuses[random() % 4], total, base + minutes(static_cast<int>(i) * 7));
    }
    tx.execute(insert);
    if (text) bar.advance(last - first);
  }
}

}  // namespace

void demo_migrations(DemoContext& demo) {
  demo.heading(
      fmt::format("Opening {} and migrating it with the seed's migrations", demo.db.description()));
  demo.db.transaction([&](Transaction& tx) { tx.connection().execute_script(kReset); });
  const auto folder = std::filesystem::path("nexdb-data") / "seed-migrations";
  write_seed_migrations(folder);
  MigrationManager migrations(demo.db);
  migrations.load(folder);
  const RunReport report = migrations.migrate();
  Json steps = Json::array();
  for (const MigrationStep& s : report.steps) {
    demo.line(fmt::format("    {} {:<20} {} ms  ({})", demo.term.green("applied"),
                          s.version + " " + s.description, s.duration.count(), s.script));
    steps.push_back({{"version", s.version}, {"description", s.description}});
  }
  demo.line(fmt::format(
      "    schema at version {}; history in nexdb_schema_history (`nexdb migrate status`)",
      report.version_after.value_or("none")));
  demo.report["database"] = demo.db.description();
  demo.report["dialect"] = to_string(demo.db.dialect());
  demo.report["migrations"] = steps;
  demo.report["schema_version"] = report.version_after.value_or("");
}

void demo_sample_data(DemoContext& demo) {
  demo.heading("Inserting sample data (multi-row INSERTs, values bound, one transaction)");
  const auto start = steady_clock::now();
  const Timestamp base = time_point_cast<microseconds>(sys_days(2026y / January / 1) + 9h);
  const DemoOptions& options = demo.options;
  ProgressBar bar(demo.term, "users + orders", options.users + options.orders);
  demo.db.transaction([&](Transaction& tx) {
    insert_users(tx, options, base, bar, demo.text());
    insert_orders(tx, options, base, bar, demo.text());
  });
  if (demo.text()) bar.finish();
  const auto ms = duration_cast<milliseconds>(steady_clock::now() - start).count();
  demo.line(fmt::format("    {} users and {} orders in {} ms", options.users, options.orders, ms));
  demo.report["inserted"] = {{"users", options.users}, {"orders", options.orders}, {"ms", ms}};
}

void demo_seed_query(DemoContext& demo) {
  demo.heading("The seed's get_user_orders(42), rendered for this dialect");
  const auto query = get_user_orders(42);
  const Statement statement = query.render(demo.db.dialect());
  const auto start = steady_clock::now();
  const Rows rows = demo.db.execute(query);
  const auto us = duration_cast<microseconds>(steady_clock::now() - start).count();
  std::vector<std::vector<std::string>> shown;
  Json json_rows = Json::array();
  for (Row row : rows) {
    const auto id = row.get<std::int64_t>("id");
    const auto status = row.get<std::string>("status");
    const auto total = row.get<double>("total");
    if (shown.size() < 5)
      shown.push_back({std::to_string(id), status, fmt::format("{:.2f}", total)});
    json_rows.push_back({{"id", id}, {"status", status}, {"total", total}});
  }
  if (demo.text()) {
    demo.line("    " + demo.term.green(statement.sql));
    std::vector<std::string> params;
    for (const Value& v : statement.params) params.push_back(v.to_display_string());
    demo.line(fmt::format("    bound parameters: {}", fmt::join(params, ", ")));
    demo.line(fmt::format("    {} rows in {} us; the newest five:", rows.size(), us));
    demo.term.table({"id", "status", "total"}, shown);
  }
  demo.report["seed_query"] = {
      {"sql", statement.sql}, {"rows", json_rows.size()}, {"first_rows", json_rows}};
}

void demo_aggregate(DemoContext& demo) {
  demo.heading("Revenue by order status (group by, aggregates, aliases)");
  const auto query = select(Order.status, count().as("orders"), sum(Order.total).as("revenue"))
                         .from(Order)
                         .group_by(Order.status)
                         .having(count() > 0)
                         .order_by(Order.status.asc());
  const Rows rows = demo.db.execute(query);
  std::vector<std::vector<std::string>> shown;
  Json json = Json::object();
  for (Row row : rows) {
    const auto status = row.get<std::string>("status");
    shown.push_back({status, std::to_string(row.get<std::int64_t>("orders")),
                     fmt::format("{:.2f}", row.get<double>("revenue"))});
    json[status] = row.get<std::int64_t>("orders");
  }
  if (demo.text()) demo.term.table({"status", "orders", "revenue"}, shown);
  demo.report["orders_by_status"] = json;
}

void demo_failing_transaction(DemoContext& demo) {
  demo.heading("A failing transaction changes nothing");
  Database& db = demo.db;
  const auto before = db.execute(select(count()).from(User)).scalar<std::int64_t>();
  std::string error;
  try {
    db.transaction([&](Transaction& tx) {
      tx.execute(insert_into(User).set(User.email = "new@example.com", User.status = "active"));
      tx.execute(insert_into(User).set(User.email = "user1@example.com", User.status = "active"));
    });
  } catch (const UniqueViolation& e) {
    error = e.what();
  }
  const auto after = db.execute(select(count()).from(User)).scalar<std::int64_t>();
  demo.line("    insert new@example.com, then a duplicate user1@example.com in one transaction:");
  demo.line("    " + demo.term.red("UniqueViolation: ") + error);
  demo.line(fmt::format("    users before: {}, after: {} (the first insert was rolled back too)",
                        before, after));
  demo.report["failing_transaction"] = {
      {"error", error}, {"users_before", before}, {"users_after", after}};
}

}  // namespace nexdb::cli
