// The Archiver against a real database (built twice: SQLite files and PostgreSQL databases).
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "backup_support.hpp"
#include "nexdb/archive.hpp"
#include "nexdb/database.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

constexpr Dialect kDialect = NEXDB_TEST_DIALECT;
constexpr bool kPostgres = kDialect == Dialect::postgres;

/// A fresh source database of the dialect under test, seeded with 1,000 orders.
struct SUITE(Archive) : ::testing::Test {
  TempDir dir;
  std::optional<PgDatabase> pg;
  std::string uri;
  Database db;
  // Orders are spread over 2024-2025; those before 2025 are "old".
  const Timestamp cutoff = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::sys_days(std::chrono::year(2025) / 1 / 1));
  std::string where = kPostgres ? "created_at < $1" : "created_at < ?";
  std::set<std::int64_t> all_ids;
  std::set<std::int64_t> old_ids;

  SUITE(Archive)() : uri(make_uri()), db(Database::open(uri)) {}
  std::string make_uri() {
    if (!kPostgres) return "sqlite:" + dir.path() + "/app.db";
    pg.emplace();
    return pg->uri();
  }
  void SetUp() override {
    seed(db, 10, 1000);
    all_ids = ids("orders");
    for (Row r : db.execute(kPostgres ? "SELECT id FROM orders WHERE created_at < $1"
                                      : "SELECT id FROM orders WHERE created_at < ?",
                            cutoff)) {
      old_ids.insert(r.get<std::int64_t>(0));
    }
    ASSERT_GT(old_ids.size(), 300u);
    ASSERT_LT(old_ids.size(), 700u);
  }
  void TearDown() override { db.close(); }

  std::set<std::int64_t> ids(const std::string& table, Database* in = nullptr) {
    std::set<std::int64_t> out;
    for (Row r : (in ? *in : db).execute("SELECT id FROM " + table))
      out.insert(r.get<std::int64_t>(0));
    return out;
  }
  ArchiveSettings settings() {
    return {.table = "orders", .where = where, .where_params = {cutoff}, .batch_size = 64};
  }
};

TEST_F(SUITE(Archive), SameDatabaseMovesExactlyTheMatchingRows) {
  const auto before =
      db.execute("SELECT id, user_id, status, total, created_at FROM orders ORDER BY id");
  const ArchiveReport report = Archiver(db, settings()).run();
  EXPECT_EQ(report.rows, old_ids.size());
  EXPECT_EQ(report.batches, (old_ids.size() + 63) / 64);
  EXPECT_FALSE(report.resumed);
  EXPECT_EQ(ids("orders_archive"), old_ids);
  std::set<std::int64_t> left = ids("orders");
  for (auto id : old_ids) EXPECT_FALSE(left.contains(id));
  EXPECT_EQ(left.size() + old_ids.size(), all_ids.size());
  // The rows arrived unchanged.
  const auto after = db.execute(
      "SELECT id, user_id, status, total, created_at FROM orders UNION ALL "
      "SELECT id, user_id, status, total, created_at FROM orders_archive ORDER BY id");
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    for (std::size_t c = 0; c < 5; ++c)
      EXPECT_EQ(after[i][c], before[i][c]) << "row " << i << " column " << c;
  }
}

TEST_F(SUITE(Archive), DryRunCountsAndChangesNothing) {
  ArchiveSettings s = settings();
  s.dry_run = true;
  const ArchiveReport report = Archiver(db, s).run();
  EXPECT_TRUE(report.dry_run);
  EXPECT_EQ(report.matching, old_ids.size());
  EXPECT_EQ(report.rows, 0u);
  ASSERT_FALSE(report.statements.empty());
  EXPECT_NE(report.statements[0].find("orders"), std::string::npos);
  EXPECT_EQ(ids("orders"), all_ids);
  EXPECT_THROW(db.execute("SELECT count(*) FROM orders_archive"), SqlError);  // not created
}

