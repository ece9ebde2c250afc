#include "demo.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "demo_models.hpp"
#include "nexdb/migrate.hpp"
#include "nexdb/monitor.hpp"
#include "nexdb/replica.hpp"
#include "nexdb/sql_text.hpp"
#include "seed_migrations.hpp"

namespace nexdb::cli {
namespace {

using namespace std::chrono;
using Json = nlohmann::ordered_json;

constexpr std::size_t kBatch = 500;

// The demo owns these tables: each run starts from an empty schema and migrates it.
constexpr std::string_view kReset =
    "DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS nexdb_schema_history";

/// Writes the seed's migrations (built into the binary) to `folder`.
void write_seed_migrations(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  for (const auto& [name, text] : seed_migrations) {
    std::ofstream(folder / std::string(name), std::ios::trunc) << text;
  }
}

// The seed's query, nearly verbatim.
auto get_user_orders(std::int64_t user_id) {
  return select(Order.id, Order.status, Order.total)
      .from(Order)
      .join(User, Order.user_id == User.id)
      .where(User.id == user_id)
      .order_by(Order.created_at.desc())
      .limit(100);
}

class Demo {
 public:
  Demo(Database db, DemoOptions options) : db_(std::move(db)), options_(options) {}

  void run() {
    create_schema();
    insert_sample_data();
    run_seed_query();
    aggregate();
    failing_transaction();
    if (options_.postgres) replicas();
    monitoring();
    pool_report();
  }
  const Json& report() const { return report_; }

 private:
  bool text() const { return options_.format == Format::text; }
  int steps() const { return options_.postgres ? 8 : 7; }
  void step(int n, std::string_view title) {
    if (text()) term_.step(n, steps(), title);
  }

  void create_schema() {
    step(1, fmt::format("Opening {} and migrating it with the seed's migrations", db_.description()));
    db_.transaction([&](Transaction& tx) { tx.connection().execute_script(kReset); });
    const auto folder = std::filesystem::path("nexdb-data") / "seed-migrations";
    write_seed_migrations(folder);
    MigrationManager migrations(db_);
    migrations.load(folder);
    const RunReport report = migrations.migrate();
    Json steps = Json::array();
    for (const MigrationStep& s : report.steps) {
      if (text()) term_.line(fmt::format("    {} {:<20} {} ms  ({})", term_.green("applied"), s.version + " " + s.description,
                                         s.duration.count(), s.script));
      steps.push_back({{"version", s.version}, {"description", s.description}});
    }
    if (text()) {
      term_.line(fmt::format("    schema at version {}; history in nexdb_schema_history (`nexdb migrate status`)",
                             report.version_after.value_or("none")));
    }
    report_["database"] = db_.description();
    report_["dialect"] = to_string(db_.dialect());
    report_["migrations"] = steps;
    report_["schema_version"] = report.version_after.value_or("");
  }

  void insert_sample_data() {
    step(2, "Inserting sample data (multi-row INSERTs, values bound, one transaction)");
    const auto start = steady_clock::now();
    std::mt19937_64 random(42);
    const Timestamp base = time_point_cast<microseconds>(sys_days(2026y / January / 1) + 9h);
    ProgressBar bar(term_, "users + orders", options_.users + options_.orders);
    db_.transaction([&](Transaction& tx) {
      for (std::size_t first = 0; first < options_.users; first += kBatch) {
        auto insert = insert_into(User).columns(User.email, User.status, User.created_at);
        const std::size_t last = std::min(options_.users, first + kBatch);
        for (std::size_t i = first; i < last; ++i) {
          insert.values(fmt::format("user{}@example.com", i + 1), i % 10 == 0 ? "inactive" : "active",
                        base + hours(i));
        }
        tx.execute(insert);
        if (text()) bar.advance(last - first);
      }
      static constexpr const char* statuses[] = {"new", "paid", "shipped", "delivered"};
      for (std::size_t first = 0; first < options_.orders; first += kBatch) {
        auto insert = insert_into(Order).columns(Order.user_id, Order.status, Order.total, Order.created_at);
        const std::size_t last = std::min(options_.orders, first + kBatch);
        for (std::size_t i = first; i < last; ++i) {
          const auto user = static_cast<std::int64_t>(random() % options_.users) + 1;
          const double total = static_cast<double>(random() % 100000) / 100.0;
          insert.values(user, statuses[random() % 4], total, base + minutes(static_cast<int>(i) * 7));
        }
        tx.execute(insert);
        if (text()) bar.advance(last - first);
      }
    });
    if (text()) bar.finish();
    const auto ms = duration_cast<milliseconds>(steady_clock::now() - start).count();
    if (text()) term_.line(fmt::format("    {} users and {} orders in {} ms", options_.users, options_.orders, ms));
    report_["inserted"] = {{"users", options_.users}, {"orders", options_.orders}, {"ms", ms}};
  }

