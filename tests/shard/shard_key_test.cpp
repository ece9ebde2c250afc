// The shard hash and its documented test vectors, key ranges, the shard functions, and the
// distribution of a million keys.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "nexdb/error.hpp"
#include "nexdb/shard_key.hpp"
#include "shard/key_mapper.hpp"

namespace nexdb::test {
namespace {

using shard_detail::KeyMapper;

// The vectors of docs/sharding.md, computed independently with `xxhsum -H3` over the canonical
// bytes (e.g. printf '\x00\x00\x00\x00\x00\x00\x00\x2a' | xxhsum -H3).
TEST(ShardHash, MatchesTheDocumentedTestVectors) {
  EXPECT_EQ(shard_hash(std::int64_t{0}), 0xc77b3abb6f87acd9u);
  EXPECT_EQ(shard_hash(std::int64_t{1}), 0xf36b4a1a44f78bf3u);
  EXPECT_EQ(shard_hash(std::int64_t{42}), 0x2e4fe982b68910acu);
  EXPECT_EQ(shard_hash(std::int64_t{-1}), 0x5111c7e47d784413u);
  EXPECT_EQ(shard_hash(std::numeric_limits<std::int64_t>::max()), 0xf832fc1d899fe591u);
  EXPECT_EQ(shard_hash(std::string_view("")), 0x2d06800538d394c2u);
  EXPECT_EQ(shard_hash(std::string_view("a")), 0xe6c632b61e964e1fu);
  EXPECT_EQ(shard_hash(std::string_view("user-42")), 0x50fe4b21cf7b09cdu);
  EXPECT_EQ(shard_hash(std::string_view("h\xc3\xa9llo")), 0x6a45b79a7b549b1fu);
  EXPECT_EQ(shard_hash(std::string_view("42")), 0x1217cb28c0ef2191u);
  EXPECT_EQ(shard_hash(ShardKey(42)), shard_hash(std::int64_t{42}));
  EXPECT_EQ(shard_hash(ShardKey("user-42")), shard_hash(std::string_view("user-42")));
}

TEST(ShardHash, FourEqualRangesAreTheTopTwoBits) {
  const KeyMapper mapper(ShardConfig{
      .shard_key = "k", .num_shards = 4, .shard_map = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}}});
  // The documented placements: hash >> 62.
  EXPECT_EQ(mapper.shard_for(0), 3u);
  EXPECT_EQ(mapper.shard_for(1), 3u);
  EXPECT_EQ(mapper.shard_for(42), 0u);
  EXPECT_EQ(mapper.shard_for(-1), 1u);
  for (std::int64_t k = -500; k < 500; ++k)
    EXPECT_EQ(mapper.shard_for(k), shard_hash(k) >> 62) << k;
}

TEST(KeyRanges, ParseAndPrintVitessNotation) {
  EXPECT_EQ(KeyRange::parse("-40")->to_string(), "-40");
  EXPECT_EQ(KeyRange::parse("40-80")->start, 0x4000000000000000u);
  EXPECT_EQ(KeyRange::parse("40-80")->end, 0x8000000000000000u);
  EXPECT_TRUE(KeyRange::parse("c0-")->to_end);
  EXPECT_TRUE(KeyRange::parse("-")->contains(0));
  EXPECT_TRUE(KeyRange::parse("-")->contains(~std::uint64_t{0}));
  EXPECT_EQ(KeyRange::parse("4-8")->start, 0x4000000000000000u);  // left-aligned
  EXPECT_EQ(KeyRange::parse("0123456789abcdef-")->start, 0x0123456789abcdefu);
  std::string error;
  EXPECT_FALSE(KeyRange::parse("80-40", &error));
  EXPECT_NE(error.find("is empty"), std::string::npos);
  EXPECT_FALSE(KeyRange::parse("40", &error));
  EXPECT_FALSE(KeyRange::parse("x-", &error));
  EXPECT_FALSE(KeyRange::parse("00000000000000000-", &error));  // 17 digits
}

TEST(KeyRanges, EqualRangesTileTheSpace) {
  for (std::size_t n : {1u, 2u, 3u, 4u, 7u, 16u, 1000u}) {
    const auto ranges = equal_key_ranges(n);
    ASSERT_EQ(ranges.size(), n);
    EXPECT_FALSE(check_key_ranges(ranges)) << n;
  }
  const auto four = equal_key_ranges(4);
  EXPECT_EQ(four[1].to_string(), "40-80");
  EXPECT_EQ(four[3].to_string(), "c0-");
  EXPECT_EQ(equal_key_ranges(3)[1].start, 0x5555555555555556u);  // ceil(2^64 / 3)
  EXPECT_TRUE(check_key_ranges({*KeyRange::parse("-40"), *KeyRange::parse("50-")}).has_value());
  EXPECT_TRUE(check_key_ranges({*KeyRange::parse("-40")}).has_value());
}

