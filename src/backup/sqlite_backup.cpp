// SQLite backups through the online backup API: the copy is made inside one read transaction
// of the source, so it is a consistent snapshot while the application keeps writing (in WAL
// mode writers are not blocked), and the manifest's table statistics come from that snapshot.
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "backup/parts.hpp"
#include "backup/table_stats.hpp"
#include "driver/sqlite/sqlite_connection.hpp"
#include "nexdb/identifier.hpp"
#include "nexdb/migrate.hpp"

namespace nexdb::backup_detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBackupFile = "database.sqlite3";
constexpr int kPagesPerStep = 1024;

/// One sqlite3 handle, closed by the destructor.
class Handle {
 public:
  Handle(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw BackupError(fmt::format("cannot open SQLite database {}: {}", path, reason));
    }
    sqlite3_busy_timeout(db_, 10000);
    sqlite3_extended_result_codes(db_, 1);
  }
  ~Handle() { sqlite3_close(db_); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  sqlite3* get() const noexcept { return db_; }

  void exec(const std::string& sql) const {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string reason = error != nullptr ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      throw BackupError(fmt::format("SQLite: {} ({})", reason, sql));
    }
  }
  /// Every row of a query, each column as text (NULL as "").
  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    std::vector<std::vector<std::string>> out;
    auto callback = [](void* data, int n, char** values, char**) {
      auto& rows = *static_cast<std::vector<std::vector<std::string>>*>(data);
      auto& row = rows.emplace_back();
      for (int i = 0; i < n; ++i) row.emplace_back(values[i] != nullptr ? values[i] : "");
      return 0;
    };
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), callback, &out, &error) != SQLITE_OK) {
      const std::string reason = error != nullptr ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      throw BackupError(fmt::format("SQLite: {} ({})", reason, sql));
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

bool table_exists(const Handle& db, const std::string& table) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                         -1, &raw, nullptr) != SQLITE_OK) {
    throw BackupError(fmt::format("SQLite: {}", sqlite3_errmsg(db.get())));
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw, &sqlite3_finalize);
  sqlite3_bind_text(raw, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(raw) == SQLITE_ROW;
}

std::optional<std::string> sqlite_schema_version(const Handle& db, const std::string& table) {
  if (!table_exists(db, table)) return std::nullopt;
  std::vector<HistoryEntry> entries;
  const std::string quoted = quote_identifier(table);
  for (const auto& row :
       db.rows(fmt::format("SELECT version, kind, success FROM {} ORDER BY id", quoted))) {
    HistoryEntry e{.version = row[0], .success = row[2] == "1"};
    e.kind = row[1] == "undo"       ? MigrationKind::undo
             : row[1] == "baseline" ? MigrationKind::baseline
                                    : MigrationKind::sql;
    entries.push_back(std::move(e));
  }
  return current_version_of(entries);
}

/// Copies every page of `from` into `to`, a step at a time, reporting pages.
void copy_pages(const Handle& from, const Handle& to, const BackupProgressFn& progress,
                std::string_view phase, std::string_view target) {
  std::unique_ptr<sqlite3_backup, decltype(&sqlite3_backup_finish)> backup(
      sqlite3_backup_init(to.get(), "main", from.get(), "main"), &sqlite3_backup_finish);
  if (!backup) throw BackupError(fmt::format("SQLite backup: {}", sqlite3_errmsg(to.get())));
  int rc;
  while ((rc = sqlite3_backup_step(backup.get(), kPagesPerStep)) == SQLITE_OK ||
         rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (rc != SQLITE_OK) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto total = static_cast<std::uint64_t>(sqlite3_backup_pagecount(backup.get()));
    const auto left = static_cast<std::uint64_t>(sqlite3_backup_remaining(backup.get()));
    if (progress)
      progress({.phase = phase,
                .target = target,
                .done = total - left,
                .total = total,
                .unit = "pages"});
  }
  if (rc != SQLITE_DONE) throw BackupError(fmt::format("SQLite backup: {}", sqlite3_errstr(rc)));
  if (sqlite3_backup_finish(backup.release()) != SQLITE_OK) {
    throw BackupError(fmt::format("SQLite backup: {}", sqlite3_errmsg(to.get())));
  }
}

