// Logical PostgreSQL backups: pg_dump in an exported snapshot, pg_restore into a scratch
// instance (or a temporary database) to verify, or into a named database to restore.
#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <random>

#include "backup/parts.hpp"
#include "backup/pg_conninfo.hpp"
#include "backup/process.hpp"
#include "backup/scratch.hpp"
#include "backup/table_stats.hpp"
#include "nexdb/identifier.hpp"

namespace nexdb::backup_detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCustomFile = "database.dump";
constexpr std::string_view kDirectoryDump = "database.dir";

// Relations an application created (extension members excluded: pg_stat_statements' view is
// not the application's data).
constexpr std::string_view kUserRelations = R"(
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e'))";

std::unique_ptr<Connection> open(const std::string& conninfo, std::string_view application) {
  return connect(ConnectOptions{.uri = conninfo,
                                .connect_timeout = std::chrono::seconds(10),
                                .statement_cache_size = 0,
                                .application_name = std::string(application)});
}

fs::path dump_path(const BackupPart& part, const fs::path& dir) {
  for (const BackupFile& f : part.files) {
    if (f.path.starts_with(kDirectoryDump)) return dir / kDirectoryDump;
  }
  return dir / kCustomFile;
}

/// Counts "processing data for table" / "dumping contents of table" lines as tables done.
std::function<void(std::string_view)> table_counter(const BackupProgressFn& progress,
                                                    std::string_view phase, std::string_view target,
                                                    std::size_t total) {
  if (!progress) return {};
  auto done = std::make_shared<std::size_t>(0);
  return [=](std::string_view line) {
    if (line.find("contents of table") == std::string_view::npos &&
        line.find("data for table") == std::string_view::npos) {
      return;
    }
    *done = std::min(*done + 1, total);
    progress({.phase = phase, .target = target, .done = *done, .total = total, .unit = "tables"});
  };
}

void pg_restore(const BackupSettings& settings, const BackupPart& part, const fs::path& dir,
                const PgConnInfo& target, std::vector<std::string> extra,
                const BackupProgressFn& progress) {
  Command command{.args = {(settings.pg_bindir / "pg_restore").string(), "--dbname",
                           target.conninfo, "--exit-on-error", "--verbose",
                           fmt::format("--jobs={}", std::max(settings.jobs, 1))}};
  command.args.insert(command.args.end(), extra.begin(), extra.end());
  command.args.push_back(dump_path(part, dir).string());
  command.on_stderr_line = table_counter(progress, "restore", part.name, part.tables.size());
  command.timeout = settings.command_timeout;
  target.add_password(command);
  run_checked(command, fmt::format("pg_restore of part '{}'", part.name));
}

/// Restores into `conninfo`'s database, reads its tables and schema version, compares.
void restore_and_check(const BackupSettings& settings, const BackupPart& part, const fs::path& dir,
                       const std::string& conninfo, const BackupProgressFn& progress,
                       PartVerification& out) {
  VerifyCheck restore{.target = part.name, .name = "restore"};
  try {
    pg_restore(settings, part, dir, parse_conninfo(conninfo), {"--no-owner", "--no-privileges"},
               progress);
    restore.ok = true;
    restore.detail = "pg_restore completed without errors";
  } catch (const BackupError& e) {
    restore.detail = e.message();
  }
  out.checks.push_back(restore);
  if (!restore.ok) return;
  if (progress) progress({.phase = "check", .target = part.name});
  auto connection = open(conninfo, "nexdb verify");
  out.restored = postgres_table_stats(*connection);
  compare_tables(part.name, part.tables, out.restored, out.checks);
  out.checks.push_back(
      schema_version_check(part, schema_version_of(*connection, settings.history_table)));
}

std::string unique_database_name() {
  static std::atomic<int> counter{0};
  return fmt::format("nexdb_verify_{}_{}_{}", ::getpid(), counter++,
                     std::random_device{}() % 100000);
}

/// verify_server mode: a temporary database on a server we are given, always dropped.
void verify_on_server(const BackupSettings& settings, const BackupPart& part, const fs::path& dir,
                      const BackupProgressFn& progress, PartVerification& out) {
  const PgConnInfo server = parse_conninfo(settings.verify_server);
  const std::string name = unique_database_name();
  auto admin = open(server.with_dbname("postgres").connect_string(), "nexdb verify");
  admin->execute_script(
      fmt::format("CREATE DATABASE {} TEMPLATE template0", quote_identifier(name)));
  try {
    restore_and_check(settings, part, dir, server.with_dbname(name).connect_string(), progress,
                      out);
  } catch (...) {
    admin->execute_script(
        fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(name)));
    throw;
  }
  admin->execute_script(
      fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(name)));
}

}  // namespace

