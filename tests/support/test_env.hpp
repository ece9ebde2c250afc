// Where the tests find the local PostgreSQL cluster started by scripts/pg-cluster, and an
// isolated schema per test so tests can run in parallel against one server.
#pragma once

#include <string>

namespace nexdb::test {

/// Base port of the local cluster: NEXDB_PG_PORT, default 54320.
int pg_base_port();
/// libpq URI of the primary (superuser `nexdb`, database `nexdb`, trust auth on loopback).
std::string pg_primary_uri();
/// libpq URI of replica `index` (1 or 2).
std::string pg_replica_uri(int index);
/// libpq URI of shard primary `index` (0-3), started by `scripts/pg-cluster start --shards 4`.
std::string pg_shard_uri(int index);
/// A port where nothing listens (for unreachable-host tests).
int closed_port();

/// A fresh PostgreSQL schema, dropped (CASCADE) on destruction. uri() selects it through
/// search_path, so unqualified table names ("users") land in it.
class PgSchema {
 public:
  PgSchema();
  ~PgSchema();
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;
  const std::string& name() const { return name_; }
  const std::string& uri() const { return uri_; }

 private:
  std::string name_;
  std::string uri_;
};

/// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nexdb::test
