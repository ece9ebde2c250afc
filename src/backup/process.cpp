#include "backup/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "nexdb/backup.hpp"

extern char** environ;

namespace nexdb::backup_detail {
namespace {

constexpr std::size_t kErrTail = 8192;

/// A pipe whose ends close themselves.
struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw BackupError(fmt::format("pipe: {}", std::strerror(errno)));
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  void close_write() {
    ::close(write);
    write = -1;
  }
};

std::string current_user() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : "";
}

std::vector<std::string> argv_of(const Command& command) {
  if (command.args.empty()) throw BackupError("no program to run");
  if (command.run_as.empty() || command.run_as == current_user()) return command.args;
  if (::geteuid() != 0) {
    throw BackupError(fmt::format("cannot run {} as user '{}': only root can switch users",
                                  command.args.front(), command.run_as));
  }
  std::vector<std::string> args{"runuser", "-u", command.run_as, "--"};
  args.insert(args.end(), command.args.begin(), command.args.end());
  return args;
}

std::vector<std::string> environment_of(const Command& command) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos) vars[std::string(entry.substr(0, eq))] = entry.substr(eq + 1);
  }
  for (const auto& [name, value] : command.env) vars[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// Splits stderr into lines for the callback and keeps its tail.
class ErrSink {
 public:
  explicit ErrSink(const Command& command, std::string& tail) : command_(command), tail_(tail) {}
  void add(std::string_view chunk) {
    tail_.append(chunk);
    if (tail_.size() > 2 * kErrTail) tail_.erase(0, tail_.size() - kErrTail);
    if (!command_.on_stderr_line) return;
    for (char c : chunk) {
      if (c == '\n' || c == '\r') {
        if (!line_.empty()) command_.on_stderr_line(line_);
        line_.clear();
      } else {
        line_.push_back(c);
      }
    }
  }
  void finish() {
    if (command_.on_stderr_line && !line_.empty()) command_.on_stderr_line(line_);
    if (tail_.size() > kErrTail) tail_.erase(0, tail_.size() - kErrTail);
  }

 private:
  const Command& command_;
  std::string& tail_;
  std::string line_;
};

using Clock = std::chrono::steady_clock;

constexpr auto kTermGrace = std::chrono::seconds(5);  // SIGTERM, then SIGKILL

/// The program's path: as given when it has a slash, else the first match in PATH. Resolved in
/// the parent, so the child only calls async-signal-safe functions between fork and exec.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    const std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  throw BackupError(fmt::format("cannot run {}: not found in PATH", program));
}

/// A started child in its own process group. Until it has been waited for, the destructor
/// stops the whole group and reaps it, so no exit path leaves a child running.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (reaped_) return;
    signal_group(SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Exit code (128 + signal when killed), or nullopt when still running.
  std::optional<int> poll() {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r < 0) throw BackupError(fmt::format("waitpid: {}", std::strerror(errno)));
    if (r == 0) return std::nullopt;
    reaped_ = true;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
  }

  /// SIGTERM to the group; SIGKILL when it has not exited after a grace period.
  void stop() {
    signal_group(SIGTERM);
    const auto until = Clock::now() + kTermGrace;
    while (!poll()) {
      if (Clock::now() >= until) {
        signal_group(SIGKILL);
        until_reaped();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /// Waits for the exit (the group is killed first if `deadline` passes); nullopt on timeout.
  std::optional<int> wait(Clock::time_point deadline) {
    while (true) {
      if (auto code = poll()) return code;
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  void signal_group(int sig) const {
    ::kill(-pid_, sig);  // the child's group: its own children too (pg_dump -j workers)
    ::kill(pid_, sig);   // in case it left the group
  }
  void until_reaped() {
    while (!poll()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  pid_t pid_;
  bool reaped_ = false;
};

/// In the child: reports errno to the parent and exits.
[[noreturn]] void child_failed(int report_fd) {
  const int error = errno;
  [[maybe_unused]] const auto n = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

/// In the child: `fd` becomes `target` (the original is closed).
void redirect(int fd, int target, int report_fd) {
  if (fd < 0 || ::dup2(fd, target) < 0) child_failed(report_fd);
  if (fd != target) ::close(fd);
}

/// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, int out_fd,
                             const char* out_file, int err_fd, int report_fd, pid_t parent) {
  ::setpgid(0, 0);
  // Die with nexdb: SIGTERM when the parent goes (runuser passes it on to its child).
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) child_failed(report_fd);
  if (::getppid() != parent) ::_exit(127);  // it went before the line above
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);  // libpq ignores it in the parent; the child wants the default
  redirect(::open("/dev/null", O_RDONLY), STDIN_FILENO, report_fd);
  if (out_file != nullptr) {
    redirect(::open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0600), STDOUT_FILENO, report_fd);
  } else if (::dup2(out_fd, STDOUT_FILENO) < 0) {
    child_failed(report_fd);
  }
  if (::dup2(err_fd, STDERR_FILENO) < 0) child_failed(report_fd);
  // A server user may not be allowed into our working directory (initdb refuses then).
  if (::chdir("/") != 0) child_failed(report_fd);
  ::execve(path, argv, envp);
  child_failed(report_fd);
}

/// Starts the child; BackupError (with the reason) when it cannot be executed.
pid_t start(const std::string& path, std::vector<char*>& argv, std::vector<char*>& envp,
            const Pipe& out_pipe, const std::string& out_file, const Pipe& err_pipe) {
  Pipe report;  // close-on-exec: EOF at exec, or the child's errno when exec failed
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw BackupError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    exec_child(path.c_str(), argv.data(), envp.data(), out_pipe.write,
               out_file.empty() ? nullptr : out_file.c_str(), err_pipe.write, report.write, parent);
  }
  ::setpgid(pid, pid);  // as the child does: whichever runs first
  report.close_write();
  int error = 0;
  ssize_t n;
  while ((n = ::read(report.read, &error, sizeof error)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof error)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw BackupError(fmt::format("cannot run {}: {}", path, std::strerror(error)));
  }
  return pid;
}

/// Milliseconds until `deadline` for poll(), at least 0.
int poll_timeout(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 60000));
}

