// A throwaway PostgreSQL server for verification: a fresh initdb (to restore a logical backup
// into) or a copy of a base backup (recovered to its end). It listens on a Unix socket in its
// own directory only (no TCP), takes a port number from settings.scratch_ports (locked, so two
// verifications never share one), and is stopped and deleted by the destructor.
#pragma once

#include <filesystem>
#include <string>

#include "backup/process.hpp"
#include "nexdb/backup.hpp"

namespace nexdb::backup_detail {

class ScratchInstance {
 public:
  /// initdb + start; the bootstrap superuser is kScratchSuperuser.
  static ScratchInstance fresh(const BackupSettings& settings, const BackupProgressFn& progress);
  /// Copies a base backup's data directory, then starts it: the server replays the backup's WAL
  /// and opens once consistent. BackupError (with the server log's tail) if it does not.
  static ScratchInstance from_base_backup(const BackupSettings& settings,
                                          const std::filesystem::path& data,
                                          const BackupProgressFn& progress);
  ~ScratchInstance();
  ScratchInstance(ScratchInstance&& other) noexcept;
  ScratchInstance& operator=(ScratchInstance&&) = delete;

  /// A key=value connection string for `dbname` as `user`.
  std::string conninfo(std::string_view dbname, std::string_view user) const;
  int port() const noexcept { return port_; }
  /// Runs a PostgreSQL program (args[0] is its name in bindir) against this server.
  CommandResult run_tool(std::vector<std::string> args, std::string_view what,
                         std::chrono::milliseconds timeout) const;

 private:
  explicit ScratchInstance(const BackupSettings& settings);
  void start();
  void stop() noexcept;
  std::string log_tail() const;

  std::filesystem::path bindir_;
  std::string user_;
  std::filesystem::path base_;  // holds data/, the socket and the log
  int port_ = 0;
  int lock_fd_ = -1;
  bool running_ = false;
};

inline constexpr std::string_view kScratchSuperuser = "nexdb_scratch";

}  // namespace nexdb::backup_detail
