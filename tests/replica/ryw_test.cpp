// Read-your-writes: a session never reads older data than it wrote; without a token it can.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <iostream>

#include "nexdb/error.hpp"
#include "replica_test_support.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using namespace std::chrono_literals;

class ReadYourWrites : public ::testing::Test {
 protected:
  ReadYourWrites() {
    auto settings = test::cluster_settings(test::pg_base_port(), ReadPreference::replica);
    settings.max_replication_lag_bytes = 0;  // lag limits off: only the token protects reads
    settings.max_replication_lag = 0ms;
    manager_ = std::make_unique<ReplicaManager>(settings);
    table_ = fmt::format("\"{}\".counter", schema_.name());
    manager_->execute(fmt::format("CREATE TABLE {} (id int PRIMARY KEY, v bigint)", table_));
    manager_->execute(fmt::format("INSERT INTO {} VALUES (1, 0)", table_));
    test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(1));
    test::wait_replayed(test::pg_primary_uri(), test::pg_replica_uri(2));
    manager_->refresh();
  }
  Statement update(std::int64_t v) {
    return Statement{fmt::format("UPDATE {} SET v = $1 WHERE id = 1", table_), {Value(v)}};
  }
  Statement read() { return Statement{fmt::format("SELECT v FROM {} WHERE id = 1", table_), {}}; }
  static std::int64_t value_of(const Rows& rows) { return rows.front().get<std::int64_t>(0); }

  test::PgSchema schema_;
  std::string table_;
  std::unique_ptr<ReplicaManager> manager_;
};

// Reads wait up to 1 s for a replica to replay the session's write, so the replicas serve them
// (asserted: a session that always read the primary would pass the staleness check alone).
TEST_F(ReadYourWrites, AThousandWriteThenReadPairsAreNeverStale) {
  auto settings = manager_->settings();
  settings.ryw_wait = 1000ms;
  ReplicaManager manager(settings);
  manager.refresh();
  Session session = manager.session();
  int stale = 0;
  for (std::int64_t i = 1; i <= 1000; ++i) {
    session.write(update(i));
    if (value_of(session.read(read())) != i) ++stale;
  }
  EXPECT_EQ(stale, 0);
  const auto hosts = manager.hosts();
  std::cout << "reads served by replica1/replica2/primary: " << hosts[1].reads << "/"
            << hosts[2].reads << "/" << hosts[0].reads << "\n";
  EXPECT_GE(hosts[1].reads + hosts[2].reads, 900u) << "the replicas served the reads";
}

// Without waiting, a read goes to a replica only if it has already replayed the write, else
// to the primary at once: never stale either way.
TEST_F(ReadYourWrites, WithoutWaitingReadsFallBackToThePrimaryAndAreNeverStale) {
  Session session = manager_->session();
  for (std::int64_t i = 1; i <= 200; ++i) {
    session.write(update(i));
    ASSERT_EQ(value_of(session.read(read())), i);
  }
}

// With replay paused on both replicas, a read without a token is certainly stale, and the same
// read with the session's token goes to the primary and is fresh.
TEST_F(ReadYourWrites, WithoutATokenReadsAreStaleWithOneTheyAreNot) {
  test::ReplayPause pause1(test::pg_replica_uri(1));
  test::ReplayPause pause2(test::pg_replica_uri(2));
  Session session = manager_->session();
  int stale_without = 0;
  int stale_with = 0;
  for (std::int64_t i = 1; i <= 20; ++i) {
    session.write(update(i));
    if (value_of(manager_->execute(read())) != i) ++stale_without;
    if (value_of(session.read(read())) != i) ++stale_with;
  }
  std::cout << "stale reads without token: " << stale_without << "/20, with: " << stale_with
            << "/20\n";
  EXPECT_EQ(stale_without, 20);
  EXPECT_EQ(stale_with, 0);
}

TEST_F(ReadYourWrites, TokensTravelBetweenRequestsAsStrings) {
  std::string cookie;
  {
    Session request1 = manager_->session();
    request1.write(update(7));
    cookie = request1.token().to_string();
    EXPECT_FALSE(request1.token().empty());
  }
  test::ReplayPause pause1(test::pg_replica_uri(1));
  test::ReplayPause pause2(test::pg_replica_uri(2));
  Session writer = manager_->session();
  writer.write(update(8));
  Session request2 = manager_->session(ConsistencyToken::parse(writer.token().to_string()));
  EXPECT_EQ(value_of(request2.read(read())), 8);
  EXPECT_THROW(manager_->session(ConsistencyToken::parse("not-a-token")), UsageError);
}

TEST_F(ReadYourWrites, ASessionCanHaveItsOwnReadPreference) {
  Session session = manager_->session();
  EXPECT_EQ(session.read_preference(), ReadPreference::replica);  // the manager's
  session.set_read_preference(ReadPreference::primary);
  EXPECT_EQ(session.read_preference(), ReadPreference::primary);
  for (int i = 0; i < 10; ++i) {
    Lease lease = session.read_lease();
    EXPECT_EQ(test::server_port(lease), test::pg_base_port());
  }
  Session other = manager_->session();  // others keep the manager's preference
  Lease lease = other.read_lease();
  EXPECT_NE(test::server_port(lease), test::pg_base_port());
}

TEST_F(ReadYourWrites, TransactionsRecordTheirToken) {
  test::ReplayPause pause1(test::pg_replica_uri(1));
  test::ReplayPause pause2(test::pg_replica_uri(2));
  Session session = manager_->session();
  session.transaction([&](Transaction& tx) { tx.execute(update(99)); });
  EXPECT_FALSE(session.token().empty());
  EXPECT_EQ(value_of(session.read(read())), 99);
}

}  // namespace
}  // namespace nexdb