TEST_F(SUITE(Archive), ToAnotherDatabaseCopiesVerifiesThenDeletes) {
  // PostgreSQL archives into a SQLite file; SQLite into another SQLite file.
  const std::string target_uri = "sqlite:" + dir.path() + "/archive.db";
  Database target = Database::open(target_uri);
  ArchiveSettings s = settings();
  s.to.database = target;
  const ArchiveReport report = Archiver(db, s).run();
  EXPECT_EQ(report.rows, old_ids.size());
  EXPECT_EQ(ids("orders", &target), old_ids);
  for (auto id : ids("orders")) EXPECT_FALSE(old_ids.contains(id));
  const Rows checkpoint = target.execute("SELECT state, rows_moved FROM nexdb_archive_checkpoint");
  ASSERT_EQ(checkpoint.size(), 1u);
  EXPECT_EQ(checkpoint[0].get<std::string>(0), "finished");
  EXPECT_EQ(checkpoint[0].get<std::int64_t>(1), static_cast<std::int64_t>(old_ids.size()));
  // Totals survive the trip (numeric text on PostgreSQL, a number on SQLite).
  const auto sum_archived =
      target.execute("SELECT sum(CAST(total AS REAL)) FROM orders").scalar<double>();
  EXPECT_GT(sum_archived, 0.0);
  target.close();
}

/// Every line of a gzip file (all members).
std::vector<std::string> gz_lines(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::vector<std::string> lines;
  std::string current;
  char buffer[4096];
  int n;
  while ((n = gzread(f, buffer, sizeof buffer)) > 0) {
    for (int i = 0; i < n; ++i) {
      if (buffer[i] == '\n') {
        lines.push_back(current);
        current.clear();
      } else if (buffer[i] != '\r') {
        current += buffer[i];
      }
    }
  }
  gzclose(f);
  return lines;
}

TEST_F(SUITE(Archive), ToGzipJsonLinesAndCsv) {
  ArchiveSettings s = settings();
  s.to.file = dir.path() + "/orders.jsonl.gz";
  s.max_rows = 200;
  EXPECT_EQ(Archiver(db, s).run().rows, 200u);
  s.to.file = dir.path() + "/orders.csv.gz";
  s.max_rows = 0;
  const ArchiveReport csv = Archiver(db, s).run();
  EXPECT_EQ(csv.rows, old_ids.size() - 200);

  std::set<std::int64_t> archived;
  for (const std::string& line : gz_lines(dir.path() + "/orders.jsonl.gz")) {
    const auto j = nlohmann::json::parse(line);
    archived.insert(j.at("id").get<std::int64_t>());
    EXPECT_TRUE(j.contains("created_at"));
  }
  const auto csv_lines = gz_lines(dir.path() + "/orders.csv.gz");
  ASSERT_FALSE(csv_lines.empty());
  EXPECT_EQ(csv_lines[0], "id,user_id,status,total,created_at");
  for (std::size_t i = 1; i < csv_lines.size(); ++i) archived.insert(std::stoll(csv_lines[i]));
  EXPECT_EQ(archived, old_ids);
  EXPECT_EQ(ids("orders").size(), all_ids.size() - old_ids.size());
}

TEST_F(SUITE(Archive), AnInterruptedJobResumesWhereItStopped) {
  ArchiveSettings s = settings();
  s.max_rows = 250;
  s.job = "old orders";
  const ArchiveReport first = Archiver(db, s).run();
  EXPECT_EQ(first.rows, 250u);
  s.max_rows = 0;
  std::vector<std::uint64_t> seen;
  s.progress = [&](const ArchiveProgress& p) { seen.push_back(p.rows); };
  const ArchiveReport second = Archiver(db, s).run();
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.rows, old_ids.size() - 250);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), second.rows);
  EXPECT_EQ(ids("orders_archive"), old_ids);
  // Finished: the next run starts afresh and finds nothing.
  const ArchiveReport third = Archiver(db, s).run();
  EXPECT_FALSE(third.resumed);
  EXPECT_EQ(third.rows, 0u);
}

