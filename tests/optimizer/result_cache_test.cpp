// The result cache alone: keys, TTL, table generations and bounds.
#include <gtest/gtest.h>

#include "optimizer/result_cache.hpp"

namespace nexdb::detail {
namespace {

using namespace std::chrono_literals;
using Clock = ResultCache::Clock;

Rows rows_of(std::int64_t v) { return Rows({"v"}, {Value(v)}, 1); }

TEST(ResultCache, KeyDistinguishesValuesAndTheirTypes) {
  const auto key = [](std::vector<Value> params) {
    return ResultCache::key_of({"SELECT $1", std::move(params)});
  };
  EXPECT_EQ(key({1}), key({1}));
  EXPECT_NE(key({1}), key({2}));
  EXPECT_NE(key({1}), key({"1"}));
  EXPECT_NE(key({1}), key({1.0}));
  EXPECT_NE(key({"ab", "c"}), key({"a", "bc"}));
  EXPECT_NE(key({null}), key({""}));
  EXPECT_NE(ResultCache::key_of({"SELECT 1", {}}), ResultCache::key_of({"SELECT 2", {}}));
}

TEST(ResultCache, HitUntilTtl) {
  ResultCache cache(10, 1 << 20);
  const auto now = Clock::now();
  cache.put("k", rows_of(7), now + 100ms, {});
  auto hit = cache.get("k", now + 50ms);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->scalar<std::int64_t>(), 7);
  EXPECT_FALSE(cache.get("k", now + 101ms));
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ResultCache, AWriteToATableReadMakesTheEntryStale) {
  ResultCache cache(10, 1 << 20);
  Generation orders{0}, users{0};
  const auto now = Clock::now();
  cache.put("k", rows_of(1), now + 1h, {{&orders, 0}});
  users.fetch_add(1);
  EXPECT_TRUE(cache.get("k", now));  // another table changed
  orders.fetch_add(1);
  EXPECT_FALSE(cache.get("k", now));
  EXPECT_EQ(cache.stats().invalidations, 1u);
}

TEST(ResultCache, EvictsLeastRecentlyUsedBeyondItsBounds) {
  ResultCache cache(2, 1 << 20);
  const auto later = Clock::now() + 1h;
  cache.put("a", rows_of(1), later, {});
  cache.put("b", rows_of(2), later, {});
  ASSERT_TRUE(cache.get("a", Clock::now()));  // a is now the most recent
  cache.put("c", rows_of(3), later, {});
  EXPECT_TRUE(cache.get("a", Clock::now()));
  EXPECT_FALSE(cache.get("b", Clock::now()));
  EXPECT_EQ(cache.stats().evictions, 1u);

  ResultCache small(100, 600);  // bytes: only a couple of tiny results fit
  for (int i = 0; i < 20; ++i) small.put("key" + std::to_string(i), rows_of(i), later, {});
  EXPECT_LE(small.stats().bytes, 600u);
  EXPECT_LT(small.stats().entries, 20u);
  EXPECT_GT(small.stats().entries, 0u);
}

TEST(ResultCache, DisabledWithZeroEntries) {
  ResultCache cache(0, 1 << 20);
  EXPECT_FALSE(cache.enabled());
  cache.put("k", rows_of(1), Clock::now() + 1h, {});
  EXPECT_FALSE(cache.get("k", Clock::now()));
}

}  // namespace
}  // namespace nexdb::detail
