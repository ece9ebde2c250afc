// BackupManager on the real PostgreSQL cluster: pg_dump / pg_restore through scratch instances,
// pg_basebackup checked by pg_verifybackup, recovery and amcheck, every shard in one manifest.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
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

struct PostgresBackup : ::testing::Test {
  TempDir dir;
  PgDatabase source;
  Database db = Database::open(source.uri());
  BackupManager backups{test_settings(dir.path())};
  std::vector<BackupTarget> targets{{.name = "main", .uri = source.uri()}};

  void SetUp() override { seed(db, 20, 400); }
  void TearDown() override { db.close(); }

  /// shard-0 is the source, shard-1 `second` with 50 orders.
  std::vector<BackupTarget> two_shards(const PgDatabase& second) {
    Database second_db = Database::open(second.uri());
    seed(second_db, 5, 50);
    second_db.close();
    return {{.name = "shard-0", .uri = source.uri()}, {.name = "shard-1", .uri = second.uri()}};
  }
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

/// Sets `settings` on the source database (ALTER DATABASE ... SET: every new session there
/// prints values their way; pg_dump does not carry them into the restored copy, which prints
/// with initdb's defaults), adds a table without a primary key (its checksum covers whole rows,
/// every value printed as text), backs up and verifies.
VerifyReport verify_with_database_settings(PostgresBackup& t,
                                           const std::vector<std::string>& settings,
                                           BackupManager& manager) {
  {
    auto admin = connect(pg_primary_uri());
    for (const std::string& setting : settings)
      admin->execute_script(fmt::format("ALTER DATABASE {} SET {}", t.source.name(), setting));
  }
  Database fresh = Database::open(t.source.uri());
  fresh.execute(
      "CREATE TABLE events (at TIMESTAMPTZ NOT NULL, day DATE NOT NULL, span INTERVAL NOT NULL, "
      "ratio DOUBLE PRECISION NOT NULL, payload BYTEA NOT NULL)");
  fresh.execute(
      "INSERT INTO events SELECT timestamptz '2026-03-01 12:00:00+00' + i * interval '7 hours', "
      "date '2026-01-01' + i, i * interval '1 day 3 hours', 1.0 / (i + 3), "
      "decode(md5(i::text), 'hex') FROM generate_series(1, 50) AS i");
  fresh.close();
  return manager.verify(manager.create(t.targets).id);
}

TEST_F(PostgresBackup, AnIntactBackupVerifiesWhateverTheDatabasesTimeZone) {
  const VerifyReport report = verify_with_database_settings(*this, {"timezone = 'Asia/Tokyo'"},
                                                            backups);  // into a scratch instance
  EXPECT_TRUE(report.ok) << report.failures();
}

TEST_F(PostgresBackup, AnIntactBackupVerifiesWhateverTheDatabasesOutputSettings) {
  BackupSettings settings = test_settings(dir.path());
  settings.verify_server = pg_primary_uri();  // a temporary database: the server's defaults
  BackupManager on_server(settings);
  const VerifyReport report = verify_with_database_settings(
      *this,
      {"DateStyle = 'SQL, DMY'", "IntervalStyle = 'sql_standard'", "extra_float_digits = 0",
       "bytea_output = 'escape'", "timezone = 'America/St_Johns'"},
      on_server);
  EXPECT_TRUE(report.ok) << report.failures();
}

TEST_F(PostgresBackup, ABackupGivesUpOnATableLockedForTooLong) {
  auto locker = connect(source.uri());
  locker->execute_script("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
  BackupSettings settings = test_settings(dir.path());
  settings.lock_wait_timeout = std::chrono::milliseconds(300);
  BackupManager impatient(settings);
  try {
    impatient.create(targets);
    FAIL() << "backed up a table it could not lock";
  } catch (const BackupError& e) {
    EXPECT_NE(std::string(e.what()).find("lock_wait_timeout"), std::string::npos) << e.what();
  }
  locker->execute_script("ROLLBACK");
  EXPECT_TRUE(impatient.list().empty());
  EXPECT_TRUE(fs::is_empty(settings.repository)) << "the partial backup was left behind";
}

TEST_F(PostgresBackup, PgDumpGivesUpOnALockQueuedBehindTheBackupsOwnSnapshot) {
  // The snapshot holds share locks on every table it read; an ALTER TABLE arriving then queues
  // behind it, and pg_dump's own share lock queues behind the ALTER: without a lock wait
  // timeout, pg_dump, the ALTER and the snapshot (which waits for pg_dump) wait for ever.
  const PgDatabase second;
  const std::vector<BackupTarget> shards = two_shards(second);
  BackupSettings settings = test_settings(dir.path());
  settings.lock_wait_timeout = std::chrono::milliseconds(500);
  std::thread alter;
  auto watcher = connect(source.uri());
  const auto alter_queued = [&] {
    return watcher
               ->execute(
                   "SELECT count(*) FROM pg_locks WHERE relation = 'orders'::regclass AND "
                   "mode = 'AccessExclusiveLock' AND NOT granted")
               .scalar<std::int64_t>() > 0;
  };
  CreateOptions options{.progress = [&](const BackupProgress& p) {
    if (p.phase != "snapshot" || p.target != "shard-1" || alter.joinable()) return;
    // shard-0's snapshot is taken: an application's migration arrives.
    alter = std::thread([uri = source.uri()] {
      auto c = connect(uri);
      c->execute_script("SET lock_timeout = '60s'; ALTER TABLE orders ADD COLUMN note TEXT");
    });
    for (int i = 0; i < 500 && !alter_queued(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }};
  try {
    BackupManager(settings).create(shards, options);
    ADD_FAILURE() << "a backup with a lock queued behind its snapshot succeeded";
  } catch (const BackupError& e) {
    EXPECT_NE(std::string(e.what()).find("pg_dump of 'shard-0'"), std::string::npos) << e.what();
  }
  ASSERT_TRUE(alter.joinable()) << "the progress callback never saw shard-1's snapshot";
  alter.join();  // the snapshot is gone: the migration went through
  EXPECT_NO_THROW(db.execute("SELECT note FROM orders LIMIT 1"));
  EXPECT_TRUE(BackupManager(settings).list().empty());
}

TEST_F(PostgresBackup, EveryShardGoesIntoOneManifest) {
  const PgDatabase second;
  const std::vector<BackupTarget> shards = two_shards(second);
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

/// A data directory for a physical restore, and a server started on it (Unix socket only, on a
/// scratch port locked like ScratchInstance locks them); stopped and removed at the end.
struct RestoredServer {
  fs::path base = fs::path("/tmp") / fmt::format("nexdb-restore-{}", ::getpid());
  fs::path data = base / "data";
  int port = 0;
  int lock_fd = -1;
  bool running = false;

  RestoredServer() {
    fs::remove_all(base);
    fs::create_directories(base);
    for (int p = 21499; p >= 21450 && lock_fd < 0; --p) {
      const int fd = ::open(fmt::format("/tmp/nexdb-scratch-{}.lock", p).c_str(),
                            O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        lock_fd = fd;
        port = p;
      } else if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  ~RestoredServer() {
    stop();
    fs::remove_all(base);
    if (lock_fd >= 0) ::close(lock_fd);
  }
  std::string pg_ctl(const std::string& args) const {
    const std::string command =
        fmt::format("/usr/lib/postgresql/15/bin/pg_ctl -D '{}' {}", data.string(), args);
    return ::geteuid() == 0 ? "runuser -u postgres -- " + command : command;
  }
  void start() {
    ASSERT_GT(port, 0) << "no free scratch port";
    std::ofstream(data / "pg_hba.conf") << "local all all trust\n";
    const std::string options = fmt::format(
        "-c port={} -c listen_addresses= -c unix_socket_directories={} -c archive_mode=off "
        "-c synchronous_standby_names= -c hba_file={}/pg_hba.conf -c ident_file={}/pg_ident.conf",
        port, data.string(), data.string(), data.string());
    if (!fs::exists(data / "pg_ident.conf")) std::ofstream(data / "pg_ident.conf") << "";
    if (!fs::exists(data / "postgresql.conf")) std::ofstream(data / "postgresql.conf") << "";
    fs::remove(data / "standby.signal");
    if (::geteuid() == 0) {
      ASSERT_EQ(std::system(fmt::format("chown -R postgres: '{}'", data.string()).c_str()), 0);
    }
    ASSERT_EQ(std::system((pg_ctl("-w -t 120 -s -l " + (data / "restore.log").string() + " -o \"" +
                                  options + "\" start"))
                              .c_str()),
              0)
        << "the restored data directory did not start";
    running = true;
  }
  void stop() {
    if (!running) return;
    running = false;
    EXPECT_EQ(std::system(pg_ctl("-w -s -m fast stop").c_str()), 0);
  }
  std::string conninfo(const std::string& db, const std::string& user) const {
    return fmt::format("host={} port={} dbname={} user={}", data.string(), port, db, user);
  }
};

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

  // Restored into a data directory, it starts as a server of its own with the data in it.
  RestoredServer restored;
  EXPECT_THROW(backups.restore(taken.id, {}), BackupError);  // no directory named
  backups.restore(taken.id, {.directory = restored.data});
  EXPECT_TRUE(fs::exists(restored.data / "PG_VERSION"));
  EXPECT_TRUE(fs::exists(restored.data / "backup_label"));
  try {
    backups.restore(taken.id, {.directory = restored.data});
    FAIL() << "restored over a data directory with files";
  } catch (const BackupError& e) {
    EXPECT_NE(std::string(e.what()).find("not empty"), std::string::npos) << e.what();
  }
  restored.start();
  {
    auto conn = connect(restored.conninfo(source.name(), part.superuser));
    EXPECT_EQ(conn->execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 200);
  }
  try {
    backups.restore(taken.id, {.directory = restored.data, .force = true});
    FAIL() << "restored over a running server";
  } catch (const BackupError& e) {
    EXPECT_NE(std::string(e.what()).find("postmaster.pid"), std::string::npos) << e.what();
  }
  restored.stop();
  backups.restore(taken.id, {.directory = restored.data, .force = true});  // replaced
  EXPECT_FALSE(fs::exists(restored.data / "postmaster.pid"));

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