/// A crash between copying a batch to the other database and deleting it from the source:
/// the checkpoint says 'copied' and the archive holds the batch.
struct SUITE(InterruptedBatch) : SUITE(Archive) {
  std::string target_uri;
  std::optional<Database> target;
  std::vector<std::int64_t> batch;  // the interrupted batch's keys

  void interrupt() {
    target_uri = "sqlite:" + dir.path() + "/archive.db";
    target = Database::open(target_uri);
    ArchiveSettings s = settings();
    s.to.database = *target;
    s.batch_size = 20;
    s.max_rows = 40;
    s.job = "interrupted";
    ASSERT_EQ(Archiver(db, s).run().rows, 40u);
    // The next 20 old rows, copied by hand as step 2 of a batch would.
    auto it = old_ids.begin();
    std::advance(it, 40);
    for (int i = 0; i < 20; ++i, ++it) batch.push_back(*it);
    for (auto id : batch) {
      const Rows row = db.execute(
          kPostgres ? "SELECT id, user_id, status, total, created_at FROM orders WHERE id = $1"
                    : "SELECT id, user_id, status, total, created_at FROM orders WHERE id = ?",
          id);
      target->execute(
          "INSERT INTO orders (id, user_id, status, total, created_at) VALUES (?, ?, ?, ?, ?)",
          row[0][0], row[0][1], row[0][2], row[0][3], row[0][4]);
    }
    nlohmann::json keys = nlohmann::json::array();
    for (auto id : batch) keys.push_back(fmt::format("i:{}", id));
    target->execute(
        "UPDATE nexdb_archive_checkpoint SET state = 'copied', previous_key = last_key, last_key = "
        "?, pending_first = ?, pending_last = ?, pending_rows = 20, pending_keys = ? "
        "WHERE job = 'interrupted'",
        fmt::format("i:{}", batch.back()), fmt::format("i:{}", batch.front()),
        fmt::format("i:{}", batch.back()), keys.dump());
  }
  ArchiveReport resume() {
    ArchiveSettings s = settings();
    s.to.database = *target;
    s.job = "interrupted";
    return Archiver(db, s).run();
  }
  void expect_each_row_once() {
    const std::set<std::int64_t> archived = ids("orders", &*target);
    EXPECT_EQ(target->execute("SELECT count(*) FROM orders").scalar<std::int64_t>(),
              static_cast<std::int64_t>(archived.size()));
    EXPECT_EQ(archived, old_ids);
    for (auto id : ids("orders")) EXPECT_FALSE(old_ids.contains(id));
  }
  void TearDown() override {
    if (target) target->close();
    SUITE(Archive)::TearDown();
  }
};

TEST_F(SUITE(InterruptedBatch), RowsStillInTheSourceAreTakenBackOutOfTheArchive) {
  interrupt();  // the source's delete never committed
  const ArchiveReport report = resume();
  EXPECT_TRUE(report.resumed);
  EXPECT_EQ(report.uncopied_rows, 20u);
  EXPECT_EQ(report.recovered_rows, 0u);
  expect_each_row_once();
}

TEST_F(SUITE(InterruptedBatch), RowsAlreadyDeletedCountAsMoved) {
  interrupt();
  for (auto id : batch)
    db.execute(kPostgres ? "DELETE FROM orders WHERE id = $1" : "DELETE FROM orders WHERE id = ?",
               id);
  const ArchiveReport report = resume();  // the source's delete committed, the checkpoint did not
  EXPECT_EQ(report.recovered_rows, 20u);
  EXPECT_EQ(report.uncopied_rows, 0u);
  expect_each_row_once();
}

