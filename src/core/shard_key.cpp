// Shard keys, the shard hash and key ranges. XXH3 is used header-only, like the migration
// checksums, so that hashing a key is a few inlined instructions.
#define XXH_INLINE_ALL
#include <xxhash.h>
#undef XXH_INLINE_ALL

#include <fmt/format.h>

#include <charconv>
#include <limits>

#include "nexdb/error.hpp"
#include "nexdb/shard_key.hpp"

namespace nexdb {
namespace {

__extension__ typedef unsigned __int128 u128;  // -Wpedantic: a GCC/Clang extension

// Whitespace PostgreSQL's int8in skips around a number.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "40" -> 0x4000000000000000; nullopt unless 1-16 hex digits.
std::optional<std::uint64_t> parse_prefix(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : hex) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return std::nullopt;
    value = (value << 4) | static_cast<std::uint64_t>(digit);
  }
  return value << (4 * (16 - hex.size()));
}

std::string format_prefix(std::uint64_t value) {
  std::string hex = fmt::format("{:016x}", value);
  while (hex.size() > 2 && hex.ends_with("00")) hex.resize(hex.size() - 2);
  return hex;
}

}  // namespace

std::string_view to_string(ShardKeyType type) noexcept {
  return type == ShardKeyType::integer ? "integer" : "text";
}

std::int64_t ShardKey::integer() const {
  if (!is_integer())
    throw UsageError(fmt::format("shard key '{}' is text, not an integer", text()));
  return std::get<std::int64_t>(value_);
}

const std::string& ShardKey::text() const {
  if (is_integer())
    throw UsageError(fmt::format("shard key {} is an integer, not text", integer()));
  return std::get<std::string>(value_);
}

std::string ShardKey::to_string() const {
  return is_integer() ? std::to_string(std::get<std::int64_t>(value_))
                      : std::get<std::string>(value_);
}

ShardKey ShardKey::as(ShardKeyType type) const {
  if (type == ShardKeyType::text) return is_integer() ? ShardKey(to_string()) : *this;
  if (is_integer()) return *this;
  if (auto value = parse_integer(text())) return ShardKey(*value);
  throw UsageError(fmt::format(
      "shard key '{}' is not an integer, but the shard key column holds integers (key_type = "
      "\"integer\"); pass the number, or set key_type = \"text\" if the column is text",
      text()));
}

std::uint64_t shard_hash(std::int64_t key) noexcept {
  const auto bits = static_cast<std::uint64_t>(key);
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  return XXH3_64bits(bytes, sizeof bytes);
}

std::uint64_t shard_hash(std::string_view key) noexcept {
  return XXH3_64bits(key.data(), key.size());
}

std::uint64_t shard_hash(const ShardKey& key) noexcept {
  return key.is_integer() ? shard_hash(key.integer()) : shard_hash(std::string_view(key.text()));
}

std::string KeyRange::to_string() const {
  return fmt::format("{}-{}", start == 0 ? "" : format_prefix(start),
                     to_end ? "" : format_prefix(end));
}

std::optional<KeyRange> KeyRange::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<KeyRange> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || text.find('-', dash + 1) != std::string_view::npos) {
    return fail(
        fmt::format("'{}' is not a key range: write START-END in hex, e.g. \"40-80\", "
                    "\"-40\" or \"c0-\"",
                    text));
  }
  KeyRange range;
  const auto start_text = text.substr(0, dash);
  const auto end_text = text.substr(dash + 1);
  if (!start_text.empty()) {
    auto start = parse_prefix(start_text);
    if (!start) return fail(fmt::format("'{}': '{}' is not 1 to 16 hex digits", text, start_text));
    range.start = *start;
  }
  if (!end_text.empty()) {
    auto end = parse_prefix(end_text);
    if (!end) return fail(fmt::format("'{}': '{}' is not 1 to 16 hex digits", text, end_text));
    range.end = *end;
    range.to_end = false;
    if (range.end <= range.start)
      return fail(fmt::format("'{}' is empty: its end is not above its start", text));
  }
  return range;
}

std::vector<KeyRange> equal_key_ranges(std::size_t count) {
  std::vector<KeyRange> ranges(count);
  const u128 space = u128{1} << 64;
  for (std::size_t i = 0; i < count; ++i) {
    // ceil(i * 2^64 / count): the smallest hash with floor(hash * count / 2^64) == i.
    ranges[i].start = static_cast<std::uint64_t>((u128{i} * space + count - 1) / count);
    if (i > 0) {
      ranges[i - 1].end = ranges[i].start;
      ranges[i - 1].to_end = false;
    }
  }
  return ranges;
}

std::optional<std::string> check_key_ranges(const std::vector<KeyRange>& ranges) {
  if (ranges.empty()) return "no key ranges";
  if (ranges.front().start != 0) {
    return fmt::format("range 0 ({}) must start at the beginning of the hash space (\"-...\")",
                       ranges.front().to_string());
  }
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    const KeyRange& before = ranges[i - 1];
    if (before.to_end || before.end != ranges[i].start) {
      return fmt::format("range {} ({}) does not start where range {} ({}) ends", i,
                         ranges[i].to_string(), i - 1, before.to_string());
    }
  }
  if (!ranges.back().to_end) {
    return fmt::format("the last range ({}) must run to the end of the hash space (\"...-\")",
                       ranges.back().to_string());
  }
  return std::nullopt;
}

}  // namespace nexdb
