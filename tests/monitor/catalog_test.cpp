// docs/monitoring.md lists every metric exactly as it is exposed: a MetricsCollector serving a
// DBMonitor that watches every kind of target (a PostgreSQL cluster with replicas, a Database with
// its pool, embedded SQLite, a host that is down) is scraped over HTTP, and the families it
// returns (name, type, labels) must be exactly the documented ones, and vice versa.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"
#include "nexdb/optimizer.hpp"
#include "support/service.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

struct FamilyShape {
  std::string type;
  std::vector<std::string> labels;  // in exposition order, without constant labels and `le`
  friend bool operator==(const FamilyShape&, const FamilyShape&) = default;
};
using Catalog = std::map<std::string, FamilyShape>;

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" `");
  const auto last = text.find_last_not_of(" `");
  return first == std::string_view::npos ? "" : std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const auto end = text.find(separator, start);
    out.push_back(std::string(text.substr(start, end - start)));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// Rows of the docs' metric tables: | `name` | type | labels | meaning |
Catalog documented() {
  const char* source = std::getenv("NEXDB_SOURCE_DIR");
  std::ifstream in(std::string(source != nullptr ? source : ".") + "/docs/monitoring.md");
  EXPECT_TRUE(in.good()) << "docs/monitoring.md not found";
  Catalog out;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("| `nexdb_")) continue;
    const auto cells = split(line, '|');
    FamilyShape shape{.type = trim(cells.at(2)), .labels = {}};
    const std::string labels = trim(cells.at(3));
    if (labels != "—") {
      for (const auto& label : split(labels, ',')) shape.labels.push_back(trim(label));
    }
    const std::string name = trim(cells.at(1));
    EXPECT_FALSE(out.contains(name)) << name << " is documented twice";
    out[name] = shape;
  }
  return out;
}

// Families of a text-format exposition; every sample of a family must carry the same labels.
Catalog exposed(const std::string& text, const std::set<std::string>& constant) {
  Catalog out;
  std::string family;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# TYPE ")) {
      const auto parts = split(line, ' ');
      family = parts.at(2);
      out[family].type = parts.at(3);
      continue;
    }
    if (line.empty() || line.starts_with('#')) continue;
    std::vector<std::string> labels;
    if (const auto open = line.find('{'); open != std::string::npos) {
      // Label values here never contain '",' (the test's values are plain).
      const std::string body = line.substr(open + 1, line.rfind('}') - open - 1);
      for (std::size_t pos = 0; pos < body.size();) {
        const auto eq = body.find("=\"", pos);
        std::string name = body.substr(pos, eq - pos);
        auto end = eq + 2;
        while (end < body.size() && !(body[end] == '"' && body[end - 1] != '\\')) ++end;
        pos = end + 2;
        if (!constant.contains(name) && name != "le") labels.push_back(std::move(name));
      }
    }
    FamilyShape& shape = out[family];
    if (shape.labels.empty()) shape.labels = labels;
    EXPECT_EQ(shape.labels, labels)
        << "labels differ between samples of " << family << ": " << line;
  }
  return out;
}

TEST(MetricsCatalog, TheDocsListEveryMetricExactlyAsScraped) {
  test::PgSchema schema;
  test::TempDir dir;
  metrics::Registry registry;
  Database pg = Database::open(schema.uri());
  Database lite = Database::open("sqlite:" + dir.path() + "/lite.db");
  DBMonitor monitor({.alert_thresholds = {{"query_duration", 0}},
                     .sinks = {callback_sink([](const Alert&) {})},
                     .registry = &registry,
                     .background = false});
  monitor.watch(ClusterConfig{.name = "main",
                              .primary = test::pg_primary_uri(),
                              .replicas = {test::pg_replica_uri(1), test::pg_replica_uri(2)}});
  monitor.watch(pg, "app");
  monitor.watch(lite, "lite");
  QueryOptimizer optimizer(lite,
                           {.plan_check_after_calls = 1, .plan_check = {.large_table_rows = 0}});
  monitor.watch(optimizer, "lite");
  monitor.watch(ClusterConfig{
      .name = "gone",
      .primary = fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", test::closed_port())});
  MetricsCollector collector({.labels = {{"environment", "test"}, {"service", "catalog"}},
                              .listen = "127.0.0.1:0",
                              .registry = &registry});
  monitor.sample();
  pg.execute("CREATE TABLE t (id int PRIMARY KEY)");
  pg.execute("INSERT INTO t VALUES (1)");
  EXPECT_THROW(pg.execute("INSERT INTO t VALUES (1)"), UniqueViolation);
  lite.execute("SELECT 1");
  lite.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
  (void)optimizer.run(
      Statement{.sql = "SELECT id FROM items WHERE name = ?", .params = {Value(std::string("a"))}});
  ASSERT_FALSE(optimizer.shapes().at(0).findings.empty()) << "a full scan finding is exported";
  monitor.sample();  // rates need two samples; everything slower than 0 ms fires
  ASSERT_TRUE(monitor.wait_for_notifications());

  const auto reply = test::http_get("127.0.0.1", collector.port(), "/metrics");
  ASSERT_EQ(reply.status, 200);
  const Catalog scraped = exposed(reply.body, {"environment", "service"});
  const Catalog docs = documented();
  ASSERT_GE(docs.size(), 20u) << "the docs' tables were not found";
  for (const auto& [name, shape] : docs) {
    auto it = scraped.find(name);
    if (it == scraped.end()) {
      ADD_FAILURE() << name << " is documented but not exposed";
      continue;
    }
    EXPECT_EQ(it->second.type, shape.type) << name;
    EXPECT_EQ(it->second.labels, shape.labels) << name;
  }
  for (const auto& [name, shape] : scraped) {
    EXPECT_TRUE(docs.contains(name)) << name << " is exposed but not in docs/monitoring.md";
  }
  // No series of the exposition lacks the constant labels.
  for (const auto& line : split(reply.body, '\n')) {
    if (line.empty() || line.starts_with('#')) continue;
    EXPECT_THAT(line, ::testing::HasSubstr("environment=\"test\",service=\"catalog\"")) << line;
  }
}

}  // namespace
}  // namespace nexdb