TEST_F(SUITE(Archive), BytesAFileGainedAfterItsLastCheckpointAreCutOff) {
  ArchiveSettings s = settings();
  s.to.file = dir.path() + "/orders.jsonl.gz";
  s.max_rows = 100;
  ASSERT_EQ(Archiver(db, s).run().rows, 100u);
  // A batch written but never recorded (the process died before its checkpoint).
  std::ofstream(s.to.file, std::ios::app | std::ios::binary) << "half a gzip member";
  s.max_rows = 0;
  const ArchiveReport report = Archiver(db, s).run();
  EXPECT_TRUE(report.resumed);
  std::set<std::int64_t> archived;
  for (const std::string& line : gz_lines(s.to.file))
    archived.insert(nlohmann::json::parse(line).at("id").get<std::int64_t>());
  EXPECT_EQ(archived, old_ids);
}

TEST_F(SUITE(Archive), BadRequestsAreClearErrorsAndMoveNothing) {
  EXPECT_THROW(Archiver(db, {.table = "orders", .where = ""}), ConfigError);
  EXPECT_THROW(Archiver(db, {.table = "orders", .where = "true", .batch_size = 0}), ConfigError);
  EXPECT_THROW(
      Archiver(db, {.table = "orders", .where = "true", .to = {.file = dir.path() + "/x.parquet"}})
          .run(),
      ConfigError);
  EXPECT_THROW(Archiver(db, {.table = "no_such_table", .where = "true"}).run(), ArchiveError);
  EXPECT_THROW(Archiver(db, {.table = "orders", .where = "true", .key = "status"}).run(),
               ArchiveError);
  db.execute("CREATE TABLE narrow_archive (id BIGINT PRIMARY KEY)");
  EXPECT_THROW(
      Archiver(db, {.table = "orders", .where = "true", .to = {.table = "narrow_archive"}}).run(),
      ArchiveError);
  EXPECT_THROW(Archiver(db, {.table = "orders", .where = "no_such_column > 1"}).run(), SqlError);
  EXPECT_EQ(ids("orders"), all_ids);
}

/// A table keyed by text under a collation, and one keyed by NUMERIC, with `rows` rows each.
void make_odd_keys(Database& db, int rows) {
  db.execute(kPostgres
                 ? "CREATE TABLE codes (code TEXT COLLATE \"en-x-icu\" PRIMARY KEY, n INT NOT NULL)"
                 : "CREATE TABLE codes (code TEXT COLLATE NOCASE PRIMARY KEY, n INT NOT NULL)");
  db.execute("CREATE TABLE amounts (amount NUMERIC PRIMARY KEY, n INT NOT NULL)");
  for (int i = 0; i < rows; ++i) {
    // a00 < B01 < c02 under the collation; bytes put B01 first. 9 < 10 as numbers, not as text.
    db.execute(fmt::format("INSERT INTO codes VALUES ('{}{:02}', {})",
                           static_cast<char>((i % 2 ? 'A' : 'a') + i % 26), i, i));
    db.execute(fmt::format("INSERT INTO amounts VALUES ({}, {})", 9 + i, i));
  }
}

TEST_F(SUITE(Archive), KeysAnotherDatabaseOrdersDifferentlyArriveExactlyOnce) {
  // PostgreSQL into SQLite (collations do not carry over; numerics become exact TEXT); SQLite
  // into SQLite (NOCASE carries over).
  make_odd_keys(db, 60);
  Database target = Database::open("sqlite:" + dir.path() + "/archive.db");
  for (const char* table : {"codes", "amounts"}) {
    ArchiveSettings s{
        .table = table, .where = "n % 3 <> 0", .to = {.database = target}, .batch_size = 7};
    const ArchiveReport report = Archiver(db, s).run();
    EXPECT_EQ(report.rows, 40u) << table;
    EXPECT_EQ(target.execute(fmt::format("SELECT count(*) FROM {}", table)).scalar<std::int64_t>(),
              40)
        << table;
    EXPECT_EQ(target.execute(fmt::format("SELECT count(DISTINCT n) FROM {}", table))
                  .scalar<std::int64_t>(),
              40)
        << table;
    EXPECT_EQ(db.execute(fmt::format("SELECT count(*) FROM {}", table)).scalar<std::int64_t>(), 20)
        << table;
    EXPECT_EQ(db.execute(fmt::format("SELECT count(*) FROM {} WHERE n % 3 <> 0", table))
                  .scalar<std::int64_t>(),
              0)
        << table;
    EXPECT_EQ(Archiver(db, s).run().rows, 0u) << table;  // a rerun finds nothing, copies nothing
  }
  if (!kPostgres) {
    EXPECT_NE(target.execute("SELECT sql FROM sqlite_master WHERE name = 'codes'")
                  .scalar<std::string>()
                  .find("COLLATE NOCASE"),
              std::string::npos);
  }
  target.close();
}

