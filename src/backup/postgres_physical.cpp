// Physical PostgreSQL backups: pg_basebackup (plain format, WAL streamed alongside, its own
// manifest with per-file checksums), verified by pg_verifybackup, by starting a copy (which
// replays the WAL to a consistent state) and by amcheck over every database of the copy.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "backup/durable_file.hpp"
#include "backup/parts.hpp"
#include "backup/pg_conninfo.hpp"
#include "backup/process.hpp"
#include "backup/scratch.hpp"
#include "backup/table_stats.hpp"

namespace nexdb::backup_detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDataDir = "data";
constexpr std::string_view kServerManifest = "data/backup_manifest";

std::unique_ptr<Connection> open(const std::string& conninfo) {
  return connect(ConnectOptions{.uri = conninfo,
                                .connect_timeout = std::chrono::seconds(10),
                                .statement_cache_size = 0,
                                .application_name = "nexdb backup"});
}

/// pg_basebackup --progress redraws "  1234/56789 kB (2%), 0/1 tablespace".
std::function<void(std::string_view)> kb_counter(const BackupProgressFn& progress,
                                                 std::string_view target) {
  if (!progress) return {};
  return [=](std::string_view line) {
    static const std::regex pattern(R"((\d+)/(\d+) kB)");
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(line.begin(), line.end(), m, pattern)) return;
    progress({.phase = "copy",
              .target = target,
              .done = std::stoull(m[1].str()),
              .total = std::stoull(m[2].str()),
              .unit = "kB"});
  };
}

std::uint64_t tree_size(const fs::path& dir) {
  std::uint64_t size = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.is_symlink()) size += e.file_size();
  }
  return size;
}

/// The WAL range pg_basebackup recorded in its manifest.
void read_wal_range(const fs::path& manifest, BackupPart& part) {
  const auto j = nlohmann::json::parse(read_file(manifest));
  const auto& ranges = j.at("WAL-Ranges");
  if (ranges.empty()) return;
  part.start_lsn = ranges.front().at("Start-LSN");
  part.end_lsn = ranges.back().at("End-LSN");
}

VerifyCheck verifybackup(const BackupSettings& settings, const BackupPart& part,
                         const fs::path& dir) {
  VerifyCheck check{.target = part.name, .name = "pg_verifybackup"};
  const CommandResult r = run({.args = {(settings.pg_bindir / "pg_verifybackup").string(),
                                        "--quiet", (dir / kDataDir).string()},
                               .timeout = settings.command_timeout});
  check.ok = r.exit_code == 0;
  check.detail = check.ok ? "every file and the WAL match pg_basebackup's manifest" : r.err;
  while (!check.detail.empty() && check.detail.back() == '\n') check.detail.pop_back();
  return check;
}

VerifyCheck amcheck(const BackupSettings& settings, const ScratchInstance& scratch,
                    const BackupPart& part, const std::string& superuser) {
  VerifyCheck check{.target = part.name, .name = "amcheck"};
  try {
    scratch.run_tool({"pg_amcheck", "--maintenance-db", scratch.conninfo("postgres", superuser),
                      "--all", "--install-missing", "--no-strict-names"},
                     "pg_amcheck", settings.command_timeout);
    check.ok = true;
    check.detail = "heap and B-tree indexes of every database are consistent";
  } catch (const BackupError& e) {
    check.detail = e.message();
  }
  return check;
}

}  // namespace

