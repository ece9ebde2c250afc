// BackupManager on real SQLite files: backup, verify, restore, refusal, corruption, retention.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backup_support.hpp"
#include "nexdb/backup.hpp"
#include "nexdb/database.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

namespace fs = std::filesystem;

struct SqliteBackup : ::testing::Test {
  TempDir dir;
  std::string source_uri = "sqlite:" + dir.path() + "/app.db";
  Database db = Database::open(source_uri);
  BackupManager backups{test_settings(dir.path())};
  std::vector<BackupTarget> targets{{.name = "app", .uri = source_uri}};

  void SetUp() override { seed(db, 20, 300); }
};

TEST_F(SqliteBackup, BackupRestoresToIdenticalRowsAndChecksums) {
  const BackupInfo taken = backups.create(targets, {.label = "nightly"});
  EXPECT_EQ(taken.kind, BackupKind::sqlite);
  ASSERT_EQ(taken.parts.size(), 1u);
  const BackupPart& part = taken.parts[0];
  EXPECT_EQ(part.schema_version, "1.0.0");
  EXPECT_FALSE(part.server_version.empty());
  ASSERT_EQ(part.files.size(), 1u);
  EXPECT_EQ(part.files[0].checksum.size(), 32u);
  std::map<std::string, std::int64_t> rows;
  for (const TableStats& t : part.tables) rows[t.name] = t.rows;
  EXPECT_EQ(rows["users"], 20);
  EXPECT_EQ(rows["orders"], 300);

  const VerifyReport report = backups.verify(taken.id);
  EXPECT_TRUE(report.ok) << report.failures();
  EXPECT_EQ(report.restored.size(), part.tables.size());

  const std::string restored_uri = "sqlite:" + dir.path() + "/restored.db";
  backups.restore(taken.id, {.uri = restored_uri});
  Database restored = Database::open(restored_uri);
  EXPECT_EQ(fingerprint(restored), fingerprint(db));

  const auto listed = backups.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].label, "nightly");
  ASSERT_TRUE(listed[0].last_verified.has_value());
  EXPECT_TRUE(listed[0].last_verified->ok);
}

TEST_F(SqliteBackup, ACorruptedBackupFileFailsVerification) {
  const BackupInfo taken = backups.create(targets);
  const fs::path file = taken.directory / "app" / taken.parts[0].files[0].path;
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(file) / 2));
    f.put('\x5a');
  }
  const VerifyReport report = backups.verify(taken.id);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.failures().find("corrupt"), std::string::npos) << report.failures();
  EXPECT_FALSE(backups.get(taken.id).last_verified->ok);
}

TEST_F(SqliteBackup, RowsThatDifferFromTheManifestFailVerification) {
  // The file is intact but the manifest says the snapshot had another row count: the restored
  // copy is compared with it, so the check that restores is the one that fails.
  const BackupInfo taken = backups.create(targets);
  const fs::path manifest = taken.directory / "manifest.json";
  std::string text;
  {
    std::ifstream in(manifest);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = text.find("\"rows\": 300");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"rows\": 301");
  std::ofstream(manifest, std::ios::trunc) << text;
  const VerifyReport report = backups.verify(taken.id);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.failures().find("table orders"), std::string::npos) << report.failures();
}

TEST_F(SqliteBackup, RestoreRefusesATargetWithTablesUnlessForced) {
  const BackupInfo taken = backups.create(targets);
  db.execute("DELETE FROM orders WHERE id > 10");
  EXPECT_THROW(backups.restore(taken.id, {.uri = source_uri}), BackupError);
  EXPECT_EQ(db.execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 10);  // untouched
  db.close();
  backups.restore(taken.id, {.uri = source_uri, .force = true});
  Database again = Database::open(source_uri);
  EXPECT_EQ(again.execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 300);
}

TEST_F(SqliteBackup, ABackupTakenWhileTheAppWritesIsOneConsistentSnapshot) {
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    Database app = Database::open(source_uri);
    for (int id = 1000; !stop; ++id) {
      app.execute(
          "INSERT INTO orders (id, user_id, status, total, created_at) VALUES (?, 1, 'new', 1, ?)",
          id, Timestamp{});
      ++written;
    }
  });
  while (written < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const BackupInfo taken = backups.create(targets);
  stop = true;
  writer.join();
  // The manifest's counts come from the snapshot that was copied: the restored copy agrees.
  const VerifyReport report = backups.verify(taken.id);
  EXPECT_TRUE(report.ok) << report.failures();
  std::int64_t in_backup = 0;
  for (const TableStats& t : taken.parts[0].tables) {
    if (t.name == "orders") in_backup = t.rows;
  }
  EXPECT_GT(in_backup, 300 + 49);
  EXPECT_LE(in_backup, 300 + written.load());
}

TEST_F(SqliteBackup, PruneKeepsTheNewestAndRemovesTheRest) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(backups.create(targets).id);
  const PruneReport dry = backups.prune(RetentionPolicy{.keep_last = 1}, true);
  EXPECT_EQ(dry.removed.size(), 2u);
  EXPECT_EQ(backups.list().size(), 3u);  // a dry run deletes nothing
  const PruneReport report = backups.prune(RetentionPolicy{.keep_last = 1});
  EXPECT_EQ(report.removed, (std::vector<std::string>{ids[1], ids[0]}));
  const auto left = backups.list();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, ids[2]);
  EXPECT_TRUE(backups.prune(RetentionPolicy{.keep_for = std::chrono::hours(1)}).removed.empty());
}

TEST_F(SqliteBackup, BadRequestsAreTypedErrors) {
  EXPECT_THROW(backups.get("no-such-backup"), BackupError);
  EXPECT_THROW(backups.get("../etc"), BackupError);
  EXPECT_THROW(backups.create({}), BackupError);
  const std::vector<BackupTarget> twice{{.name = "a", .uri = source_uri},
                                        {.name = "a", .uri = source_uri}};
  EXPECT_THROW(backups.create(twice), BackupError);
  const std::vector<BackupTarget> bad_name{{.name = "../x", .uri = source_uri}};
  EXPECT_THROW(backups.create(bad_name), BackupError);
  EXPECT_THROW(backups.create(targets, {.kind = BackupKind::logical}), BackupError);
  const std::vector<BackupTarget> missing{
      {.name = "x", .uri = "sqlite:" + dir.path() + "/missing.db"}};
  EXPECT_THROW(backups.create(missing), BackupError);
  EXPECT_TRUE(backups.list().empty());  // failed backups leave nothing behind
}

}  // namespace
}  // namespace nexdb::test
