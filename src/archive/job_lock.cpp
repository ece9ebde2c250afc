#include "archive/job_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "nexdb/archive.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb::archive_detail {
namespace {

// First half of the advisory lock key: "nxar" (the migration lock uses "nxdb").
constexpr std::int32_t kLockClass = 0x6E786172;

[[noreturn]] void busy(const std::string& job, std::chrono::milliseconds timeout,
                       const Error& cause) {
  throw ArchiveError(fmt::format("another archiver is running job '{}' (waited {} ms for its lock)",
                                 job, timeout.count()),
                     {.sqlstate = cause.sqlstate(), .host = cause.host()});
}

}  // namespace

JobLock::JobLock(Connection& connection, const std::string& job, std::chrono::milliseconds timeout)
    : connection_(connection), job_(job) {
  try {
    if (connection.dialect() == Dialect::postgres) {
      // SET LOCAL bounds this one wait; the session-level lock outlives the transaction.
      Transaction tx(connection);
      connection.execute_script(
          fmt::format("SET LOCAL lock_timeout = {}", std::max<std::int64_t>(timeout.count(), 1)));
      tx.execute(fmt::format("SELECT pg_advisory_lock({}, hashtext($1))", kLockClass), job);
      tx.commit();
      advisory_ = true;
      return;
    }
    const auto file =
        connection.execute("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .scalar<std::string>();
    if (file.empty()) return;  // in memory: no other connection sees this database
    sqlite_lock_ = connect(ConnectOptions{.uri = "sqlite:" + file + "-archive-lock",
                                          .busy_timeout = timeout,
                                          .sqlite_wal = false,
                                          .statement_cache_size = 0});
    sqlite_lock_->execute_script("BEGIN EXCLUSIVE");
  } catch (const TimeoutError& e) {
    busy(job, timeout, e);
  } catch (const SqlError& e) {
    if (e.sqlstate() == "55P03") busy(job, timeout, e);  // lock_not_available: lock_timeout expired
    throw;
  }
}

JobLock::~JobLock() {
  if (!advisory_ || connection_.is_broken()) return;
  try {
    connection_.execute(fmt::format("SELECT pg_advisory_unlock({}, hashtext($1))", kLockClass),
                        job_);
  } catch (const std::exception&) {
    try {
      connection_.execute_script("SELECT pg_advisory_unlock_all()");
    } catch (const std::exception&) {
      // A broken connection is discarded by the pool; the server drops its locks.
    }
  }
}

}  // namespace nexdb::archive_detail

namespace nexdb::archive_detail {

std::filesystem::path file_lock_path(const std::filesystem::path& file) {
  return file.string() + ".lock";
}

FileLock::FileLock(const std::filesystem::path& file, std::chrono::milliseconds timeout) {
  const auto path = file_lock_path(file);
  if (const auto parent = path.parent_path(); !parent.empty())
    std::filesystem::create_directories(parent);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw ArchiveError(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const int error = errno;
      ::close(fd_);
      throw ArchiveError(fmt::format("cannot lock {}: {}", path.string(), std::strerror(error)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd_);
      throw ArchiveError(fmt::format("another archiver is writing {} (waited {} ms for {})",
                                     file.string(), timeout.count(), path.string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace nexdb::archive_detail
