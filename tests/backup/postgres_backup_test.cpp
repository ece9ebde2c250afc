// BackupManager on the real PostgreSQL cluster: pg_dump / pg_restore through scratch instances,
// pg_basebackup checked by pg_verifybackup, recovery and amcheck, every shard in one manifest.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backup_support.hpp"
#include "nexdb/backup.hpp"
#include "nexdb/database.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

namespace fs = std::filesystem;

struct PostgresBackup : ::testing::Test {
  TempDir dir;
  PgDatabase source;
  Database db = Database::open(source.uri());
  BackupManager backups{test_settings(dir.path())};
  std::vector<BackupTarget> targets{{.name = "main", .uri = source.uri()}};

  void SetUp() override { seed(db, 20, 400); }
  void TearDown() override { db.close(); }
};

std::int64_t rows_of(const BackupPart& part, std::string_view table) {
  for (const TableStats& t : part.tables) {
    if (t.name == table) return t.rows;
  }
  return -1;
}

TEST_F(PostgresBackup, LogicalBackupVerifiesInAScratchInstanceAndRestoresIdentically) {
  const BackupInfo taken = backups.create(targets);
  EXPECT_EQ(taken.kind, BackupKind::logical);
  const BackupPart& part = taken.part("main");
  EXPECT_EQ(part.schema_version, "1.0.0");
  EXPECT_TRUE(part.server_version.starts_with("15")) << part.server_version;
  EXPECT_EQ(rows_of(part, "orders"), 400);
  EXPECT_FALSE(part.start_lsn.empty());
  ASSERT_EQ(part.files.size(), 1u);
  EXPECT_EQ(part.files[0].path, "database.dump");

  const VerifyReport report = backups.verify(taken.id);
  EXPECT_TRUE(report.ok) << report.failures();
  bool compared_orders = false;
  for (const VerifyCheck& c : report.checks)
    compared_orders = compared_orders || (c.name == "table public.orders" && c.ok);
  EXPECT_TRUE(compared_orders);

  const std::string target_name = unique_pg_database_name();
  const std::string target_uri =
      fmt::format("postgresql://nexdb@127.0.0.1:{}/{}", pg_base_port(), target_name);
  backups.restore(taken.id, {.uri = target_uri});  // created, since it does not exist
  {
    Database restored = Database::open(target_uri);
    EXPECT_EQ(fingerprint(restored), fingerprint(db));
    restored.close();
  }
  drop_pg_database(target_name);
}

TEST_F(PostgresBackup, ACorruptedDumpFailsVerification) {
  const BackupInfo taken = backups.create(targets);
  const fs::path dump = taken.directory / "main" / "database.dump";
  {
    std::fstream f(dump, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(dump) * 2 / 3));
    f.put('\x00');
    f.put('\x7f');
  }
  const VerifyReport report = backups.verify(taken.id);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.failures().find("checksum database.dump"), std::string::npos)
      << report.failures();
}

TEST_F(PostgresBackup, RestoreRefusesANonEmptyDatabaseUnlessForced) {
  const BackupInfo taken = backups.create(targets);
  db.execute("DELETE FROM orders WHERE id > 100");
  try {
    backups.restore(taken.id, {.uri = source.uri()});
    FAIL() << "restored over a database with tables";
  } catch (const BackupError& e) {
    EXPECT_NE(std::string(e.what()).find("not empty"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 100);
  db.close();
  backups.restore(taken.id, {.uri = source.uri(), .force = true});
  Database again = Database::open(source.uri());
  EXPECT_EQ(again.execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 400);
  again.close();
}

TEST_F(PostgresBackup, VerifyCanUseATemporaryDatabaseOnAGivenServer) {
  BackupSettings settings = test_settings(dir.path());
  settings.verify_server = pg_primary_uri();
  BackupManager on_server(settings);
  const BackupInfo taken = on_server.create(targets);
  const VerifyReport report = on_server.verify(taken.id);
  EXPECT_TRUE(report.ok) << report.failures();
  // The temporary database is gone again.
  auto admin = connect(pg_primary_uri());
  EXPECT_EQ(admin->execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'nexdb_verify_%'")
                .scalar<std::int64_t>(),
            0);
}

TEST_F(PostgresBackup, EveryShardGoesIntoOneManifest) {
  PgDatabase second;
  Database second_db = Database::open(second.uri());
  seed(second_db, 5, 50);
  second_db.close();
  const std::vector<BackupTarget> shards{{.name = "shard-0", .uri = source.uri()},
                                         {.name = "shard-1", .uri = second.uri()}};
  const BackupInfo taken = backups.create(shards);
  ASSERT_EQ(taken.parts.size(), 2u);
  EXPECT_EQ(rows_of(taken.part("shard-0"), "orders"), 400);
  EXPECT_EQ(rows_of(taken.part("shard-1"), "orders"), 50);
  EXPECT_EQ(backups.list().size(), 1u);
  const VerifyReport report = backups.verify(taken.id);
  EXPECT_TRUE(report.ok) << report.failures();
  EXPECT_THROW(backups.restore(taken.id, {.uri = source.uri()}), BackupError);  // which part?
}

TEST_F(PostgresBackup, DirectoryFormatDumpsInParallel) {
  BackupSettings settings = test_settings(dir.path());
  settings.dump_format = DumpFormat::directory;
  BackupManager parallel(settings);
  const BackupInfo taken = parallel.create(targets);
  EXPECT_GT(taken.parts[0].files.size(), 2u);  // toc.dat and one file per table
  const VerifyReport report = parallel.verify(taken.id);
  EXPECT_TRUE(report.ok) << report.failures();
}

TEST(PostgresPhysicalBackup, BaseBackupPassesVerifybackupRecoveryAndAmcheck) {
  TempDir dir;
  PgDatabase source;
  Database db = Database::open(source.uri());
  seed(db, 10, 200);
  BackupManager backups{test_settings(dir.path())};
  const std::vector<BackupTarget> targets{{.name = "primary", .uri = source.uri()}};
  const BackupInfo taken = backups.create(targets, {.kind = BackupKind::physical});
  const BackupPart& part = taken.part("primary");
  EXPECT_FALSE(part.start_lsn.empty());
  EXPECT_FALSE(part.end_lsn.empty());
  EXPECT_EQ(part.schema_version, "1.0.0");
  EXPECT_FALSE(part.superuser.empty());

  const VerifyReport report = backups.verify(taken.id);
  ASSERT_TRUE(report.ok) << report.failures();
  for (const char* check : {"pg_verifybackup", "recovery", "amcheck"}) {
    const bool passed = std::any_of(report.checks.begin(), report.checks.end(),
                                    [&](const VerifyCheck& c) { return c.name == check && c.ok; });
    EXPECT_TRUE(passed) << check;
  }
  std::int64_t orders = -1;
  for (const auto& [name, table] : report.restored) {
    if (table.name == "orders") orders = table.rows;
  }
  EXPECT_EQ(orders, 200);  // the copy holds the database as it was

  // A damaged data file is caught by pg_verifybackup's per-file checksums.
  const fs::path pg_control = taken.directory / "primary" / "data" / "global" / "pg_control";
  {
    std::fstream f(pg_control, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x13');
  }
  const VerifyReport broken = backups.verify(taken.id);
  EXPECT_FALSE(broken.ok);
  EXPECT_NE(broken.failures().find("pg_verifybackup"), std::string::npos) << broken.failures();
  db.close();
}

}  // namespace
}  // namespace nexdb::test
