// Runs PostgreSQL's programs (pg_dump, pg_basebackup, initdb, pg_ctl, ...) as child processes:
// arguments as an array (no shell), passwords through the environment (never argv, which any
// user can read in /proc), stderr read line by line for progress and kept for error messages.
// A child never outlives its welcome: it runs in its own process group, which is stopped when
// it runs past its timeout or when the caller gives up (a progress callback that throws), and
// it gets SIGTERM from the kernel if nexdb itself dies (PR_SET_PDEATHSIG).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nexdb::backup_detail {

struct Command {
  /// args[0] is the program (a path, or a name looked up in PATH).
  std::vector<std::string> args{};
  /// Added to (or replacing in) the inherited environment.
  std::vector<std::pair<std::string, std::string>> env{};
  /// Run as this operating-system user through runuser (needs root); empty: as ourselves.
  std::string run_as{};
  /// Standard output goes to this file (truncated) instead of being captured.
  std::filesystem::path stdout_file{};
  /// Called for each line of standard error (lines end at '\n' or '\r': progress redraws). If
  /// it throws, the child is stopped and the exception propagates from run().
  std::function<void(std::string_view line)> on_stderr_line{};
  /// Stop the child (SIGTERM to its process group, SIGKILL a few seconds later) and throw
  /// BackupError when it runs longer than this. Never unbounded: long jobs pass their own.
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

struct CommandResult {
  int exit_code = 0;  // 128 + signal number when killed by a signal
  std::string out{};  // standard output, unless sent to a file
  std::string err{};  // the last 8 kB of standard error
};

/// Runs `command` to completion. Throws BackupError when it cannot be started or timed out.
CommandResult run(const Command& command);

/// Runs `command`; BackupError "<what> failed (exit N): <stderr tail>" unless it exits 0.
CommandResult run_checked(const Command& command, std::string_view what);

/// The user scratch servers run as: `configured`, else "postgres" as root, else empty (us).
std::string server_user(const std::string& configured);

/// Hands `path` (recursively) to `user`, for a server started as that user. No-op when `user`
/// is empty or we are not root.
void give_to_user(const std::filesystem::path& path, const std::string& user);

}  // namespace nexdb::backup_detail