  void run_seed_query() {
    step(3, "The seed's get_user_orders(42), rendered for this dialect");
    const auto query = get_user_orders(42);
    const Statement statement = query.render(db_.dialect());
    const auto start = steady_clock::now();
    const Rows rows = db_.execute(query);
    const auto us = duration_cast<microseconds>(steady_clock::now() - start).count();
    std::vector<std::vector<std::string>> shown;
    Json json_rows = Json::array();
    for (Row row : rows) {
      const auto id = row.get<std::int64_t>("id");
      const auto status = row.get<std::string>("status");
      const auto total = row.get<double>("total");
      if (shown.size() < 5) shown.push_back({std::to_string(id), status, fmt::format("{:.2f}", total)});
      json_rows.push_back({{"id", id}, {"status", status}, {"total", total}});
    }
    if (text()) {
      term_.line("    " + term_.green(statement.sql));
      std::vector<std::string> params;
      for (const Value& v : statement.params) params.push_back(v.to_display_string());
      term_.line(fmt::format("    bound parameters: {}", fmt::join(params, ", ")));
      term_.line(fmt::format("    {} rows in {} us; the newest five:", rows.size(), us));
      term_.table({"id", "status", "total"}, shown);
    }
    report_["seed_query"] = {{"sql", statement.sql}, {"rows", json_rows.size()}, {"first_rows", json_rows}};
  }

  void aggregate() {
    step(4, "Revenue by order status (group by, aggregates, aliases)");
    const auto query = select(Order.status, count().as("orders"), sum(Order.total).as("revenue"))
                           .from(Order)
                           .group_by(Order.status)
                           .having(count() > 0)
                           .order_by(Order.status.asc());
    const Rows rows = db_.execute(query);
    std::vector<std::vector<std::string>> shown;
    Json json = Json::object();
    for (Row row : rows) {
      const auto status = row.get<std::string>("status");
      shown.push_back({status, std::to_string(row.get<std::int64_t>("orders")),
                       fmt::format("{:.2f}", row.get<double>("revenue"))});
      json[status] = row.get<std::int64_t>("orders");
    }
    if (text()) term_.table({"status", "orders", "revenue"}, shown);
    report_["orders_by_status"] = json;
  }

  void failing_transaction() {
    step(5, "A failing transaction changes nothing");
    const auto before = db_.execute(select(count()).from(User)).scalar<std::int64_t>();
    std::string error;
    try {
      db_.transaction([&](Transaction& tx) {
        tx.execute(insert_into(User).set(User.email = "new@example.com", User.status = "active"));
        tx.execute(insert_into(User).set(User.email = "user1@example.com", User.status = "active"));
      });
    } catch (const UniqueViolation& e) {
      error = e.what();
    }
    const auto after = db_.execute(select(count()).from(User)).scalar<std::int64_t>();
    if (text()) {
      term_.line("    insert new@example.com, then a duplicate user1@example.com in one transaction:");
      term_.line("    " + term_.red("UniqueViolation: ") + error);
      term_.line(fmt::format("    users before: {}, after: {} (the first insert was rolled back too)", before, after));
    }
    report_["failing_transaction"] = {{"error", error}, {"users_before", before}, {"users_after", after}};
  }

  void replicas() {
    step(6, "Reads spread over the streaming replicas; a session reads its own write");
    ReplicaManager replicas({.primary = local_cluster_uri(), .replicas = local_replica_uris(),
                             .read_preference = ReadPreference::replica});
    replicas.refresh();
    for (std::size_t i = 0; i < 300; ++i) {
      const auto id = static_cast<std::int64_t>(i % options_.users) + 1;
      (void)replicas.execute(select(User.email).from(User).where(User.id == id));
    }
    Json hosts = Json::array();
    std::vector<std::vector<std::string>> rows;
    for (const HostStats& h : replicas.hosts()) {
      rows.push_back({h.host, std::string(to_string(h.role)), std::to_string(h.reads), std::to_string(h.writes)});
      hosts.push_back({{"host", h.host}, {"role", to_string(h.role)}, {"reads", h.reads}});
    }
    Session session = replicas.session();
    session.write(update(User).set(User.status = "vip").where(User.id == 42));
    const Rows read = session.read(select(User.status).from(User).where(User.id == 42));
    const auto status = read[0].get<std::optional<std::string>>("status").value_or("NULL");
    if (text()) {
      term_.line("    300 reads with read preference `replica`:");
      term_.table({"host", "role", "reads", "writes"}, rows);
      term_.line(fmt::format("    session: UPDATE users SET status = 'vip' WHERE id = 42, then a read in the same "
                             "session sees status = '{}' (consistency token {})", status, session.token().to_string()));
    }
    report_["replicas"] = {{"hosts", hosts}, {"read_your_writes", status}, {"token", session.token().to_string()}};
  }

  // A slow report on purpose: SQLite counts half a million rows; PostgreSQL sleeps.
  std::string_view slow_report() const {
    return db_.dialect() == Dialect::postgres
               ? "SELECT pg_sleep(0.2)"
               : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000) "
                 "SELECT count(*) FROM c";
  }

