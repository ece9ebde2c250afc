// The demo's monitoring step: the seed query measured per fingerprint, a slow report that fires
// an alert, the alert resolving, and a few of the Prometheus lines `nexdb serve` would export.
#include <fmt/format.h>

#include "demo_models.hpp"
#include "demo_step.hpp"
#include "nexdb/monitor.hpp"
#include "nexdb/sql_text.hpp"

namespace nexdb::cli {
namespace {

// Slow on purpose: SQLite counts half a million rows; PostgreSQL sleeps.
std::string_view slow_report(Dialect dialect) {
  return dialect == Dialect::postgres
             ? "SELECT pg_sleep(0.2)"
             : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000) "
               "SELECT count(*) FROM c";
}

// The seed query's series (found by its normalised text) and the pool's and host's gauges.
Json interesting_lines(const std::string& exposition, const std::string& fingerprint) {
  Json lines = Json::array();
  const auto mentions_seed = [&](const std::string& line) {
    return !fingerprint.empty() && line.find(fingerprint) != std::string::npos;
  };
  for (std::size_t start = 0, end; start < exposition.size(); start = end + 1) {
    end = exposition.find('\n', start);
    const std::string line = exposition.substr(start, end - start);
    const bool seed = (line.starts_with("nexdb_query_duration_seconds_count") ||
                       line.starts_with("nexdb_query_duration_seconds_sum") ||
                       line.starts_with("nexdb_query_shape{")) &&
                      mentions_seed(line);
    if (seed || line.starts_with("nexdb_pool_connections{") || line.starts_with("nexdb_up{")) {
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace

void demo_monitoring(DemoContext& demo) {
  demo.heading("Monitoring: Prometheus metrics and an alert that fires and resolves");
  metrics::Registry registry;
  Json alerts = Json::array();
  auto on_alert = [&](const Alert& a) {
    const bool firing = a.state == AlertState::firing;
    demo.line(
        fmt::format("    {} {}: {}",
                    firing ? demo.term.red("alert firing:  ") : demo.term.green("alert resolved:"),
                    a.name, a.summary));
    alerts.push_back({{"name", a.name}, {"state", to_string(a.state)}, {"summary", a.summary}});
  };
  DBMonitor monitor(demo.db, {.alert_thresholds = {{"query_duration", 50}},
                              .sinks = {callback_sink(on_alert)},
                              .registry = &registry,
                              .background = false});
  monitor.sample();
  for (std::int64_t user = 1; user <= 50; ++user) (void)demo.db.execute(get_user_orders(user));
  demo.line(
      "    50 x get_user_orders, then a slow report; an alert when a statement takes > 50 ms:");
  (void)demo.db.execute(slow_report(demo.db.dialect()));
  monitor.sample();  // the report was slow: fires
  monitor.wait_for_notifications();
  monitor.sample();  // nothing slow since: resolves
  monitor.wait_for_notifications();
  std::string fingerprint;
  const std::string seed = sql::normalize_any(get_user_orders(1).render(demo.db.dialect()).sql);
  for (const StatementSnapshot& st : monitor.snapshot().statements) {
    if (st.query == seed) fingerprint = st.id;
  }
  const Json lines = interesting_lines(registry.expose(), fingerprint);
  demo.line(
      "    a few of the metrics (`nexdb serve` serves them at http://127.0.0.1:9477/metrics):");
  for (const auto& line : lines) demo.line("      " + demo.term.dim(line.get<std::string>()));
  demo.report["monitoring"] = {
      {"metrics", lines}, {"alerts", alerts}, {"seed_query_fingerprint", fingerprint}};
}

}  // namespace nexdb::cli
