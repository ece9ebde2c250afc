// The archiver killed (SIGKILL) at random moments, 20 times, then run to the end: every row is
// in the source or in the archive, exactly once. Built twice: PostgreSQL and SQLite sources.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <zlib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "backup_support.hpp"
#include "nexdb/database.hpp"
#include "support/test_env.hpp"

extern char** environ;

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
/// nearly every run dies part-way (some before their first batch, most inside one).
Outcome kill_and_resume(const std::vector<std::string>& args) {
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(5, 120);
  Outcome outcome;
  const auto spawn = [&](bool capture) {
    std::vector<std::string> all{NEXDB_ARCHIVE_RUNNER};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (capture && ::pipe(fds) == 0) {
      posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
      posix_spawn_file_actions_addclose(&actions, fds[0]);
    } else {
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    if (fds[1] >= 0) ::close(fds[1]);
    return std::pair{pid, fds[0]};
  };
  for (int i = 0; i < kKills; ++i) {
    auto [pid, ignored] = spawn(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++outcome.killed;
  }
  auto [pid, out] = spawn(true);
  char buffer[512];
  ssize_t n;
  while ((n = ::read(out, buffer, sizeof buffer)) > 0)
    outcome.last.append(buffer, static_cast<std::size_t>(n));
  ::close(out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << outcome.last;
  return outcome;
}

struct SUITE(ArchiveCrash) : ::testing::Test {
  TempDir dir;
  std::optional<PgDatabase> pg;
  std::string uri = make_uri();
  Database db = Database::open(uri);
  const std::string where = "id % 10 <> 0";  // nine rows in ten go
  const std::string archive_ddl =
      "CREATE TABLE {} (id BIGINT NOT NULL, user_id BIGINT NOT NULL, status TEXT NOT NULL, total "
      "NUMERIC NOT NULL, "
      "created_at TIMESTAMP NOT NULL)";  // no key: a duplicate would be visible

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
  std::optional<PgDatabase> pg_target;
  std::string target_uri = "sqlite:" + dir.path() + "/archive.db";
  if (kPostgres) {
    pg_target.emplace();
    target_uri = pg_target->uri();
  }
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