LogicalSnapshot::LogicalSnapshot(const BackupSettings& settings, const BackupTarget& target)
    : uri_(target.uri) {
  const PgConnInfo info = parse_conninfo(target.uri);
  connection_ = open(info.connect_string(), "nexdb backup");
  part_ = BackupPart{
      .name = target.name, .source = connection_->description(), .dialect = Dialect::postgres};
  connection_->execute_script("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  // Reading the tables' statistics takes their share locks, as pg_dump does: queue behind an
  // ALTER TABLE no longer than pg_dump would.
  connection_->execute_script(
      fmt::format("SET LOCAL lock_timeout = {}", settings.lock_wait_timeout.count()));
  const Rows row = connection_->execute(
      "SELECT pg_export_snapshot(), (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
      "ELSE pg_current_wal_lsn() END)::text, current_setting('server_version')");
  snapshot_ = row[0].get<std::string>(0);
  part_.start_lsn = row[0].get<std::string>(1);
  part_.server_version = row[0].get<std::string>(2);
  try {
    part_.tables = postgres_table_stats(*connection_);
  } catch (const TimeoutError& e) {
    if (e.sqlstate() != "55P03") throw;  // lock_not_available
    throw BackupError(fmt::format(
        "backup of '{}' ({}): a table stayed locked for longer than lock_wait_timeout ({} ms): {}",
        target.name, part_.source, settings.lock_wait_timeout.count(), e.message()));
  }
  part_.schema_version = schema_version_of(*connection_, settings.history_table);
}

LogicalSnapshot::~LogicalSnapshot() {
  try {
    if (connection_ && !connection_->is_broken()) connection_->execute_script("COMMIT");
  } catch (const std::exception&) {
    // Closing the connection ends the transaction anyway.
  }
}

void LogicalSnapshot::dump(const BackupSettings& settings, const fs::path& dir,
                           const BackupProgressFn& progress) {
  const PgConnInfo info = parse_conninfo(uri_);
  const bool directory = settings.dump_format == DumpFormat::directory;
  Command command{
      .args = {(settings.pg_bindir / "pg_dump").string(), "--dbname", info.conninfo,
               "--snapshot=" + snapshot_, "--verbose",
               fmt::format("--lock-wait-timeout={}", settings.lock_wait_timeout.count()),
               directory ? "--format=directory" : "--format=custom", "--file",
               (dir / (directory ? kDirectoryDump : kCustomFile)).string()}};
  if (directory) command.args.push_back(fmt::format("--jobs={}", std::max(settings.jobs, 1)));
  command.on_stderr_line = table_counter(progress, "dump", part_.name, part_.tables.size());
  command.timeout = settings.command_timeout;
  info.add_password(command);
  run_checked(command, fmt::format("pg_dump of '{}' ({})", part_.name, part_.source));
  if (progress) progress({.phase = "checksum", .target = part_.name});
  part_.files = files_of(dir);
  part_.size = 0;
  for (const BackupFile& f : part_.files) part_.size += f.size;
}

PartVerification verify_logical(const BackupSettings& settings, const BackupPart& part,
                                const fs::path& dir, const BackupProgressFn& progress) {
  PartVerification out;
  check_files(part, dir, out.checks);
  if (!all_ok(out.checks)) return out;  // pg_restore of a corrupt file proves nothing more
  if (!settings.verify_server.empty()) {
    verify_on_server(settings, part, dir, progress, out);
    return out;
  }
  ScratchInstance scratch = ScratchInstance::fresh(settings, progress);
  auto admin = open(scratch.conninfo("postgres", kScratchSuperuser), "nexdb verify");
  admin->execute_script("CREATE DATABASE nexdb_verify TEMPLATE template0");
  restore_and_check(settings, part, dir, scratch.conninfo("nexdb_verify", kScratchSuperuser),
                    progress, out);
  return out;
}

void restore_logical(const BackupSettings& settings, const BackupPart& part, const fs::path& dir,
                     const RestoreTarget& target) {
  const PgConnInfo info = parse_conninfo(target.uri);
  if (info.dbname.empty()) throw BackupError("the restore target URI must name its database");
  bool created = false;
  {
    auto admin = open(info.with_dbname("postgres").connect_string(), "nexdb restore");
    if (admin->execute("SELECT 1 FROM pg_database WHERE datname = $1", info.dbname).empty()) {
      admin->execute_script(
          fmt::format("CREATE DATABASE {} TEMPLATE template0", quote_identifier(info.dbname)));
      created = true;
    }
  }
  std::vector<std::string> extra;
  if (!created) {
    auto connection = open(info.connect_string(), "nexdb restore");
    const auto relations = connection->execute(std::string(kUserRelations)).scalar<std::int64_t>();
    if (relations > 0 && !target.force) {
      throw BackupError(
          fmt::format("refusing to restore into {}: it is not empty ({} tables, views or "
                      "sequences); restore into a new "
                      "database, or force it to replace the objects the backup contains",
                      connection->description(), relations));
    }
    if (relations > 0) extra = {"--clean", "--if-exists"};
  }
  if (target.no_owner) extra.insert(extra.end(), {"--no-owner", "--no-privileges"});
  pg_restore(settings, part, dir, info, extra, target.progress);
}

}  // namespace nexdb::backup_detail
