// The seed's monitoring snippet, working: a DBMonitor watching a database with its alert
// thresholds, a MetricsCollector serving Prometheus metrics with constant labels, and an alert
// that fires on a slow statement and resolves.
//   example_monitoring [URI]   (default sqlite::memory:)
#include <nexdb/monitor.hpp>
#include <nexdb/nexdb.hpp>

#include <iostream>

using namespace nexdb;

int main(int argc, char** argv) {
  auto db = Database::open(argc > 1 ? argv[1] : "sqlite::memory:");
  DBMonitor monitor{
      db,
      {.watch_metrics = {"query_duration", "connection_count", "cache_hit_ratio", "deadlock_count"},
       .alert_thresholds = {{"query_duration", 20},
                            {"connection_count", 100},
                            {"deadlock_count", 5}},
       .sinks = {callback_sink([](const Alert& alert) {
         std::cout << to_string(alert.state) << ": " << alert.name << " - " << alert.summary
                   << "\n";
       })},
       .background = false}};
  // Port 0: any free port (the seed's default is 127.0.0.1:9477).
  MetricsCollector metrics{{.storage = "prometheus",
                            .labels = {{"environment", "production"}, {"service", "user-api"}},
                            .listen = "127.0.0.1:0"}};
  std::cout << "serving " << metrics.url() << "/metrics\n";

  monitor.sample();
  db.execute(
      db.dialect() == Dialect::postgres
          ? "SELECT pg_sleep(0.1)"
          : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000) "
            "SELECT count(*) FROM c");
  monitor.sample();  // fires
  monitor.wait_for_notifications();
  monitor.sample();  // resolves
  monitor.wait_for_notifications();

  const std::string text = metrics.scrape();
  const auto line = text.find("nexdb_up{");
  std::cout << text.substr(line, text.find('\n', line) - line) << "\n";
}