TEST_F(SUITE(Archive), AnArchiveTableCreatedInTheSameKindOfDatabaseKeepsTheKeysCollation) {
  make_odd_keys(db, 30);
  const OtherDatabase other(kDialect, dir.path() + "/archive.db");
  Database target = Database::open(other.uri());
  const ArchiveReport report =
      Archiver(db, {.table = "codes", .where = "true", .to = {.database = target}, .batch_size = 4})
          .run();
  EXPECT_EQ(report.rows, 30u);
  const std::string collation =
      kPostgres ? target
                      .execute(
                          "SELECT c.collname::text FROM pg_attribute a JOIN pg_collation c ON "
                          "c.oid = a.attcollation WHERE a.attrelid = 'codes'::regclass AND "
                          "a.attname = 'code'")
                      .scalar<std::string>()
                : target.execute("SELECT sql FROM sqlite_master WHERE name = 'codes'")
                      .scalar<std::string>();
  EXPECT_NE(collation.find(kPostgres ? "en-x-icu" : "COLLATE NOCASE"), std::string::npos)
      << collation;
  // The archive orders its keys as the source did.
  const Rows first = target.execute("SELECT code FROM codes ORDER BY code LIMIT 2");
  EXPECT_EQ(first[0].get<std::string>(0), "a00");
  EXPECT_EQ(first[1].get<std::string>(0), "a26");
  target.close();
}

TEST_F(SUITE(Archive), AKeyTheArchiveAlreadyHoldsIsNeverCopiedTwice) {
  Database target = Database::open("sqlite:" + dir.path() + "/archive.db");
  // An archive table without a key, already holding one of the rows about to be archived.
  target.execute(
      "CREATE TABLE orders (id INTEGER NOT NULL, user_id INTEGER NOT NULL, status TEXT NOT NULL, "
      "total NUMERIC NOT NULL, created_at TIMESTAMP NOT NULL)");
  const std::int64_t taken = *std::next(old_ids.begin(), 70);
  target.execute("INSERT INTO orders VALUES (?, 1, 'new', 1, '2024-01-01 00:00:00')", taken);
  ArchiveSettings s = settings();
  s.to.database = target;
  try {
    Archiver(db, s).run();
    FAIL() << "archived a key the archive already held";
  } catch (const ArchiveError& e) {
    EXPECT_NE(std::string(e.what()).find("already holds"), std::string::npos) << e.what();
  }
  // The batches before it moved; the one holding it did not (neither copied nor deleted).
  EXPECT_EQ(
      target.execute("SELECT count(*) FROM orders WHERE id = ?", taken).scalar<std::int64_t>(), 1);
  EXPECT_TRUE(ids("orders").contains(taken));
  const auto archived = target.execute("SELECT count(*) FROM orders").scalar<std::int64_t>();
  EXPECT_EQ(archived - 1 + static_cast<std::int64_t>(ids("orders").size()),
            static_cast<std::int64_t>(all_ids.size()));
  target.close();
}

