// Backup internals that need no server: child processes, connection strings, manifests,
// checksums and retention.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backup/pg_conninfo.hpp"
#include "backup/process.hpp"
#include "backup/repository.hpp"
#include "backup/table_stats.hpp"
#include "nexdb/backup.hpp"
#include "nexdb/config.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

namespace fs = std::filesystem;
using namespace backup_detail;

TEST(BackupProcess, CapturesOutputExitCodeAndStderrLines) {
  std::vector<std::string> lines;
  const CommandResult r = run(
      {.args = {"/bin/sh", "-c", "echo out; printf 'one\\rtwo\\n' >&2; echo \"$NEXDB_X\"; exit 3"},
       .env = {{"NEXDB_X", "from env"}},
       .on_stderr_line = [&](std::string_view l) { lines.emplace_back(l); }});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\nfrom env\n");
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
  try {
    run_checked({.args = {"/bin/sh", "-c", "echo broken >&2; exit 2"}}, "the tool");
    FAIL() << "no error";
  } catch (const BackupError& e) {
    EXPECT_EQ(std::string(e.what()), "the tool failed (exit 2): broken");
  }
  EXPECT_THROW(run({.args = {"/no/such/program"}}), BackupError);
}

/// The pid a shell wrote to `file` (waits for it to appear).
pid_t pid_from(const fs::path& file) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(file);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

/// A shell that writes its pid to `pid_file`, then becomes `command`.
std::vector<std::string> shell_with_pid(const fs::path& pid_file, const std::string& command) {
  return {"/bin/sh", "-c", "echo $$ > " + pid_file.string() + "; exec " + command};
}