  void monitoring() {
    step(steps() - 1, "Monitoring: Prometheus metrics and an alert that fires and resolves");
    metrics::Registry registry;
    Json alerts = Json::array();
    auto on_alert = [&](const Alert& a) {
      if (text()) {
        term_.line(fmt::format("    {} {}: {}", a.state == AlertState::firing ? term_.red("alert firing:  ")
                                                                               : term_.green("alert resolved:"),
                               a.name, a.summary));
      }
      alerts.push_back({{"name", a.name}, {"state", to_string(a.state)}, {"summary", a.summary}});
    };
    DBMonitor monitor(db_, {.alert_thresholds = {{"query_duration", 50}},
                            .sinks = {callback_sink(on_alert)},
                            .registry = &registry,
                            .background = false});
    monitor.sample();
    for (std::int64_t user = 1; user <= 50; ++user) (void)db_.execute(get_user_orders(user));
    if (text()) term_.line("    50 x get_user_orders, then a slow report; alert when a statement takes > 50 ms:");
    (void)db_.execute(slow_report());
    monitor.sample();  // the report was slow: fires
    monitor.wait_for_notifications();
    monitor.sample();  // nothing slow since: resolves
    monitor.wait_for_notifications();
    // The seed query's series, found by its normalised text, and the pool's and host's gauges.
    std::string fingerprint;
    const std::string seed = sql::normalize_any(get_user_orders(1).render(db_.dialect()).sql);
    for (const StatementSnapshot& st : monitor.snapshot().statements) {
      if (st.query == seed) fingerprint = st.id;
    }
    Json lines = Json::array();
    const std::string exposition = registry.expose();
    for (std::size_t start = 0, end; start < exposition.size(); start = end + 1) {
      end = exposition.find('\n', start);
      const std::string line = exposition.substr(start, end - start);
      const bool seed_line = line.starts_with("nexdb_query_duration_seconds_") && line.find("_bucket") == std::string::npos &&
                             !fingerprint.empty() && line.find(fingerprint) != std::string::npos;
      const bool shape_line = line.starts_with("nexdb_query_shape{") && !fingerprint.empty() &&
                              line.find(fingerprint) != std::string::npos;
      if (seed_line || shape_line || line.starts_with("nexdb_pool_connections{") || line.starts_with("nexdb_up{")) {
        lines.push_back(line);
      }
    }
    if (text()) {
      term_.line("    a few of the metrics (`nexdb serve` serves them at http://127.0.0.1:9477/metrics):");
      for (const auto& line : lines) term_.line("      " + term_.dim(line.get<std::string>()));
    }
    report_["monitoring"] = {{"metrics", lines}, {"alerts", alerts}, {"seed_query_fingerprint", fingerprint}};
  }

  void pool_report() {
    step(steps(), "Connection pool");
    const PoolStats s = db_.pool().stats();
    if (text()) {
      term_.line(fmt::format("    {} connections open ({} idle, {} active), {} leases served, {} created, "
                             "{} timeouts", s.total, s.idle, s.active, s.acquired, s.created, s.timeouts));
      term_.line("\n" + term_.bold("Done.") +
                 (options_.postgres ? " The tables stay in the local cluster for you to explore with psql."
                                    : " Next: `nexdb demo --postgres` runs the same on the local PostgreSQL "
                                      "cluster (scripts/pg-cluster start)."));
    }
    report_["pool"] = {{"total", s.total}, {"idle", s.idle}, {"acquired", s.acquired}, {"created", s.created}};
  }

  Database db_;
  DemoOptions options_;
  Terminal term_;
  Json report_;
};

}  // namespace

std::vector<std::string> local_replica_uris() {
  std::vector<std::string> uris;
  for (const char* name : {"NEXDB_PG_REPLICA1", "NEXDB_PG_REPLICA2"}) {
    const char* uri = std::getenv(name);
    if (uri != nullptr && *uri != '\0') uris.emplace_back(uri);
  }
  if (!uris.empty()) return uris;
  const char* port_text = std::getenv("NEXDB_PG_PORT");
  const int port = port_text != nullptr && *port_text != '\0' ? std::atoi(port_text) : 54320;
  for (int i = 1; i <= 2; ++i) uris.push_back(fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", port + i));
  return uris;
}

std::string local_cluster_uri() {
  // Set-but-empty counts as unset, so `NEXDB_PG_PRIMARY= nexdb demo --postgres` falls back.
  const char* uri = std::getenv("NEXDB_PG_PRIMARY");
  if (uri != nullptr && *uri != '\0') return uri;
  const char* port = std::getenv("NEXDB_PG_PORT");
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", port != nullptr && *port != '\0' ? port : "54320");
}

int run_demo(const DemoOptions& options) {
  DatabaseSettings settings;
  settings.connection.uri = options.postgres ? local_cluster_uri() : std::string(default_database_uri);
  settings.connection.connect_timeout = seconds(3);
  Demo demo(Database::open(std::move(settings)), options);
  try {
    demo.run();
  } catch (const ConnectionError& e) {
    if (options.postgres) {
      throw ConnectionError(std::string(e.message()) + ". Start the local cluster first: scripts/pg-cluster start",
                            {.host = e.host()});
    }
    throw;
  }
  if (options.format == Format::json) fmt::print("{}\n", demo.report().dump(2));
  return 0;
}

}  // namespace nexdb::cli
