// `nexdb demo` is a list of steps, one or more per capability. A step prints a heading, does its
// part on the demo database and adds what it did to the JSON report. A capability adds its step
// in a demo_<module>.cpp file and one line in demo.cpp's list.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "demo.hpp"
#include "nexdb/database.hpp"

namespace nexdb::cli {

using Json = nlohmann::ordered_json;

struct DemoContext {
  Database& db;
  const DemoOptions& options;
  const Terminal& term;
  Json& report;
  int index = 0;  // this step's number, from 1
  int total = 0;  // steps in this run

  bool text() const { return options.format == Format::text; }
  /// "[n/total] title" in text mode; nothing in JSON mode.
  void heading(std::string_view title) const {
    if (text()) term.step(index, total, title);
  }
  /// A line of text output (indented by the caller); nothing in JSON mode.
  void line(std::string_view text_line) const {
    if (text()) term.line(text_line);
  }
};

struct DemoStep {
  std::string_view name;
  bool postgres_only = false;  // runs only with --postgres
  bool sqlite_only = false;    // runs only on the embedded database
  void (*run)(DemoContext&) = nullptr;
  bool runs(const DemoOptions& options) const {
    return options.postgres ? !sqlite_only : !postgres_only;
  }
};

// demo_seed.cpp: the seed's world on the demo database.
void demo_migrations(DemoContext& demo);
void demo_sample_data(DemoContext& demo);
void demo_seed_query(DemoContext& demo);
void demo_aggregate(DemoContext& demo);
void demo_failing_transaction(DemoContext& demo);
// demo_optimizer.cpp
void demo_optimizer(DemoContext& demo);
// demo_replica.cpp
void demo_replicas(DemoContext& demo);
// demo_monitor.cpp
void demo_monitoring(DemoContext& demo);
// demo_shard.cpp: the seed's 4-shard map on four SQLite files.
void demo_shards(DemoContext& demo);
// demo_backup.cpp: a backup verified by restoring it (SQLite), the oldest orders archived.
void demo_backup(DemoContext& demo);
void demo_archive(DemoContext& demo);
// demo_async.cpp: the seed query as coroutines on one thread; a pipeline's failure by index.
void demo_async(DemoContext& demo);

}  // namespace nexdb::cli
