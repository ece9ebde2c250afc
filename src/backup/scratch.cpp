#include "backup/scratch.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "backup/durable_file.hpp"

namespace nexdb::backup_detail {
namespace {

namespace fs = std::filesystem;

/// Settings that let a copy of a production server start here without touching production:
/// no TCP, no archiving into the production archive, no waiting for synchronous standbys,
/// modest memory, configuration files inside the copy.
std::string server_options(int port, const fs::path& base) {
  const fs::path data = base / "data";
  return fmt::format(
      "-c port={} -c listen_addresses= -c unix_socket_directories='{}' -c archive_mode=off "
      "-c ssl=off -c shared_buffers=128MB -c synchronous_standby_names= -c logging_collector=off "
      "-c hba_file='{}' -c ident_file='{}' -c log_min_messages=warning",
      port, base.string(), (data / "pg_hba.conf").string(), (data / "pg_ident.conf").string());
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw BackupError(fmt::format("cannot write {}", path.string()));
}

/// Copies a directory tree (symlinks as symlinks), reporting bytes copied.
void copy_tree(const fs::path& from, const fs::path& to, const BackupProgressFn& progress) {
  std::uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(from)) {
    if (e.is_regular_file() && !e.is_symlink()) total += e.file_size();
  }
  fs::create_directories(to);
  std::uint64_t done = 0;
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path target = to / fs::relative(it->path(), from);
    if (it->is_symlink()) {
      fs::copy_symlink(it->path(), target);
    } else if (it->is_directory()) {
      fs::create_directories(target);
    } else {
      fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing);
      done += it->file_size();
      if (progress)
        progress({.phase = "copy", .done = done / 1024, .total = total / 1024, .unit = "kB"});
    }
  }
}

}  // namespace

ScratchInstance::ScratchInstance(const BackupSettings& settings)
    : bindir_(settings.pg_bindir), user_(server_user(settings.server_user)) {
  const std::string dir = settings.scratch_dir.string();
  if (dir.find('\'') != std::string::npos) {
    throw BackupError(fmt::format("scratch_dir '{}' must not contain a quote", dir));
  }
  const int count = std::max(settings.scratch_ports.count, 1);
  const int offset = static_cast<int>(std::random_device{}() % static_cast<unsigned>(count));
  for (int i = 0; i < count && lock_fd_ < 0; ++i) {
    const int port = settings.scratch_ports.first + (offset + i) % count;
    const fs::path lock = settings.scratch_dir / fmt::format("nexdb-scratch-{}.lock", port);
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    lock_fd_ = fd;
    port_ = port;
  }
  if (lock_fd_ < 0) {
    throw BackupError(fmt::format("every scratch port {}-{} is in use by other verifications",
                                  settings.scratch_ports.first,
                                  settings.scratch_ports.first + count - 1));
  }
  try {
    base_ = settings.scratch_dir / fmt::format("nexdb-scratch-{}", port_);
    if (base_.string().size() + 20 > 107) {
      throw BackupError(fmt::format("scratch_dir '{}' is too long for a Unix socket path", dir));
    }
    // Left behind by a verification that was killed: its server may still run.
    if (fs::exists(base_ / "data" / "postmaster.pid")) stop();
    fs::remove_all(base_);
    fs::create_directories(base_);
    fs::permissions(base_, fs::perms::owner_all);
    give_to_user(base_, user_);
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
}

ScratchInstance ScratchInstance::fresh(const BackupSettings& settings,
                                       const BackupProgressFn& progress) {
  ScratchInstance instance(settings);
  if (progress) progress({.phase = "initdb"});
  run_checked(
      {.args = {(instance.bindir_ / "initdb").string(), "-D", (instance.base_ / "data").string(),
                "-U", std::string(kScratchSuperuser), "--auth=trust", "--encoding=UTF8",
                "--locale=C", "--no-sync", "--no-instructions"},
       .run_as = instance.user_},
      "initdb of a scratch instance");
  instance.start();
  return instance;
}

ScratchInstance ScratchInstance::from_base_backup(const BackupSettings& settings,
                                                  const fs::path& data,
                                                  const BackupProgressFn& progress) {
  ScratchInstance instance(settings);
  const fs::path copy = instance.base_ / "data";
  copy_tree(data, copy, progress);
  for (const char* leftover : {"postmaster.pid", "standby.signal", "recovery.signal"})
    fs::remove(copy / leftover);
  // A server configured outside its data directory (Debian's /etc/postgresql) has none here.
  if (!fs::exists(copy / "postgresql.conf"))
    write_text(copy / "postgresql.conf", "# nexdb scratch instance\n");
  write_text(copy / "pg_hba.conf", "local all all trust\n");
  if (!fs::exists(copy / "pg_ident.conf")) write_text(copy / "pg_ident.conf", "");
  fs::permissions(copy, fs::perms::owner_all);
  give_to_user(instance.base_, instance.user_);
  instance.start();
  return instance;
}

void ScratchInstance::start() {
  const CommandResult result =
      run({.args = {(bindir_ / "pg_ctl").string(), "-D", (base_ / "data").string(), "-l",
                    (base_ / "server.log").string(), "-w", "-t", "600", "-s", "-o",
                    server_options(port_, base_), "start"},
           .run_as = user_,
           .timeout = std::chrono::minutes(11)});  // pg_ctl gives up after its -t 600
  running_ = true;  // pg_ctl may have started it even when waiting failed: stop() cleans up
  if (result.exit_code != 0) {
    throw BackupError(
        fmt::format("the scratch server did not start (pg_ctl exit {}): {}\nserver log:\n{}",
                    result.exit_code, result.err, log_tail()));
  }
}

void ScratchInstance::stop() noexcept {
  try {
    run({.args = {(bindir_ / "pg_ctl").string(), "-D", (base_ / "data").string(), "-m", "immediate",
                  "-w", "-s", "stop"},
         .run_as = user_});
  } catch (const std::exception&) {
    // Nothing else to do: the directory is removed regardless.
  }
  running_ = false;
}

std::string ScratchInstance::log_tail() const {
  std::ifstream in(base_ / "server.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const std::size_t first = lines.size() > 25 ? lines.size() - 25 : 0;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) out += "    " + lines[i] + "\n";
  return out;
}

ScratchInstance::~ScratchInstance() {
  if (lock_fd_ < 0) return;  // moved from
  if (running_) stop();
  std::error_code ignored;
  fs::remove_all(base_, ignored);
  ::close(lock_fd_);
}

ScratchInstance::ScratchInstance(ScratchInstance&& other) noexcept
    : bindir_(std::move(other.bindir_)),
      user_(std::move(other.user_)),
      base_(std::move(other.base_)),
      port_(other.port_),
      lock_fd_(std::exchange(other.lock_fd_, -1)),
      running_(std::exchange(other.running_, false)) {}

std::string ScratchInstance::conninfo(std::string_view dbname, std::string_view user) const {
  return fmt::format("host='{}' port={} user='{}' dbname='{}' connect_timeout=10", base_.string(),
                     port_, user, dbname);
}

CommandResult ScratchInstance::run_tool(std::vector<std::string> args, std::string_view what,
                                        std::chrono::milliseconds timeout) const {
  args.front() = (bindir_ / args.front()).string();
  return run_checked({.args = std::move(args), .timeout = timeout}, what);
}

}  // namespace nexdb::backup_detail