TEST_F(SUITE(Archive), KeysThatMayBeNullAreRefusedBeforeAnythingMoves) {
  if (kPostgres) {
    // A primary key is never NULL here; a nullable unique column named as the key is refused.
    db.execute("CREATE TABLE tags (id BIGINT PRIMARY KEY, code TEXT UNIQUE, n INT NOT NULL)");
    db.execute("INSERT INTO tags VALUES (1, NULL, 1), (2, 'b', 2)");
    EXPECT_THROW(Archiver(db, {.table = "tags", .where = "true", .key = "code"}).run(),
                 ArchiveError);
  } else {
    // SQLite lets a TEXT primary key hold NULLs: such rows could not be cut or deleted by key.
    db.execute("CREATE TABLE tags (code TEXT PRIMARY KEY, n INT NOT NULL)");
    db.execute("INSERT INTO tags VALUES (NULL, 1), (NULL, 2), ('a', 3), ('b', 4)");
    try {
      Archiver(db, {.table = "tags", .where = "true"}).run();
      FAIL() << "archived by a key holding NULLs";
    } catch (const ArchiveError& e) {
      EXPECT_NE(std::string(e.what()).find("2 row(s) whose key code is NULL"), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(db.execute("SELECT 1 FROM tags_archive"), SqlError);  // nothing created
  }
  EXPECT_EQ(db.execute("SELECT count(*) FROM tags").scalar<std::int64_t>(), kPostgres ? 2 : 4);
  // INTEGER PRIMARY KEY (never NULL on SQLite) may be named as the key.
  ArchiveSettings s = settings();
  s.key = "id";
  EXPECT_EQ(Archiver(db, s).run().rows, old_ids.size());
}

TEST_F(SUITE(Archive), OneWriterPerFileWhateverTheJob) {
  ArchiveSettings s = settings();
  s.to.file = dir.path() + "/orders.jsonl";
  s.lock_wait = std::chrono::milliseconds(200);
  const std::string lock = s.to.file.string() + ".lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another archiver, another job, same file
  s.job = "another job";
  try {
    Archiver(db, s).run();
    FAIL() << "wrote a file another archiver holds";
  } catch (const ArchiveError& e) {
    EXPECT_NE(std::string(e.what()).find("another archiver is writing"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ids("orders"), all_ids);
  EXPECT_FALSE(std::filesystem::exists(s.to.file));
  ::close(fd);
  EXPECT_EQ(Archiver(db, s).run().rows, old_ids.size());
}

TEST_F(SUITE(Archive), EveryShardIsArchivedAndAFailingOneStopsNoOther) {
  // Three "shards": this database, another one like it, and one without the table.
  const OtherDatabase other(kDialect, dir.path() + "/b.db");
  Database b = Database::open(other.uri());
  seed(b, 5, 300);
  Database c = Database::open("sqlite:" + dir.path() + "/c.db");
  const std::vector<ArchiveShard> shards{
      {.name = "a", .source = db}, {.name = "b", .source = b}, {.name = "c", .source = c}};
  ArchiveSettings s{.table = "orders", .where = "id % 10 <> 0", .batch_size = 50, .job = "shards"};
  s.to.file = dir.path() + "/orders.jsonl";
  const auto outcomes = archive_shards(shards, s);
  ASSERT_EQ(outcomes.size(), 3u);
  ASSERT_TRUE(outcomes[0].report) << outcomes[0].error;
  ASSERT_TRUE(outcomes[1].report) << outcomes[1].error;
  EXPECT_EQ(outcomes[0].report->rows, 900u);
  EXPECT_EQ(outcomes[1].report->rows, 270u);
  EXPECT_EQ(outcomes[0].report->job, "shards@a");
  EXPECT_FALSE(outcomes[2].report);
  EXPECT_NE(outcomes[2].error.find("does not exist"), std::string::npos) << outcomes[2].error;
  // One file per shard, the shard's name before the extension.
  for (const auto& [name, rows] : {std::pair{"a", 900}, std::pair{"b", 270}}) {
    std::ifstream in(fmt::format("{}/orders-{}.jsonl", dir.path(), name));
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    EXPECT_EQ(lines, rows) << name;
  }
  EXPECT_EQ(b.execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 30);
  b.close();
  c.close();
}

}  // namespace
}  // namespace nexdb::test
