// `nexdb migrate status|up|down|to|verify|repair|baseline` over every cluster of the configuration.
#pragma once

#include <string>

#include "context.hpp"

namespace nexdb::cli {

struct MigrateOptions {
  std::string action{};   // status, up, down, to, verify, repair, baseline
  std::string version{};  // up [VERSION], to VERSION, baseline VERSION
  std::string folder{};   // --folder; empty: [migrations] folder of the configuration
  std::string cluster{};  // --cluster; empty: every cluster, in configuration order
  std::size_t steps = 1;  // down --steps
  std::string description = "baseline";  // baseline --description
  bool dry_run = false;
};

int run_migrate(const GlobalOptions& global, const MigrateOptions& options);

}  // namespace nexdb::cli