/// Gone, or a zombie nobody reaped (it no longer runs either way); waits up to 10 s.
bool ends(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto close = line.rfind(')');
    if (close != std::string::npos && line.substr(close + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// The process whose pid is in `pid_file` has stopped running.
void expect_stopped(const fs::path& pid_file, const char* why) {
  const pid_t pid = pid_from(pid_file);
  ASSERT_GT(pid, 0) << "the child never started";
  EXPECT_TRUE(ends(pid)) << why;
}

TEST(BackupProcess, StopsAChildThatRunsPastItsTimeout) {
  TempDir dir;
  const fs::path pid_file = dir.path() + "/pid";
  try {
    run({.args = shell_with_pid(pid_file, "sleep 30"), .timeout = std::chrono::milliseconds(300)});
    FAIL() << "no timeout";
  } catch (const BackupError& e) {
    EXPECT_NE(std::string(e.what()).find("longer than its timeout"), std::string::npos) << e.what();
  }
  expect_stopped(pid_file, "it ran on past its timeout");
}

TEST(BackupProcess, AThrowingProgressCallbackStopsAChattyChild) {
  // The child writes to stderr without end: once nobody reads the pipe it would block for ever,
  // and so would a parent waiting for it to exit.
  TempDir dir;
  const fs::path pid_file = dir.path() + "/pid";
  int lines = 0;
  Command chatty{.args = shell_with_pid(pid_file, "yes progress 1>&2"),
                 .on_stderr_line = [&](std::string_view) {
                   if (++lines == 3) throw std::runtime_error("cancelled by the caller");
                 }};
  EXPECT_THROW(run(chatty), std::runtime_error);
  expect_stopped(pid_file, "it ran on after its caller gave up");
}

TEST(BackupProcess, AChildDoesNotOutliveNexdb) {
  TempDir dir;
  const fs::path pid_file = dir.path() + "/pid";
  const pid_t nexdb = ::fork();  // stands for a nexdb process that dies mid-backup
  ASSERT_GE(nexdb, 0);
  if (nexdb == 0) {
    try {
      run({.args = shell_with_pid(pid_file, "sleep 30")});
    } catch (...) {
    }
    ::_exit(0);
  }
  ASSERT_GT(pid_from(pid_file), 0);
  ::kill(nexdb, SIGKILL);
  int status = 0;
  ::waitpid(nexdb, &status, 0);
  expect_stopped(pid_file, "pg_dump & co. would go on after nexdb died");
}

TEST(BackupProcess, SendsStdoutToAFile) {
  TempDir dir;
  const fs::path file = dir.path() + "/out.txt";
  run_checked({.args = {"/bin/echo", "hello"}, .stdout_file = file}, "echo");
  std::ifstream in(file);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "hello");
}

TEST(BackupConnInfo, KeepsThePasswordOutOfTheArguments) {
  const PgConnInfo info =
      parse_conninfo("postgresql://app:s3cr%27et@db.example:6432/orders?sslmode=require");
  EXPECT_EQ(info.password, "s3cr'et");
  EXPECT_EQ(info.dbname, "orders");
  EXPECT_EQ(info.user, "app");
  EXPECT_EQ(info.conninfo.find("s3cr"), std::string::npos);
  EXPECT_NE(info.conninfo.find("sslmode='require'"), std::string::npos);
  EXPECT_NE(info.with_dbname("postgres").conninfo.find("dbname='postgres'"), std::string::npos);
  EXPECT_NE(info.connect_string().find("password='s3cr\\'et'"), std::string::npos);
  Command command;
  info.add_password(command);
  ASSERT_EQ(command.env.size(), 1u);
  EXPECT_EQ(command.env[0].first, "PGPASSWORD");
  try {
    parse_conninfo("postgresql://u:hunter2@host/db?nonsense_option=1");
    FAIL() << "accepted an unknown option";
  } catch (const BackupError& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
}

BackupInfo sample_info() {
  BackupInfo info{
      .id = "20261125-101500-123-logical", .kind = BackupKind::logical, .label = "before upgrade"};
  info.started_at = *parse_timestamp("2026-11-25 10:15:00.123+00");
  info.finished_at = *parse_timestamp("2026-11-25 10:16:00+00");
  info.parts.push_back(
      {.name = "shard-0",
       .source = "127.0.0.1:5432/app",
       .server_version = "15.8",
       .schema_version = "1.1.0",
       .files = {{.path = "database.dump", .size = 1234, .checksum = std::string(32, 'a')}},
       .tables = {{.schema = "public",
                   .name = "orders",
                   .rows = 42,
                   .key_columns = {"id"},
                   .key_checksum = "-123"}},
       .size = 1234,
       .start_lsn = "0/3000060"});
  info.parts.push_back(
      {.name = "shard-1", .dialect = Dialect::postgres, .schema_version = std::nullopt});
  info.size = 1234;
  return info;
}

TEST(BackupManifest, RoundTripsEveryField) {
  const BackupInfo info = sample_info();
  const BackupInfo back = manifest_from_json(manifest_to_json(info), "/repo/x");
  EXPECT_EQ(back.id, info.id);
  EXPECT_EQ(back.kind, info.kind);
  EXPECT_EQ(back.label, info.label);
  EXPECT_EQ(back.started_at, info.started_at);
  EXPECT_EQ(back.finished_at, info.finished_at);
  ASSERT_EQ(back.parts.size(), 2u);
  EXPECT_EQ(back.parts[0].tables, info.parts[0].tables);
  EXPECT_EQ(back.parts[0].files[0].checksum, info.parts[0].files[0].checksum);
  EXPECT_EQ(back.parts[0].schema_version, "1.1.0");
  EXPECT_EQ(back.parts[0].start_lsn, "0/3000060");
  EXPECT_FALSE(back.parts[1].schema_version.has_value());
  EXPECT_EQ(back.directory, "/repo/x");
  EXPECT_THROW(manifest_from_json("{\"format\": 99}", "/repo/x"), BackupError);
  EXPECT_THROW(manifest_from_json("not json", "/repo/x"), BackupError);
  EXPECT_EQ(back.part("shard-1").name, "shard-1");
  EXPECT_THROW(back.part("shard-9"), BackupError);
}

TEST(BackupChecksum, IsStableAndSeesOneChangedByte) {
  TempDir dir;
  const fs::path file = dir.path() + "/f";
  std::ofstream(file) << std::string(100000, 'x');
  const std::string a = file_checksum(file);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(file_checksum(file), a);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(54321);
    f.put('y');
  }
  EXPECT_NE(file_checksum(file), a);
}

/// A complete backup of `kind` with one part, started `days_ago` days ago.
BackupInfo add_backup(const Repository& repository, int days_ago,
                      BackupKind kind = BackupKind::sqlite, std::string part = "default") {
  BackupInfo info{.kind = kind, .started_at = now_utc() - std::chrono::hours(24 * days_ago)};
  info.parts.push_back({.name = std::move(part), .dialect = Dialect::sqlite});
  info.finished_at = info.started_at;
  info.id = repository.new_id(info.kind, info.started_at);
  repository.commit(repository.begin(info.id), info);
  return info;
}

void set_age(const fs::path& path, std::chrono::hours age) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
}

TEST(BackupRetention, KeepsByCountAndAgeAndClearsAbandonedUnfinishedBackups) {
  TempDir dir;
  const Repository repository(dir.path());
  std::vector<std::string> ids;
  for (int days_ago : {30, 10, 2, 0}) ids.push_back(add_backup(repository, days_ago).id);
  // A backup whose writer died a minute ago (its lock went with it), one being written for two
  // days (its directory untouched since: a single big pg_dump file grows below it), and two
  // from an earlier nexdb (no lock file): one written to an hour ago, one abandoned long ago.
  fs::path abandoned = repository.begin("abandoned").path();
  const PartialBackup running = repository.begin("running");
  fs::create_directories(running.path() / "main");
  set_age(running.path() / "main", std::chrono::hours(48));
  set_age(running.path(), std::chrono::hours(48));
  const fs::path old_recent = dir.path() + "/.partial-old-recent";
  fs::create_directories(old_recent / "main");
  std::ofstream(old_recent / "main" / "database.dump") << "growing";
  set_age(old_recent / "main", std::chrono::hours(48));
  set_age(old_recent, std::chrono::hours(48));
  const fs::path old_stale = dir.path() + "/.partial-old-stale";
  fs::create_directories(old_stale);
  set_age(old_stale, std::chrono::hours(48));

  BackupManager manager({.repository = dir.path()});
  const PruneReport report =
      manager.prune(RetentionPolicy{.keep_last = 1, .keep_for = std::chrono::hours(24 * 7)});
  EXPECT_EQ(report.kept, (std::vector<std::string>{ids[3], ids[2]}));
  std::vector<std::string> removed = report.removed;
  std::sort(removed.begin() + 2, removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{ids[1], ids[0], abandoned.filename().string(),
                                               ".partial-old-stale"}));
  EXPECT_FALSE(fs::exists(abandoned));
  EXPECT_FALSE(fs::exists(old_stale));
  EXPECT_TRUE(fs::exists(running.path() / "main")) << "a backup being written was removed";
  EXPECT_TRUE(fs::exists(old_recent));
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / ids[3] / kInProgressFile));
  // With no rule at all no complete backup is pruned.
  EXPECT_EQ(manager.prune().kept.size(), 2u);
}

