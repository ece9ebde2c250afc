// Where the benchmarks find the local PostgreSQL cluster (scripts/pg-cluster).
#pragma once

#include <cstdlib>
#include <string>

namespace nexdb::bench {

/// NEXDB_PG_PRIMARY, else the primary on port NEXDB_PG_PORT (54320).
inline std::string pg_uri() {
  if (const char* uri = std::getenv("NEXDB_PG_PRIMARY")) return uri;
  const char* port = std::getenv("NEXDB_PG_PORT");
  return std::string("postgresql://nexdb@127.0.0.1:") + (port ? port : "54320") + "/nexdb";
}

}  // namespace nexdb::bench
