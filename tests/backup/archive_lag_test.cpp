// Archiving pauses while a streaming replica is too far behind, and goes on once it catches
// up. The lag is real: replay is paused on one of the shared cluster's replicas.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "backup_support.hpp"
#include "nexdb/archive.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

/// Pauses WAL replay on replica 1 for its lifetime (resumed even when the test fails).
struct ReplayPause {
  std::unique_ptr<Connection> replica = connect(pg_replica_uri(1));
  ReplayPause() { replica->execute("SELECT pg_wal_replay_pause()"); }
  ~ReplayPause() { resume(); }
  void resume() {
    try {
      replica->execute("SELECT pg_wal_replay_resume()");
    } catch (...) {
      // Nothing more to do here; the cluster is restarted by the next fixture run anyway.
    }
  }
};

TEST(ArchiveLag, PausesWhileAReplicaIsBehindAndResumesWhenItCatchesUp) {
  PgDatabase source;
  Database db = Database::open(source.uri());
  seed(db, 5, 2000);

  std::mutex mutex;
  std::atomic<std::uint64_t> rows{0};
  std::atomic<bool> paused{false};
  std::uint64_t max_lag_seen = 0;
  ArchiveSettings s{
      .table = "orders",
      .where = "true",
      .batch_size = 50,
      .lag = {.replicas = {pg_replica_uri(1)}, .max_bytes = 64 * 1024, .check_interval = 50ms},
      .progress = [&](const ArchiveProgress& p) {
        std::lock_guard lock(mutex);
        rows = p.rows;
        paused = p.paused;
        max_lag_seen = std::max(max_lag_seen, p.lag_bytes);
      }};
  auto pause = std::make_unique<ReplayPause>();
  auto run = std::async(std::launch::async, [&] { return Archiver(db, s).run(); });

  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!paused && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(paused) << "the archiver never paused; moved " << rows;
  const std::uint64_t at_pause = rows;
  EXPECT_LT(at_pause, 2000u);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(rows.load(), at_pause) << "batches moved while the replica was behind";
  EXPECT_TRUE(paused);

  pause.reset();  // pg_wal_replay_resume(): the replica catches up
  ASSERT_EQ(run.wait_for(60s), std::future_status::ready);
  const ArchiveReport report = run.get();
  EXPECT_EQ(report.rows, 2000u);
  EXPECT_GE(report.lag_pauses, 1u);
  EXPECT_GE(report.paused, 1000ms);
  EXPECT_GT(max_lag_seen, 64u * 1024);
  EXPECT_EQ(db.execute("SELECT count(*) FROM orders_archive").scalar<std::int64_t>(), 2000);
  db.close();
}

TEST(ArchiveLag, AReplicaThatCannotBeReachedStopsArchivingAfterMaxWait) {
  EXPECT_GT(LagLimit{}.max_wait.count(), 0) << "a replica that is down would hold it for ever";
  PgDatabase source;
  Database db = Database::open(source.uri());
  seed(db, 5, 100);
  const std::string down =
      fmt::format("postgresql://nexdb@127.0.0.1:{}/nexdb?connect_timeout=1", closed_port());
  std::vector<ArchiveProgress> seen;
  ArchiveSettings s{.table = "orders",
                    .where = "true",
                    .batch_size = 50,
                    .lag = {.replicas = {down},
                            .max_bytes = 64 * 1024,
                            .check_interval = 100ms,
                            .max_wait = 500ms},
                    .job = "unreachable replica",
                    .progress = [&](const ArchiveProgress& p) { seen.push_back(p); }};
  try {
    Archiver(db, s).run();
    FAIL() << "archived past a replica nobody could measure";
  } catch (const ArchiveError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("could not be reached"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(closed_port())), std::string::npos) << message;
    EXPECT_NE(message.find("resumes where it stopped"), std::string::npos) << message;
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen.back().paused);
  EXPECT_FALSE(seen.back().replica_error.empty());
  EXPECT_EQ(seen.back().replica.find("could not"), std::string::npos) << "name and cause apart";
  EXPECT_EQ(db.execute("SELECT count(*) FROM orders").scalar<std::int64_t>(), 100);  // none moved
  db.close();
}

}  // namespace
}  // namespace nexdb::test
