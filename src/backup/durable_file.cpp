#include "backup/durable_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nexdb/backup.hpp"

namespace nexdb::backup_detail {
namespace {

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& path) {
  throw BackupError(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

}  // namespace

void sync_path(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("cannot fsync", path);
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create", temporary);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail("cannot write", temporary);
    }
    written += static_cast<std::size_t>(n);
  }
  const int synced = ::fsync(fd);
  if (::close(fd) != 0 || synced != 0) fail("cannot write", temporary);
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail("cannot rename into", path);
  sync_path(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BackupError(fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace nexdb::backup_detail
