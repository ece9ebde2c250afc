#include "backup/repository.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "backup/durable_file.hpp"

namespace nexdb::backup_detail {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr int kManifestFormat = 1;

Json part_to_json(const BackupPart& part) {
  Json files = Json::array();
  for (const BackupFile& f : part.files) {
    files.push_back({{"path", f.path}, {"size", f.size}, {"xxh3_128", f.checksum}});
  }
  Json tables = Json::array();
  for (const TableStats& t : part.tables) {
    tables.push_back({{"schema", t.schema},
                      {"name", t.name},
                      {"rows", t.rows},
                      {"key_columns", t.key_columns},
                      {"key_checksum", t.key_checksum}});
  }
  return {{"name", part.name},
          {"source", part.source},
          {"dialect", to_string(part.dialect)},
          {"server_version", part.server_version},
          {"schema_version", part.schema_version ? Json(*part.schema_version) : Json(nullptr)},
          {"start_lsn", part.start_lsn},
          {"end_lsn", part.end_lsn},
          {"superuser", part.superuser},
          {"size", part.size},
          {"files", files},
          {"tables", tables}};
}

BackupPart part_from_json(const Json& j) {
  BackupPart part{.name = j.at("name"), .source = j.at("source")};
  part.dialect = j.at("dialect") == "sqlite" ? Dialect::sqlite : Dialect::postgres;
  part.server_version = j.at("server_version");
  if (!j.at("schema_version").is_null())
    part.schema_version = j.at("schema_version").get<std::string>();
  part.start_lsn = j.value("start_lsn", "");
  part.end_lsn = j.value("end_lsn", "");
  part.superuser = j.value("superuser", "");
  part.size = j.at("size");
  for (const Json& f : j.at("files")) {
    part.files.push_back(
        {.path = f.at("path"), .size = f.at("size"), .checksum = f.at("xxh3_128")});
  }
  for (const Json& t : j.at("tables")) {
    part.tables.push_back({.schema = t.at("schema"),
                           .name = t.at("name"),
                           .rows = t.at("rows"),
                           .key_columns = t.at("key_columns"),
                           .key_checksum = t.at("key_checksum")});
  }
  return part;
}

Timestamp timestamp_from(const Json& j, std::string_view key) {
  const std::string text = j.at(std::string(key));
  auto ts = parse_timestamp(text);
  if (!ts) throw BackupError(fmt::format("manifest: '{}' is not a timestamp ({})", text, key));
  return *ts;
}

std::optional<VerifyRecord> read_verification(const fs::path& dir) {
  const fs::path file = dir / kVerifyFile;
  if (!fs::exists(file)) return std::nullopt;
  try {
    const Json j = Json::parse(read_file(file));
    return VerifyRecord{
        .at = timestamp_from(j, "at"), .ok = j.at("ok"), .summary = j.at("summary")};
  } catch (const std::exception&) {
    return VerifyRecord{.summary = "verify.json is unreadable"};
  }
}

}  // namespace