/// Reads stdout (unless it goes to a file) and stderr until both close or `deadline` passes;
/// false on timeout.
bool drain(int out_fd, int err_fd, CommandResult& result, ErrSink& err,
           Clock::time_point deadline) {
  char buffer[16384];
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = (out_fd >= 0 ? 1 : 0) + 1;
  while (open > 0) {
    if (Clock::now() >= deadline) return false;
    const int ready = ::poll(fds, 2, poll_timeout(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw BackupError(fmt::format("poll: {}", std::strerror(errno)));
    }
    for (int i = 0; i < 2 && ready > 0; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      const std::string_view chunk(buffer, static_cast<std::size_t>(n));
      if (i == 0) {
        result.out.append(chunk);
      } else {
        err.add(chunk);
      }
    }
  }
  return true;
}

[[noreturn]] void timed_out(const Command& command, Child& child, const CommandResult& result) {
  child.stop();
  std::string err = result.err;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  throw BackupError(fmt::format("{} ran longer than its timeout of {} s and was stopped{}{}",
                                command.args.front(), command.timeout.count() / 1000,
                                err.empty() ? "" : ": ", err));
}

}  // namespace

CommandResult run(const Command& command) {
  std::vector<std::string> args = argv_of(command);
  std::vector<std::string> env = environment_of(command);
  const std::string path = resolve(args.front());
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);
  const std::string out_file = command.stdout_file.string();
  const auto deadline =
      command.timeout.count() > 0 ? Clock::now() + command.timeout : Clock::time_point::max();

  Pipe out_pipe;
  Pipe err_pipe;
  Child child(start(path, argv, envp, out_pipe, out_file, err_pipe));
  out_pipe.close_write();
  err_pipe.close_write();

  CommandResult result;
  ErrSink err(command, result.err);
  // A throwing callback leaves through Child's destructor, which stops and reaps the group.
  if (!drain(out_file.empty() ? out_pipe.read : -1, err_pipe.read, result, err, deadline))
    timed_out(command, child, result);
  err.finish();
  const auto code = child.wait(deadline);
  if (!code) timed_out(command, child, result);
  result.exit_code = *code;
  return result;
}

CommandResult run_checked(const Command& command, std::string_view what) {
  CommandResult result = run(command);
  if (result.exit_code != 0) {
    std::string err = result.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    throw BackupError(fmt::format("{} failed (exit {}){}{}", what, result.exit_code,
                                  err.empty() ? "" : ": ", err));
  }
  return result;
}

std::string server_user(const std::string& configured) {
  if (!configured.empty()) return configured;
  return ::geteuid() == 0 ? "postgres" : "";
}

void give_to_user(const std::filesystem::path& path, const std::string& user) {
  if (user.empty() || ::geteuid() != 0) return;
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) throw BackupError(fmt::format("no such user '{}'", user));
  const auto chown_one = [&](const std::filesystem::path& p) {
    if (::lchown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw BackupError(fmt::format("chown {}: {}", p.string(), std::strerror(errno)));
    }
  };
  chown_one(path);
  if (!std::filesystem::is_directory(path)) return;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
    chown_one(entry.path());
}

}  // namespace nexdb::backup_detail
