// Shard keys and the shard hash: the part of sharding every language must agree on.
//
// shard_hash(key) = XXH3_64bits(canonical bytes of the key, seed 0). Canonical bytes: an integer
// key is its 8-byte two's-complement big-endian form; a text key is its UTF-8 bytes as given.
// The 64-bit hash space is divided into contiguous key ranges, one per shard (Vitess keyspace
// ranges), so a shard can later split its range in two without moving any other shard's keys.
// docs/sharding.md has test vectors.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nexdb {

/// The type of the shard key column: integers (BIGINT user ids) or text (UUIDs, tenant names).
enum class ShardKeyType { integer, text };
std::string_view to_string(ShardKeyType type) noexcept;

/// One shard key value: an integer or a string.
class ShardKey {
 public:
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) ShardKey(T value)
      : value_(static_cast<std::int64_t>(value)) {}
  ShardKey(std::string value) : value_(std::move(value)) {}
  ShardKey(std::string_view value) : value_(std::string(value)) {}
  ShardKey(const char* value) : value_(std::string(value)) {}

  bool is_integer() const noexcept { return value_.index() == 0; }
  /// The integer; UsageError for a text key.
  std::int64_t integer() const;
  /// The text; UsageError for an integer key.
  const std::string& text() const;
  /// Decimal for integers, the text itself for text.
  std::string to_string() const;

  /// The key as the column's type: text "42" is the integer 42 for an integer column (as
  /// PostgreSQL reads '42' there), an integer is its decimal text for a text column. UsageError
  /// when the value cannot be of that type ("abc" for an integer column).
  ShardKey as(ShardKeyType type) const;

  friend bool operator==(const ShardKey&, const ShardKey&) = default;

 private:
  std::variant<std::int64_t, std::string> value_;
};

/// XXH3-64 (seed 0) of the big-endian bytes of an integer key.
std::uint64_t shard_hash(std::int64_t key) noexcept;
/// XXH3-64 (seed 0) of the UTF-8 bytes of a text key.
std::uint64_t shard_hash(std::string_view key) noexcept;
/// Either of the above.
std::uint64_t shard_hash(const ShardKey& key) noexcept;

/// A contiguous part [start, end) of the 64-bit hash space, written as in Vitess: hex prefixes
/// of the 64-bit value, left-aligned ("40" is 0x4000000000000000), an empty side meaning the
/// start or the end of the space: "-40", "40-80", "80-c0", "c0-", and "-" for all of it.
struct KeyRange {
  std::uint64_t start = 0;
  /// Exclusive end; ignored when `to_end` (the range runs to 2^64).
  std::uint64_t end = 0;
  bool to_end = true;

  bool contains(std::uint64_t hash) const noexcept {
    return hash >= start && (to_end || hash < end);
  }
  /// The Vitess notation, with trailing zero digits dropped ("40-80").
  std::string to_string() const;
  /// Parses the notation; nullopt with `error` set when malformed or empty (start >= end).
  static std::optional<KeyRange> parse(std::string_view text, std::string* error = nullptr);
  friend bool operator==(const KeyRange&, const KeyRange&) = default;
};

/// `count` equal ranges: shard i holds [ceil(i * 2^64 / count), ceil((i + 1) * 2^64 / count)),
/// i.e. shard = floor(hash * count / 2^64). count must be at least 1.
std::vector<KeyRange> equal_key_ranges(std::size_t count);

/// Checks that `ranges` cover the hash space in order without gaps or overlaps; the problem
/// otherwise ("range 2 (80-90) does not start where range 1 (40-70) ends").
std::optional<std::string> check_key_ranges(const std::vector<KeyRange>& ranges);

}  // namespace nexdb
