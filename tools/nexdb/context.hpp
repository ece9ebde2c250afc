// What every nexdb subcommand shares: the global options and the configuration they select.
#pragma once

#include <string>

#include "nexdb/config.hpp"
#include "terminal.hpp"

namespace nexdb::cli {

struct GlobalOptions {
  std::string config_path{};  // --config; empty: $NEXDB_CONFIG, ./nexdb.toml, or built-in defaults
  Format format = Format::text;
};

/// The configuration --config names (which must exist), else Config::load_default().
Config load_config(const GlobalOptions& global);

/// `nexdb config check`: validates and prints the effective configuration with origins.
int run_config_check(const GlobalOptions& global);

/// `nexdb replica status`: each host's role, RTT, lag and health; exit 1 when any host is down.
int run_replica_status(const GlobalOptions& global, const std::string& only_cluster);

}  // namespace nexdb::cli
