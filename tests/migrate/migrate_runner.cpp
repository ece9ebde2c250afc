// Applies a migration folder to a database, as `nexdb migrate up` will:
//   migrate_runner <uri> <folder> [<start at, unix epoch ms>]
// Prints "applied <n>" and exits 0, or prints the error and exits 1. The start time lets a test
// release several processes at the same instant.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <thread>

#include "nexdb/migrate.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: migrate_runner <uri> <folder> [<start at, unix epoch ms>]\n");
    return 2;
  }
  try {
    if (argc > 3) {
      std::this_thread::sleep_until(std::chrono::system_clock::time_point(
          std::chrono::milliseconds(std::strtoll(argv[3], nullptr, 10))));
    }
    nexdb::MigrationManager migrations{nexdb::Database::open(argv[1])};
    migrations.load(argv[2]);
    const nexdb::RunReport report = migrations.migrate();
    std::printf("applied %zu\n", report.steps.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "migrate_runner: %s\n", e.what());
    return 1;
  }
}
