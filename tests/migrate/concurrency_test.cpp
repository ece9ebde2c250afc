// Concurrent runners (threads, and separate processes) apply each migration exactly once.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <spawn.h>
#include <sys/wait.h>

#include <barrier>
#include <fstream>
#include <future>
#include <thread>

#include "migrate_fixture.hpp"

extern char** environ;

namespace nexdb::test {
namespace {

constexpr int kRunners = 8;
constexpr int kMigrations = 12;

class ConcurrencyTest : public MigrateTest {
 protected:
  // 1 creates the tables; 2..12 each insert one marker row and some filler so runs overlap;
  // 7 also creates a table, which a second run would fail on.
  void write_folder() {
    write("V1__create_tables.sql",
          "CREATE TABLE hits (v TEXT NOT NULL);\nCREATE TABLE filler (n INTEGER);");
    for (int v = 2; v <= kMigrations; ++v) {
      std::string sql =
          "INSERT INTO hits VALUES ('" + std::to_string(v) +
          "');\n"
          "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2000)\n"
          "INSERT INTO filler SELECT n FROM r;";
      if (v == 7) sql += "\nCREATE TABLE late (id INTEGER);";
      write("V" + std::to_string(v) + "__step_" + std::to_string(v) + ".sql", sql);
    }
  }

  void expect_each_applied_once(std::size_t steps_reported) {
    EXPECT_EQ(steps_reported, static_cast<std::size_t>(kMigrations));
    EXPECT_EQ(history_rows(true), kMigrations);
    EXPECT_EQ(history_rows(false), 0);
    EXPECT_EQ(rows_of("hits"), kMigrations - 1);
    EXPECT_EQ(count("SELECT count(DISTINCT v) FROM hits"), kMigrations - 1);
    EXPECT_EQ(rows_of("filler"), (kMigrations - 1) * 2000);
    EXPECT_EQ(manager().current_version(), std::to_string(kMigrations));
  }
};

TEST_P(ConcurrencyTest, EightThreadsEachWithItsOwnDatabase) {
  write_folder();
  std::barrier start(kRunners);
  std::vector<std::size_t> applied(kRunners, 0);
  std::vector<std::string> errors(kRunners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRunners; ++i) {
    threads.emplace_back([&, i] {
      try {
        MigrationManager migrations(Database::open(uri()));
        migrations.load(folder());
        start.arrive_and_wait();
        applied[i] = migrations.migrate().steps.size();
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& error : errors) EXPECT_EQ(error, "");
  std::size_t total = 0;
  for (std::size_t n : applied) total += n;
  expect_each_applied_once(total);
}

TEST_P(ConcurrencyTest, EightProcesses) {
  write_folder();
  const auto start_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()) +
                        std::chrono::milliseconds(500);
  std::vector<pid_t> pids;
  for (int i = 0; i < kRunners; ++i) {
    const std::string out = scratch_path("runner" + std::to_string(i) + ".out");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::string runner = NEXDB_MIGRATE_RUNNER, target = uri(), dir = folder().string(),
                when = std::to_string(start_at.count());
    char* argv[] = {runner.data(), target.data(), dir.data(), when.data(), nullptr};
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, runner.c_str(), &actions, nullptr, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    pids.push_back(pid);
  }
  std::size_t total = 0;
  for (int i = 0; i < kRunners; ++i) {
    int status = 0;
    ASSERT_EQ(waitpid(pids[i], &status, 0), pids[i]);
    std::ifstream in(scratch_path("runner" + std::to_string(i) + ".out"));
    std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "runner " << i << ": " << output;
    std::size_t n = 0;
    EXPECT_EQ(std::sscanf(output.c_str(), "applied %zu", &n), 1) << output;
    total += n;
  }
  expect_each_applied_once(total);
}

TEST_P(ConcurrencyTest, ASecondRunnerWaitsForTheLockAndTimesOut) {
  std::promise<void> started, release;
  auto released = release.get_future().share();
  MigrationManager first(*db);
  first.version("1", "slow", [&](Transaction& tx) {
    tx.execute("CREATE TABLE slow (id INTEGER)");
    started.set_value();
    released.wait();
  });
  std::thread runner([&] { first.migrate(); });
  started.get_future().wait();

  // Another Database, and on SQLite another spelling of the same file's path: same lock.
  std::string other_uri = uri();
  if (!postgres()) other_uri.replace(other_uri.rfind('/'), 1, "/./");
  MigrationManager second(Database::open(other_uri), {.lock_timeout = std::chrono::milliseconds(300)});
  second.version("1", "slow", [](Transaction&) {});
  const auto start = std::chrono::steady_clock::now();
  try {
    second.migrate();
    ADD_FAILURE() << "the second runner should not get the lock";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("timed out after 300 ms waiting for the migration lock"));
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  release.set_value();
  runner.join();
  EXPECT_EQ(second.current_version(), "1");
  EXPECT_TRUE(second.migrate().steps.empty());  // the lock is free again, and 1 is applied
}

INSTANTIATE_TEST_SUITE_P(Backend, ConcurrencyTest, ::testing::Values(NEXDB_TEST_DIALECT),
                         backend_name);

}  // namespace
}  // namespace nexdb::test
