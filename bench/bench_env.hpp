// Where the benchmarks find the local PostgreSQL cluster (scripts/pg-cluster).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace nexdb::bench {

/// NEXDB_PG_PRIMARY, else the primary on port NEXDB_PG_PORT (54320).
inline std::string pg_uri() {
  if (const char* uri = std::getenv("NEXDB_PG_PRIMARY")) return uri;
  const char* port = std::getenv("NEXDB_PG_PORT");
  return std::string("postgresql://nexdb@127.0.0.1:") + (port ? port : "54320") + "/nexdb";
}

/// CPU time a local process (a PostgreSQL backend) has used so far, in ns, from
/// /proc/<pid>/schedstat; 0 when it cannot be read.
inline std::int64_t cpu_ns(std::int64_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/schedstat");
  std::int64_t ns = 0;
  file >> ns;
  return file ? ns : 0;
}

}  // namespace nexdb::bench
