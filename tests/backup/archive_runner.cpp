// A stand-alone archiver process for the crash tests: they SIGKILL it at random moments.
//   archive_runner SOURCE_URI TABLE WHERE BATCH PAUSE_MS (table NAME | database URI NAME | file
//   PATH)
// Prints the report's rows, recovered and uncopied counts; exit 1 on an error.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nexdb/archive.hpp"

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(
        stderr,
        "usage: archive_runner SOURCE TABLE WHERE BATCH PAUSE_MS table|database|file ARGS...\n");
    return 2;
  }
  try {
    nexdb::ArchiveSettings s{.table = argv[2],
                             .where = argv[3],
                             .batch_size = std::stoul(argv[4]),
                             .pause = std::chrono::milliseconds(std::stoi(argv[5])),
                             .count_first = false,
                             .job = "crash test"};
    const std::string kind = argv[6];
    if (kind == "table") {
      s.to.table = argv[7];
    } else if (kind == "database" && argc >= 9) {
      s.to.database = nexdb::Database::open(argv[7]);
      s.to.table = argv[8];
    } else if (kind == "file") {
      s.to.file = argv[7];
    } else {
      return 2;
    }
    const nexdb::ArchiveReport report = nexdb::Archiver(nexdb::Database::open(argv[1]), s).run();
    std::printf("rows=%llu recovered=%llu uncopied=%llu\n",
                static_cast<unsigned long long>(report.rows),
                static_cast<unsigned long long>(report.recovered_rows),
                static_cast<unsigned long long>(report.uncopied_rows));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "archive_runner: %s\n", e.what());
    return 1;
  }
}