TEST(BackupRetention, NeverRemovesTheNewestVerifiedBackupAndFailedOnesDoNotCount) {
  TempDir dir;
  const Repository repository(dir.path());
  const BackupInfo verified = add_backup(repository, 3);
  const BackupInfo unverified = add_backup(repository, 2);
  const BackupInfo failed = add_backup(repository, 1);
  repository.record_verification(verified, {.at = now_utc(), .ok = true});
  repository.record_verification(failed, {.at = now_utc(), .ok = false});
  BackupManager manager({.repository = dir.path()});

  // keep_last 1: the newest backup that did not fail (unverified), and the newest verified one.
  const PruneReport one = manager.prune(RetentionPolicy{.keep_last = 1}, true);
  EXPECT_EQ(one.kept, (std::vector<std::string>{unverified.id, verified.id}));
  EXPECT_EQ(one.removed, (std::vector<std::string>{failed.id}));

  // Verified, then a newer one that failed: keep_last 1 keeps the verified one, not the failure.
  fs::remove_all(unverified.directory);
  const PruneReport report = manager.prune(RetentionPolicy{.keep_last = 1});
  EXPECT_EQ(report.kept, (std::vector<std::string>{verified.id}));
  EXPECT_EQ(report.removed, (std::vector<std::string>{failed.id}));
  EXPECT_TRUE(fs::exists(verified.directory));
}

TEST(BackupRetention, EachClusterAndKindKeepsItsOwnNewest) {
  TempDir dir;
  const Repository repository(dir.path());
  const BackupInfo a_old = add_backup(repository, 5, BackupKind::logical, "a");
  const BackupInfo b_only = add_backup(repository, 4, BackupKind::logical, "b");
  const BackupInfo a_new = add_backup(repository, 3, BackupKind::logical, "a");
  const BackupInfo a_physical = add_backup(repository, 2, BackupKind::physical, "a");
  const PruneReport report =
      BackupManager({.repository = dir.path()}).prune(RetentionPolicy{.keep_last = 1});
  std::vector<std::string> kept = report.kept;
  std::sort(kept.begin(), kept.end());
  std::vector<std::string> want{b_only.id, a_new.id, a_physical.id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(kept, want) << "backups of cluster b counted against cluster a's";
  EXPECT_EQ(report.removed, (std::vector<std::string>{a_old.id}));
}

TEST(BackupTargets, EveryClusterOfTheConfigurationOrOne) {
  const Config config = Config::parse(R"(
[clusters.shard1]
primary = "postgresql://app@db1/app"
[clusters.shard2]
primary = "postgresql://app@db2/app"
)");
  const auto all = backup_targets(config);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "shard1");
  EXPECT_EQ(all[1].uri, "postgresql://app@db2/app");
  EXPECT_EQ(backup_targets(config, "shard2").size(), 1u);
  EXPECT_THROW(backup_targets(config, "shard3"), ConfigError);
}

TEST(BackupKinds, HaveNames) {
  for (BackupKind k : {BackupKind::logical, BackupKind::physical, BackupKind::sqlite}) {
    EXPECT_EQ(backup_kind_from_string(to_string(k)), k);
  }
  EXPECT_FALSE(backup_kind_from_string("incremental").has_value());
}

}  // namespace
}  // namespace nexdb::test
