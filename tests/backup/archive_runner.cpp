// A stand-alone archiver process for the crash tests: they SIGKILL it at random moments, or have
// it kill itself at a fault point.
//   archive_runner SOURCE_URI TABLE WHERE BATCH PAUSE_MS (table NAME | database URI NAME | file
//   PATH)
// Environment: NEXDB_ARCHIVE_FAULT=POINT:N raises SIGKILL the N-th time the archiver reaches
// fault point POINT (src/archive/fault.hpp), e.g. "destination-committed:2";
// NEXDB_ARCHIVE_JOB names the job (default "crash test").
// Prints the report's rows, recovered and uncopied counts; exit 1 on an error.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "archive/fault.hpp"
#include "nexdb/archive.hpp"

namespace {

std::string fault_point_name;
int fault_countdown = 0;

void kill_at_fault_point(std::string_view point) {
  if (point != fault_point_name || --fault_countdown > 0) return;
  ::kill(::getpid(), SIGKILL);
  ::pause();
}

void install_fault_hook() {
  const char* spec = std::getenv("NEXDB_ARCHIVE_FAULT");
  if (spec == nullptr || *spec == '\0') return;
  const std::string text(spec);
  const auto colon = text.rfind(':');
  fault_point_name = text.substr(0, colon);
  fault_countdown = colon == std::string::npos ? 1 : std::stoi(text.substr(colon + 1));
  nexdb::archive_detail::set_fault_hook(&kill_at_fault_point);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(
        stderr,
        "usage: archive_runner SOURCE TABLE WHERE BATCH PAUSE_MS table|database|file ARGS...\n");
    return 2;
  }
  try {
    install_fault_hook();
    const char* job = std::getenv("NEXDB_ARCHIVE_JOB");
    nexdb::ArchiveSettings s{.table = argv[2],
                             .where = argv[3],
                             .batch_size = std::stoul(argv[4]),
                             .pause = std::chrono::milliseconds(std::stoi(argv[5])),
                             .count_first = false,
                             .job = job != nullptr ? job : "crash test"};
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
    std::printf("rows=%llu recovered=%llu uncopied=%llu resumed=%d\n",
                static_cast<unsigned long long>(report.rows),
                static_cast<unsigned long long>(report.recovered_rows),
                static_cast<unsigned long long>(report.uncopied_rows), report.resumed ? 1 : 0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "archive_runner: %s\n", e.what());
    return 1;
  }
}
