// `nexdb serve` (metrics endpoint, /healthz, dashboard), `nexdb monitor` (a live view) and
// `nexdb monitor rules` (the alerts as a Prometheus rules file).
#pragma once

#include <string>

#include "context.hpp"

namespace nexdb::cli {

struct MonitorCommandOptions {
  std::string cluster{};  // only this cluster (default: all)
  std::string listen{};   // serve: overrides [metrics] listen
  long interval_ms = 0;   // overrides [monitor] interval_ms
  bool once = false;      // monitor: one snapshot, then exit
  std::string output{};   // rules: write here instead of stdout
};

/// Serves until SIGINT/SIGTERM. Exit 0; 2 for a configuration error; 1 when the address is taken.
int run_serve(const GlobalOptions& global, const MonitorCommandOptions& options);
/// Refreshes on a terminal until Ctrl-C; one snapshot otherwise (exit 1 if a host is down).
int run_monitor_view(const GlobalOptions& global, const MonitorCommandOptions& options);
int run_monitor_rules(const GlobalOptions& global, const MonitorCommandOptions& options);

}  // namespace nexdb::cli