std::string source_path(const std::string& uri) {
  const std::string path = detail::sqlite_path_of(uri);
  if (path == ":memory:")
    throw BackupError("an in-memory SQLite database has nothing on disk to back up or restore");
  return path;
}

bool has_tables(const Handle& db) {
  return !db.rows(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                "ESCAPE '\\'")
              .empty();
}

void remove_database_files(const fs::path& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    fs::remove(path.string() + suffix, ignored);
}

}  // namespace

BackupPart sqlite_backup(const BackupSettings& settings, const BackupTarget& target,
                         const fs::path& dir, const BackupProgressFn& progress) {
  const std::string path = source_path(target.uri);
  if (!fs::exists(path)) throw BackupError(fmt::format("SQLite database {} does not exist", path));
  Handle source(path, SQLITE_OPEN_READWRITE);
  BackupPart part{.name = target.name,
                  .source = path,
                  .dialect = Dialect::sqlite,
                  .server_version = sqlite3_libversion()};
  // One read transaction for the statistics and the copy: both see the same snapshot.
  source.exec("BEGIN");
  try {
    source.exec("SELECT count(*) FROM sqlite_master");
    if (progress) progress({.phase = "snapshot", .target = target.name});
    part.tables = sqlite_table_stats(source.get());
    part.schema_version = sqlite_schema_version(source, settings.history_table);
    {
      Handle copy((dir / kBackupFile).string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      copy_pages(source, copy, progress, "copy", target.name);
      copy.exec("PRAGMA journal_mode = DELETE");  // one self-contained file, no -wal beside it
    }
    source.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(source.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  if (progress) progress({.phase = "checksum", .target = target.name});
  part.files = files_of(dir);
  for (const BackupFile& f : part.files) part.size += f.size;
  return part;
}

PartVerification verify_sqlite(const BackupSettings& settings, const BackupPart& part,
                               const fs::path& dir, const BackupProgressFn& progress) {
  PartVerification out;
  check_files(part, dir, out.checks);
  if (!all_ok(out.checks)) return out;
  static std::atomic<int> counter{0};
  const fs::path scratch =
      settings.scratch_dir / fmt::format("nexdb-verify-{}-{}.sqlite3", ::getpid(), counter++);
  remove_database_files(scratch);
  try {
    Handle backup((dir / kBackupFile).string(), SQLITE_OPEN_READONLY);
    Handle copy(scratch.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    copy_pages(backup, copy, progress, "restore", part.name);
    out.checks.push_back({.target = part.name,
                          .name = "restore",
                          .ok = true,
                          .detail = fmt::format("copied into {}", scratch.string())});
    if (progress) progress({.phase = "check", .target = part.name});
    const auto integrity = copy.rows("PRAGMA integrity_check");
    VerifyCheck check{.target = part.name, .name = "integrity_check"};
    check.ok = integrity.size() == 1 && integrity[0][0] == "ok";
    for (const auto& row : integrity) check.detail += (check.detail.empty() ? "" : "; ") + row[0];
    out.checks.push_back(check);
    out.restored = sqlite_table_stats(copy.get());
    compare_tables(part.name, part.tables, out.restored, out.checks);
    out.checks.push_back(
        schema_version_check(part, sqlite_schema_version(copy, settings.history_table)));
  } catch (const BackupError& e) {
    out.checks.push_back(
        {.target = part.name, .name = "restore", .ok = false, .detail = e.message()});
  }
  remove_database_files(scratch);
  return out;
}

void restore_sqlite(const BackupPart& part, const fs::path& dir, const RestoreTarget& target) {
  const std::string path = source_path(target.uri);
  if (fs::exists(path)) {
    Handle existing(path, SQLITE_OPEN_READWRITE);
    if (has_tables(existing) && !target.force) {
      throw BackupError(fmt::format(
          "refusing to restore into {}: it already has tables (force replaces them)", path));
    }
  }
  if (const auto parent = fs::path(path).parent_path(); !parent.empty())
    fs::create_directories(parent);
  Handle backup((dir / kBackupFile).string(), SQLITE_OPEN_READONLY);
  Handle restored(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  copy_pages(backup, restored, target.progress, "restore", part.name);
}

}  // namespace nexdb::backup_detail
