// One archiver per job at a time, and one writer per archive file. Held for the whole run and
// released by the server or the OS when the process dies, so a crash never leaves a stale lock:
//  - PostgreSQL: a session-level advisory lock keyed by the job name;
//  - SQLite: an exclusive transaction on the sidecar file "<database>-archive-lock";
//  - archive files: flock() on the sidecar file "<file>.lock" (two jobs, say from two sources,
//    appending to one file would overwrite each other's batches).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "nexdb/connection.hpp"

namespace nexdb::archive_detail {

class JobLock {
 public:
  /// Locks through `connection` (a lease kept for the run). Waits up to `timeout` (a killed
  /// run's lock goes when its server notices), then throws ArchiveError naming the job.
  JobLock(Connection& connection, const std::string& job, std::chrono::milliseconds timeout);
  /// Unlocks, so the pooled connection goes back without the lock.
  ~JobLock();
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;

 private:
  Connection& connection_;
  bool advisory_ = false;
  std::string job_;
  std::unique_ptr<Connection> sqlite_lock_;
};

class FileLock {
 public:
  /// Locks "<file>.lock" (created as needed). Waits up to `timeout`, then throws ArchiveError.
  FileLock(const std::filesystem::path& file, std::chrono::milliseconds timeout);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

std::filesystem::path file_lock_path(const std::filesystem::path& file);

}  // namespace nexdb::archive_detail
