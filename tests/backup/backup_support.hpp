// Shared by the backup and archive tests: a scratch PostgreSQL database per test, a seeded
// schema (users and orders through a real migration), and table fingerprints to compare.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/backup.hpp"
#include "nexdb/database.hpp"

/// Tests built once per backend (NEXDB_TEST_SUITE_PREFIX Sqlite or Postgres) get their own suite
/// names, so that ctest lists both: SUITE(Archive) is SqliteArchive or PostgresArchive.
#define NEXDB_SUITE_CAT(a, b) a##b
#define NEXDB_SUITE_NAME(prefix, name) NEXDB_SUITE_CAT(prefix, name)
#define SUITE(name) NEXDB_SUITE_NAME(NEXDB_TEST_SUITE_PREFIX, name)

namespace nexdb::test {

/// A fresh database on the local cluster's primary (CREATE DATABASE), dropped on destruction.
class PgDatabase {
 public:
  PgDatabase();
  ~PgDatabase();
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;
  const std::string& name() const { return name_; }
  const std::string& uri() const { return uri_; }

 private:
  std::string name_;
  std::string uri_;
};

/// Another database of `dialect`: a fresh PostgreSQL database (dropped on destruction), or the
/// SQLite file `sqlite_file`.
class OtherDatabase {
 public:
  OtherDatabase(Dialect dialect, const std::string& sqlite_file);
  const std::string& uri() const { return uri_; }

 private:
  std::optional<PgDatabase> pg_;
  std::string uri_;
};

/// Drops a database if it exists (for restore targets a test created by name).
void drop_pg_database(const std::string& name);
/// A unique database name (not created).
std::string unique_pg_database_name();

/// Migrates `db` to 1.0.0 (users, orders with a foreign key) and inserts `users` users and
/// `orders` orders, half of them older than 2025.
void seed(Database& db, int users, int orders);

/// table -> "rows:count checksum:sum of a hash over every column" (order-independent).
std::map<std::string, std::string> fingerprint(Database& db);

/// Settings for a repository under `dir`, scratch instances on this worktree's ports.
BackupSettings test_settings(const std::string& dir);

/// A child process of a test (the archive runner), stdout captured or sent to /dev/null.
struct Process {
  pid_t pid = -1;
  int out = -1;  // the read end of its stdout, when captured
};
/// Starts argv[0] with `env` ("NAME=value") added to ours.
Process start_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                      bool capture);
struct ProcessEnd {
  bool killed = false;  // by a signal
  int signal = 0;
  int exit_code = -1;
  std::string output{};
};
/// Reads its output to the end and waits for it.
ProcessEnd finish_process(Process process);

}  // namespace nexdb::test
