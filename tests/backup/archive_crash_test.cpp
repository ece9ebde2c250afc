// The archiver killed (SIGKILL) at random moments, 20 times, then run to the end: every row is
// in the source or in the archive, exactly once. Built twice: PostgreSQL and SQLite sources.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <zlib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "backup_support.hpp"
#include "nexdb/database.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

constexpr Dialect kDialect = NEXDB_TEST_DIALECT;
constexpr bool kPostgres = kDialect == Dialect::postgres;
constexpr int kRows = 3000;
constexpr int kKills = 20;

struct Outcome {
  int killed = 0;    // runs that died by the signal (rather than finishing first)
  std::string last;  // the final run's output
};

/// Starts the runner, kills it after a random delay, 20 times; then lets one run finish. With
/// batches of 20 rows and 10 ms between batches the job takes longer than the 20 runs, so
/// nearly every run dies part-way (some before their first batch, most inside one). Where a
/// kill lands is chance: archive_fault_test.cpp kills at each dangerous point on purpose.
Outcome kill_and_resume(const std::vector<std::string>& args) {
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(5, 120);
  std::vector<std::string> argv{NEXDB_ARCHIVE_RUNNER};
  argv.insert(argv.end(), args.begin(), args.end());
  Outcome outcome;
  for (int i = 0; i < kKills; ++i) {
    const Process p = start_process(argv, {}, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ::kill(p.pid, SIGKILL);
    if (finish_process(p).killed) ++outcome.killed;
  }
  const ProcessEnd last = finish_process(start_process(argv, {}, true));
  outcome.last = last.output;
  EXPECT_EQ(last.exit_code, 0) << outcome.last;
  return outcome;
}

struct SUITE(ArchiveCrash) : ::testing::Test {
  TempDir dir;
  std::optional<PgDatabase> pg;
  std::string uri = make_uri();
  Database db = Database::open(uri);
  const std::string where = "id % 10 <> 0";  // nine rows in ten go
  // No key: a duplicate would be visible (and the archiver refuses to copy a key the archive
  // already holds, so it could not arise from a rerun either).
  const std::string archive_ddl =
      "CREATE TABLE {} (id BIGINT NOT NULL, user_id BIGINT NOT NULL, status TEXT NOT NULL, total "
      "NUMERIC NOT NULL, created_at TIMESTAMP NOT NULL)";

  std::string make_uri() {
    if (!kPostgres) return "sqlite:" + dir.path() + "/app.db";
    pg.emplace();
    return pg->uri();
  }
  void SetUp() override { seed(db, 10, kRows); }
  void TearDown() override { db.close(); }

  std::vector<std::int64_t> ids(Database& in, const std::string& table) {
    std::vector<std::int64_t> out;
    for (Row r : in.execute("SELECT id FROM " + table)) out.push_back(r.get<std::int64_t>(0));
    return out;
  }

  /// Source + archive = the original rows, each exactly once, and only matching ones moved.
  void expect_nothing_lost_or_doubled(const std::vector<std::int64_t>& archived) {
    const auto source = ids(db, "orders");
    std::multiset<std::int64_t> all(source.begin(), source.end());
    all.insert(archived.begin(), archived.end());
    std::set<std::int64_t> distinct(all.begin(), all.end());
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kRows)) << "rows lost or duplicated";
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kRows))
        << "a row is in both places or twice";
    EXPECT_EQ(archived.size(), static_cast<std::size_t>(kRows - kRows / 10));
    for (auto id : source) EXPECT_EQ(id % 10, 0) << "row " << id << " should have been archived";
  }
};

TEST_F(SUITE(ArchiveCrash), SameDatabaseSurvivesTwentyKills) {
  db.execute(fmt::format(fmt::runtime(archive_ddl), "orders_archive"));
  const Outcome o = kill_and_resume({uri, "orders", where, "20", "10", "table", "orders_archive"});
  EXPECT_GE(o.killed, kKills * 3 / 4) << "most runs should die mid-work";
  expect_nothing_lost_or_doubled(ids(db, "orders_archive"));
}

TEST_F(SUITE(ArchiveCrash), AnotherDatabaseSurvivesTwentyKills) {
  const OtherDatabase other(kDialect, dir.path() + "/archive.db");
  const std::string& target_uri = other.uri();
  Database target = Database::open(target_uri);
  target.execute(fmt::format(fmt::runtime(archive_ddl), "orders"));
  const Outcome o =
      kill_and_resume({uri, "orders", where, "20", "10", "database", target_uri, "orders"});
  EXPECT_GE(o.killed, kKills * 3 / 4);
  expect_nothing_lost_or_doubled(ids(target, "orders"));
  target.close();
}

TEST_F(SUITE(ArchiveCrash), CompressedFileSurvivesTwentyKills) {
  const std::string file = dir.path() + "/orders.jsonl.gz";
  const Outcome o = kill_and_resume({uri, "orders", where, "20", "10", "file", file});
  EXPECT_GE(o.killed, kKills * 3 / 4);
  std::vector<std::int64_t> archived;
  gzFile f = gzopen(file.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  char line[4096];
  while (gzgets(f, line, sizeof line) != nullptr)
    archived.push_back(nlohmann::json::parse(line).at("id"));
  gzclose(f);
  expect_nothing_lost_or_doubled(archived);
}

}  // namespace
}  // namespace nexdb::test
