// Two-phase commit's pure parts: the gid format recovery trusts, and the error of an unknown
// outcome.
#include <gtest/gtest.h>

#include "nexdb/shard.hpp"
#include "shard/two_phase.hpp"

namespace nexdb::test {
namespace {

TEST(ShardGid, OnlyNexdbsOwnFormIsParsed) {
  const std::string gid = shard_detail::make_gid(0xabcdef, "a", "b");
  const auto parsed = shard_detail::parse_gid(gid);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->txid, 0xabcdefu);
  EXPECT_EQ(parsed->participant, shard_detail::cluster_tag("b"));
  std::string upper = gid;
  upper.back() = 'F';
  EXPECT_FALSE(shard_detail::parse_gid(upper));
  std::string quoted = gid;
  quoted[35] = '\'';
  EXPECT_FALSE(shard_detail::parse_gid(quoted));
  std::string coordinator = gid;
  coordinator[24] = 'x';
  EXPECT_FALSE(shard_detail::parse_gid(coordinator));
  EXPECT_EQ(shard_detail::prepared_statement("COMMIT PREPARED", "a'b"), "COMMIT PREPARED 'a''b'");
}

// Review defect 8: a commit whose outcome is unknown must not be retried by a generic loop.
TEST(ShardErrors, TransactionInDoubtIsNotRetryable) {
  EXPECT_FALSE(TransactionInDoubt("in doubt").retryable());
  EXPECT_TRUE(ConnectionLost("lost").retryable());
  const ConnectionLost& as_base = TransactionInDoubt("in doubt");
  EXPECT_FALSE(as_base.retryable());
}

}  // namespace
}  // namespace nexdb::test
