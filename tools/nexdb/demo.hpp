#pragma once

#include <string>
#include <vector>

#include "terminal.hpp"

namespace nexdb::cli {

struct DemoOptions {
  bool postgres = false;
  Format format = Format::text;
  std::size_t users = 1000;
  std::size_t orders = 20000;
};

/// Builds the seed's world on the embedded default (or the local PostgreSQL cluster), runs the
/// seed's get_user_orders and prints what happened. Returns the process exit code.
int run_demo(const DemoOptions& options);

/// The local cluster's primary (scripts/pg-cluster): NEXDB_PG_PRIMARY or port NEXDB_PG_PORT.
std::string local_cluster_uri();
/// Its two streaming replicas: NEXDB_PG_REPLICA1/2, else ports NEXDB_PG_PORT + 1 and + 2.
std::vector<std::string> local_replica_uris();

}  // namespace nexdb::cli
