// ConsistencyToken and LSN text round trips; malformed tokens are usage errors.
#include <gtest/gtest.h>

#include "nexdb/error.hpp"
#include "nexdb/replica.hpp"

namespace nexdb {
namespace {

TEST(ConsistencyToken, RoundTripsThroughPostgresLsnText) {
  ConsistencyToken token = ConsistencyToken::parse("16/B374D848");
  EXPECT_EQ(token.lsn(), (std::uint64_t{0x16} << 32) | 0xB374D848u);
  EXPECT_EQ(token.to_string(), "16/B374D848");
  EXPECT_EQ(ConsistencyToken::parse("0/3000060").to_string(), "0/3000060");
  EXPECT_EQ(ConsistencyToken::parse("0/3000060"), ConsistencyToken(0x3000060));
}

TEST(ConsistencyToken, DefaultIsEmpty) {
  EXPECT_TRUE(ConsistencyToken{}.empty());
  EXPECT_FALSE(ConsistencyToken{1}.empty());
}

TEST(ConsistencyToken, MergeKeepsTheLaterPosition) {
  ConsistencyToken token(100);
  token.merge(ConsistencyToken(50));
  EXPECT_EQ(token.lsn(), 100u);
  token.merge(ConsistencyToken(200));
  EXPECT_EQ(token.lsn(), 200u);
}

TEST(ConsistencyToken, MalformedTextIsAUsageError) {
  for (std::string_view bad :
       {"", "0", "/", "0/", "/1", "x/1", "1/1/1", "0/-1", "123456789/0", " 0/1", "0/1 "}) {
    EXPECT_THROW(ConsistencyToken::parse(bad), UsageError) << bad;
    EXPECT_FALSE(parse_lsn(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace nexdb
