#include "private_cluster.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace nexdb::test {

namespace {
// Below the kernel's ephemeral range (32768-60999 by default): a port in that range can be
// taken at any moment by an outgoing connection's local end, and the server then fails to bind.
constexpr int kFirstPort = 24000;
constexpr int kSlots = 1000;  // 24000-26999, three ports per cluster
constexpr int kAttempts = 3;
}  // namespace

PrivateCluster::PrivateCluster() {
  const char* source = std::getenv("NEXDB_SOURCE_DIR");
  script_ = fmt::format("{}/scripts/pg-cluster", source != nullptr ? source : ".");
  const int first_slot = static_cast<int>(::getpid() % kSlots);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    // Another program may hold a port of this slot: move on to the next slot.
    port_ = kFirstPort + ((first_slot + attempt * 7) % kSlots) * 3;
    dir_ = fmt::format("/tmp/nexdb-replica-test-{}", port_);
    if (run("start >/dev/null") == 0) return;
    run("stop >/dev/null 2>&1");
    std::error_code ignored;
    std::filesystem::remove(dir_ + ".lock", ignored);
  }
  throw std::runtime_error(
      fmt::format("could not start a private cluster after {} attempts (last port {})", kAttempts,
                  port_));
}

PrivateCluster::~PrivateCluster() {
  run("stop >/dev/null 2>&1");
  std::error_code ignored;  // pg-cluster leaves its lock file behind on purpose
  std::filesystem::remove(dir_ + ".lock", ignored);
}

std::string PrivateCluster::uri(int index) const {
  return fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb", port_ + index);
}

void PrivateCluster::kill(const std::string& instance) const {
  // PostgreSQL refuses root: run pg_ctl as postgres then, as scripts/pg-cluster does.
  std::string as_pg = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  const char* bindir = std::getenv("NEXDB_PG_BINDIR");
  std::string command =
      fmt::format("{}{}/pg_ctl -D {}/{} -m immediate -w -s stop", as_pg,
                  bindir != nullptr ? bindir : "/usr/lib/postgresql/15/bin", dir_, instance);
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("could not stop " + instance);
  }
}

void PrivateCluster::restart(const std::string& instance) const {
  std::string as_pg = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  const char* bindir = std::getenv("NEXDB_PG_BINDIR");
  std::string command = fmt::format(
      "{}{}/pg_ctl -D {}/{} -l {}/{}.restart.log -m fast -w -t 60 -s restart >/dev/null", as_pg,
      bindir != nullptr ? bindir : "/usr/lib/postgresql/15/bin", dir_, instance, dir_, instance);
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("could not restart " + instance);
  }
}

int PrivateCluster::run(const std::string& command) const {
  std::string line = fmt::format("NEXDB_PG_PORT={} NEXDB_PG_DIR={} NEXDB_PG_SHARDS=0 {} {}", port_,
                                 dir_, script_, command);
  return std::system(line.c_str());
}

}  // namespace nexdb::test
