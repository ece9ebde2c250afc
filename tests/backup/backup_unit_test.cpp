// Backup internals that need no server: child processes, connection strings, manifests,
// checksums and retention.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

TEST(BackupRetention, KeepsByCountAndAgeAndClearsOldUnfinishedBackups) {
  TempDir dir;
  const Repository repository(dir.path());
  const Timestamp now = now_utc();
  std::vector<std::string> ids;
  for (int days_ago : {30, 10, 2, 0}) {
    BackupInfo info{.kind = BackupKind::sqlite,
                    .started_at = now - std::chrono::hours(24 * days_ago)};
    info.finished_at = info.started_at;
    info.id = repository.new_id(info.kind, info.started_at);
    repository.commit(repository.begin(info.id), info);
    ids.push_back(info.id);
  }
  const fs::path stale = repository.begin("stale");
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(48));
  const fs::path running = repository.begin("running");

  BackupManager manager({.repository = dir.path()});
  const PruneReport report =
      manager.prune(RetentionPolicy{.keep_last = 1, .keep_for = std::chrono::hours(24 * 7)});
  EXPECT_EQ(report.kept, (std::vector<std::string>{ids[3], ids[2]}));
  EXPECT_EQ(report.removed, (std::vector<std::string>{ids[1], ids[0], stale.filename().string()}));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(running));
  // With no rule at all nothing is pruned.
  EXPECT_TRUE(manager.prune().removed.empty());
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
