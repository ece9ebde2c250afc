#include "backup/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

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

/// Reads stdout (unless it goes to a file) and stderr until both close.
void drain(int out_fd, int err_fd, CommandResult& result, ErrSink& err) {
  char buffer[16384];
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = (out_fd >= 0 ? 1 : 0) + 1;
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw BackupError(fmt::format("poll: {}", std::strerror(errno)));
    }
    for (int i = 0; i < 2; ++i) {
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
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw BackupError(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

/// posix_spawn file actions, destroyed with the object.
struct FileActions {
  posix_spawn_file_actions_t actions{};
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

}  // namespace

CommandResult run(const Command& command) {
  std::vector<std::string> args = argv_of(command);
  std::vector<std::string> env = environment_of(command);
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);

  Pipe out_pipe;
  Pipe err_pipe;
  FileActions fa;
  posix_spawn_file_actions_addopen(&fa.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string out_file = command.stdout_file.string();
  if (out_file.empty()) {
    posix_spawn_file_actions_adddup2(&fa.actions, out_pipe.write, STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&fa.actions, STDOUT_FILENO, out_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  posix_spawn_file_actions_adddup2(&fa.actions, err_pipe.write, STDERR_FILENO);
  // A server user may not be allowed into our working directory (initdb refuses then).
  posix_spawn_file_actions_addchdir_np(&fa.actions, "/");

  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &fa.actions, nullptr, argv.data(), envp.data());
  if (rc != 0) {
    throw BackupError(fmt::format("cannot run {}: {}", args.front(), std::strerror(rc)));
  }
  out_pipe.close_write();
  err_pipe.close_write();

  CommandResult result;
  ErrSink err(command, result.err);
  try {
    drain(out_file.empty() ? out_pipe.read : -1, err_pipe.read, result, err);
  } catch (...) {
    wait_for(pid);
    throw;
  }
  err.finish();
  result.exit_code = wait_for(pid);
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