Timestamp now_utc() {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::string manifest_to_json(const BackupInfo& info) {
  Json parts = Json::array();
  for (const BackupPart& part : info.parts) parts.push_back(part_to_json(part));
  const Json j = {{"format", kManifestFormat},
                  {"id", info.id},
                  {"kind", to_string(info.kind)},
                  {"label", info.label},
                  {"started_at", format_timestamp(info.started_at)},
                  {"finished_at", format_timestamp(info.finished_at)},
                  {"size", info.size},
                  {"checksum_algorithm", "xxh3-128"},
                  {"parts", parts}};
  return j.dump(2) + "\n";
}

BackupInfo manifest_from_json(const std::string& text, const fs::path& where) {
  try {
    const Json j = Json::parse(text);
    if (j.at("format") != kManifestFormat) {
      throw BackupError(fmt::format("unknown manifest format {}", j.at("format").dump()));
    }
    BackupInfo info{.id = j.at("id"), .label = j.value("label", "")};
    const auto kind = backup_kind_from_string(j.at("kind").get<std::string>());
    if (!kind) throw BackupError(fmt::format("unknown backup kind {}", j.at("kind").dump()));
    info.kind = *kind;
    info.started_at = timestamp_from(j, "started_at");
    info.finished_at = timestamp_from(j, "finished_at");
    info.size = j.at("size");
    for (const Json& p : j.at("parts")) info.parts.push_back(part_from_json(p));
    info.directory = where;
    return info;
  } catch (const BackupError& e) {
    throw BackupError(fmt::format("{}: {}", (where / kManifestFile).string(), e.message()));
  } catch (const std::exception& e) {
    throw BackupError(
        fmt::format("{}: unreadable manifest: {}", (where / kManifestFile).string(), e.what()));
  }
}

Repository::Repository(const fs::path& root) : root_(fs::absolute(root)) {}

std::string Repository::new_id(BackupKind kind, Timestamp at) const {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(at);
  const std::string base =
      fmt::format("{:%Y%m%d-%H%M%S}-{:03d}-{}", std::chrono::floor<std::chrono::seconds>(ms),
                  ms.time_since_epoch().count() % 1000, to_string(kind));
  std::string id = base;
  for (int n = 2; fs::exists(root_ / id) || fs::exists(root_ / (std::string(kPartialPrefix) + id));
       ++n) {
    id = fmt::format("{}-{}", base, n);
  }
  return id;
}

PartialBackup::~PartialBackup() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool in_progress(const fs::path& partial) {
  const int fd = ::open((partial / kInProgressFile).c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return locked;
  }
  // No lock file: its writer is between mkdir and the lock, or an earlier nexdb wrote it. The
  // directory's own mtime misses writes into files below it: look at the newest of them.
  std::error_code ec;
  auto newest = fs::last_write_time(partial, ec);
  for (auto it = fs::recursive_directory_iterator(partial, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    newest = std::max(newest, it->last_write_time(ec));
  }
  return fs::file_time_type::clock::now() - newest < std::chrono::hours(24);
}

PartialBackup Repository::begin(const std::string& id) const {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec)
    throw BackupError(
        fmt::format("cannot create the repository {}: {}", root_.string(), ec.message()));
  const fs::path partial = root_ / (std::string(kPartialPrefix) + id);
  if (!fs::create_directory(partial, ec) || ec) {
    throw BackupError(
        fmt::format("cannot create {}: {}", partial.string(), ec ? ec.message() : "it exists"));
  }
  const fs::path lock = partial / kInProgressFile;
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw BackupError(fmt::format("cannot lock {}: {}", lock.string(), std::strerror(error)));
  }
  return PartialBackup(partial, fd);
}

fs::path Repository::commit(const PartialBackup& partial, BackupInfo& info) const {
  write_file_atomically(partial.path() / kManifestFile, manifest_to_json(info));
  const fs::path final_dir = root_ / info.id;
  std::error_code ec;
  fs::rename(partial.path(), final_dir, ec);
  if (ec) {
    throw BackupError(
        fmt::format("cannot move {} into place: {}", partial.path().string(), ec.message()));
  }
  fs::remove(final_dir / kInProgressFile, ec);  // the manifest now says it is complete
  sync_path(root_);
  info.directory = final_dir;
  return final_dir;
}

std::vector<BackupInfo> Repository::list() const {
  std::vector<BackupInfo> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  for (const auto& entry : fs::directory_iterator(root_)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.starts_with('.') || !fs::exists(entry.path() / kManifestFile))
      continue;
    BackupInfo info = manifest_from_json(read_file(entry.path() / kManifestFile), entry.path());
    info.last_verified = read_verification(entry.path());
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const BackupInfo& a, const BackupInfo& b) {
    return std::tie(a.started_at, a.id) < std::tie(b.started_at, b.id);
  });
  return out;
}

BackupInfo Repository::get(std::string_view id) const {
  if (id == "latest") {
    auto all = list();
    if (all.empty()) throw BackupError(fmt::format("no backups in {}", root_.string()));
    return all.back();
  }
  if (id.empty() || id.find('/') != std::string_view::npos || id.starts_with('.')) {
    throw BackupError(fmt::format("'{}' is not a backup id", id));
  }
  const fs::path dir = root_ / std::string(id);
  if (!fs::exists(dir / kManifestFile)) {
    throw BackupError(
        fmt::format("no backup '{}' in {} (`nexdb backup list` shows them)", id, root_.string()));
  }
  BackupInfo info = manifest_from_json(read_file(dir / kManifestFile), dir);
  info.last_verified = read_verification(dir);
  return info;
}

void Repository::record_verification(const BackupInfo& info, const VerifyRecord& record) const {
  const Json j = {
      {"at", format_timestamp(record.at)}, {"ok", record.ok}, {"summary", record.summary}};
  write_file_atomically(info.directory / kVerifyFile, j.dump(2) + "\n");
}

std::vector<fs::path> Repository::partials() const {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  for (const auto& entry : fs::directory_iterator(root_)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.starts_with(kPartialPrefix)) out.push_back(entry.path());
  }
  return out;
}

}  // namespace nexdb::backup_detail