BackupPart base_backup(const BackupSettings& settings, const BackupTarget& target,
                       const std::string& label, const fs::path& dir,
                       const BackupProgressFn& progress) {
  const PgConnInfo info = parse_conninfo(target.uri);
  BackupPart part{.name = target.name, .dialect = Dialect::postgres};
  {
    auto connection = open(info.connect_string());
    part.source = connection->description();
    const Rows row = connection->execute(
        "SELECT current_setting('server_version'), (SELECT rolname::text FROM pg_roles WHERE oid = "
        "10)");
    part.server_version = row[0].get<std::string>(0);
    part.superuser = row[0].get<std::string>(1);
    part.schema_version = schema_version_of(*connection, settings.history_table);
    const auto tablespaces = connection
                                 ->execute(
                                     "SELECT count(*) FROM pg_tablespace "
                                     "WHERE spcname NOT IN ('pg_default', 'pg_global')")
                                 .scalar<std::int64_t>();
    if (tablespaces > 0) {
      throw BackupError(fmt::format(
          "{} has {} tablespace(s) besides pg_default: physical backups of those are not "
          "supported yet; take a logical backup",
          part.source, tablespaces));
    }
  }
  Command command{.args = {(settings.pg_bindir / "pg_basebackup").string(), "--dbname",
                           info.conninfo, "--pgdata", (dir / kDataDir).string(), "--format=plain",
                           "--wal-method=stream", "--checkpoint=fast", "--progress", "--label",
                           label}};
  command.on_stderr_line = kb_counter(progress, target.name);
  command.timeout = settings.command_timeout;
  info.add_password(command);
  run_checked(command, fmt::format("pg_basebackup of '{}' ({})", target.name, part.source));
  if (progress) progress({.phase = "checksum", .target = target.name});
  read_wal_range(dir / kServerManifest, part);
  part.files = {{.path = std::string(kServerManifest),
                 .size = fs::file_size(dir / kServerManifest),
                 .checksum = file_checksum(dir / kServerManifest)}};
  part.size = tree_size(dir);
  return part;
}

PartVerification verify_physical(const BackupSettings& settings, const BackupPart& part,
                                 const fs::path& dir, const BackupProgressFn& progress) {
  PartVerification out;
  check_files(part, dir, out.checks);
  if (progress) progress({.phase = "pg_verifybackup", .target = part.name});
  out.checks.push_back(verifybackup(settings, part, dir));
  if (!all_ok(out.checks)) return out;

  VerifyCheck start{.target = part.name, .name = "recovery"};
  std::optional<ScratchInstance> scratch;
  try {
    scratch.emplace(ScratchInstance::from_base_backup(settings, dir / kDataDir, progress));
    start.ok = true;
    start.detail =
        fmt::format("the copy replayed its WAL up to {} and accepted connections", part.end_lsn);
  } catch (const BackupError& e) {
    start.detail = e.message();
  }
  out.checks.push_back(start);
  if (!start.ok) return out;

  if (progress) progress({.phase = "check", .target = part.name});
  out.checks.push_back(amcheck(settings, *scratch, part, part.superuser));
  // The application's database, as the copy has it (no manifest figures to compare: the
  // copy is the server as of the end of the backup, not of one snapshot).
  const std::string database = part.source.substr(part.source.rfind('/') + 1);
  VerifyCheck read{.target = part.name, .name = "read " + database};
  try {
    auto connection = open(scratch->conninfo(database, part.superuser));
    out.restored = postgres_table_stats(*connection);
    out.checks.push_back(
        schema_version_check(part, schema_version_of(*connection, settings.history_table)));
    read.ok = true;
    read.detail = fmt::format("{} tables read in full", out.restored.size());
  } catch (const Error& e) {
    read.detail = e.what();
  }
  out.checks.push_back(read);
  return out;
}

void restore_physical(const BackupSettings& settings, const BackupPart& part, const fs::path& dir,
                      const RestoreTarget& target) {
  if (target.directory.empty())
    throw BackupError("restoring a physical backup needs a target data directory");
  const fs::path to = fs::absolute(target.directory);
  if (fs::exists(to / "postmaster.pid")) {
    throw BackupError(fmt::format(
        "refusing to restore into {}: a server is using it (postmaster.pid)", to.string()));
  }
  if (fs::exists(to) && !fs::is_empty(to)) {
    if (!target.force) {
      throw BackupError(
          fmt::format("refusing to restore into {}: the directory is not empty (force replaces it)",
                      to.string()));
    }
    fs::remove_all(to);
  }
  fs::create_directories(to);
  fs::copy(dir / kDataDir, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::permissions(to, fs::perms::owner_all);
  give_to_user(to, server_user(settings.server_user));
  (void)part;
}

}  // namespace nexdb::backup_detail