// Splitting a shard's range moves none of the other shards' keys.
TEST(KeyRanges, SplittingOneRangeLeavesTheOthersAlone) {
  const ShardConfig four{
      .shard_key = "k", .num_shards = 4, .shard_map = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}}};
  ShardConfig five{.shard_key = "k",
                   .num_shards = 5,
                   .shard_map = {{0, "a"}, {1, "b"}, {2, "b2"}, {3, "c"}, {4, "d"}},
                   .key_ranges = {"-40", "40-60", "60-80", "80-c0", "c0-"}};
  const KeyMapper before(four);
  const KeyMapper after(five);
  for (std::int64_t k = 0; k < 20000; ++k) {
    const std::size_t old_shard = before.shard_for(k);
    const std::size_t new_shard = after.shard_for(k);
    if (old_shard == 1) {
      EXPECT_TRUE(new_shard == 1 || new_shard == 2) << k;
    } else {
      EXPECT_EQ(new_shard, old_shard < 1 ? old_shard : old_shard + 1) << k;
    }
  }
}

// 1,000,000 keys over 4 shards: every shard within 2% of a quarter, integer and text keys.
TEST(ShardDistribution, AMillionKeysSpreadWithinTwoPercent) {
  const KeyMapper ints(ShardConfig{
      .shard_key = "k", .num_shards = 4, .shard_map = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}}});
  const KeyMapper texts(ShardConfig{.shard_key = "k",
                                    .num_shards = 4,
                                    .shard_map = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}},
                                    .key_type = ShardKeyType::text});
  constexpr int kKeys = 1000000;
  std::array<int, 4> by_int{};
  std::array<int, 4> by_text{};
  std::string text;
  for (int k = 1; k <= kKeys; ++k) {
    ++by_int[ints.shard_for(k)];
    text = "user-" + std::to_string(k);
    ++by_text[texts.shard_for(ShardKey(std::string_view(text)))];
  }
  for (int s = 0; s < 4; ++s) {
    EXPECT_LE(std::abs(by_int[s] - kKeys / 4), kKeys / 4 * 2 / 100)
        << "integer keys on shard " << s << ": " << by_int[s];
    EXPECT_LE(std::abs(by_text[s] - kKeys / 4), kKeys / 4 * 2 / 100)
        << "text keys on shard " << s << ": " << by_text[s];
  }
}

TEST(ShardFunctions, ModuloAndRange) {
  const KeyMapper modulo(ShardConfig{.shard_key = "k",
                                     .function = ShardFunction::modulo,
                                     .num_shards = 4,
                                     .shard_map = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}}});
  EXPECT_EQ(modulo.shard_for(0), 0u);
  EXPECT_EQ(modulo.shard_for(7), 3u);
  EXPECT_EQ(modulo.shard_for(-1), 3u);    // never negative
  EXPECT_EQ(modulo.shard_for("10"), 2u);  // text of an integer column is read as the integer
  EXPECT_THROW(modulo.shard_for("ten"), UsageError);
  const KeyMapper range(ShardConfig{.shard_key = "k",
                                    .function = ShardFunction::range,
                                    .num_shards = 3,
                                    .shard_map = {{0, "a"}, {1, "b"}, {2, "c"}},
                                    .range_starts = {0, 100, 1000}});
  EXPECT_EQ(range.shard_for(0), 0u);
  EXPECT_EQ(range.shard_for(99), 0u);
  EXPECT_EQ(range.shard_for(100), 1u);
  EXPECT_EQ(range.shard_for(1000000), 2u);
  EXPECT_THROW(range.shard_for(-1), UsageError);
  EXPECT_THROW(KeyMapper(ShardConfig{.shard_key = "k",
                                     .function = ShardFunction::range,
                                     .num_shards = 2,
                                     .shard_map = {{0, "a"}, {1, "b"}},
                                     .range_starts = {5, 5}}),
               ConfigError);
}

TEST(ShardKeys, ConvertToTheColumnType) {
  EXPECT_EQ(ShardKey("42").as(ShardKeyType::integer), ShardKey(42));
  EXPECT_EQ(ShardKey(" +7 ").as(ShardKeyType::integer), ShardKey(7));
  EXPECT_EQ(ShardKey(42).as(ShardKeyType::text), ShardKey("42"));
  EXPECT_THROW(ShardKey("4x").as(ShardKeyType::integer), UsageError);
  EXPECT_THROW(ShardKey("99999999999999999999").as(ShardKeyType::integer), UsageError);
  EXPECT_THROW(ShardKey(1).text(), UsageError);
  // A text key "42" and the integer 42 hash differently: the column type decides which is meant.
  EXPECT_NE(shard_hash(ShardKey("42")), shard_hash(ShardKey(42)));
}

}  // namespace
}  // namespace nexdb::test
