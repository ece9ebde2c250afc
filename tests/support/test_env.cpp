#include "support/test_env.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "nexdb/connection.hpp"

namespace nexdb::test {

int pg_base_port() {
  const char* port = std::getenv("NEXDB_PG_PORT");
  return port != nullptr ? std::atoi(port) : 54320;
}

std::string pg_primary_uri() {
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", pg_base_port());
}

std::string pg_replica_uri(int index) {
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", pg_base_port() + index);
}

std::string pg_shard_uri(int index) {
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", pg_base_port() + 10 + index);
}

int closed_port() { return pg_base_port() + 99; }

namespace {
std::string unique_suffix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return fmt::format("{}_{}_{}", ::getpid(), counter++, rd() % 100000);
}
}  // namespace

PgSchema::PgSchema() : name_("t_" + unique_suffix()) {
  auto admin = connect(pg_primary_uri());
  admin->execute_script(fmt::format("CREATE SCHEMA \"{}\"", name_));
  uri_ = fmt::format("{}?options=-csearch_path%3D{}", pg_primary_uri(), name_);
}

PgSchema::~PgSchema() {
  try {
    auto admin = connect(pg_primary_uri());
    admin->execute_script(fmt::format("DROP SCHEMA IF EXISTS \"{}\" CASCADE", name_));
  } catch (...) {
    // The server may be gone at teardown of a failing test; nothing else to clean.
  }
}

TempDir::TempDir() {
  path_ = (std::filesystem::temp_directory_path() / ("nexdb_test_" + unique_suffix())).string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace nexdb::test
