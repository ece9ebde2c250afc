#include "shard/key_mapper.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "nexdb/error.hpp"

namespace nexdb::shard_detail {
namespace {

__extension__ typedef unsigned __int128 u128;  // -Wpedantic: a GCC/Clang extension

}  // namespace

KeyMapper::KeyMapper(const ShardConfig& config)
    : function_(config.function), key_type_(config.key_type), count_(config.count()) {
  if (count_ == 0) throw ConfigError("the shard map is empty: give at least one shard");
  if (config.key_ranges.empty()) {
    ranges_ = equal_key_ranges(count_);
  } else {
    if (config.key_ranges.size() != count_) {
      throw ConfigError(fmt::format("shards: {} key ranges for {} shards; give one per shard",
                                    config.key_ranges.size(), count_));
    }
    for (const auto& text : config.key_ranges) {
      std::string error;
      auto range = KeyRange::parse(text, &error);
      if (!range) throw ConfigError("shards.key_ranges: " + error);
      ranges_.push_back(*range);
    }
    if (auto problem = check_key_ranges(ranges_))
      throw ConfigError("shards.key_ranges: " + *problem);
    equal_ranges_ = ranges_ == equal_key_ranges(count_);
  }
  for (const auto& r : ranges_) starts_.push_back(r.start);
  if (function_ == ShardFunction::range) {
    range_starts_ = config.range_starts;
    if (range_starts_.size() != count_ ||
        !std::is_sorted(range_starts_.begin(), range_starts_.end()) ||
        std::adjacent_find(range_starts_.begin(), range_starts_.end()) != range_starts_.end()) {
      throw ConfigError(
          fmt::format("shards.range_starts: give {} strictly increasing lowest keys, one "
                      "per shard",
                      count_));
    }
  }
  if ((function_ == ShardFunction::modulo || function_ == ShardFunction::range) &&
      key_type_ != ShardKeyType::integer) {
    throw ConfigError(fmt::format("shard function {} needs integer keys (key_type = \"integer\")",
                                  to_string(function_)));
  }
}

std::size_t KeyMapper::shard_of_hash(std::uint64_t hash) const noexcept {
  if (equal_ranges_) return static_cast<std::size_t>((u128{hash} * count_) >> 64);
  return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), hash) -
                                  starts_.begin()) -
         1;
}

std::size_t KeyMapper::shard_for(const ShardKey& raw) const {
  // Converted only when the value's type is not the column's (no copy on the hot path).
  std::optional<ShardKey> converted;
  if (raw.is_integer() != (key_type_ == ShardKeyType::integer)) converted = raw.as(key_type_);
  const ShardKey& key = converted ? *converted : raw;
  switch (function_) {
    case ShardFunction::modulo: {
      const auto n = static_cast<std::int64_t>(count_);
      return static_cast<std::size_t>(((key.integer() % n) + n) % n);
    }
    case ShardFunction::range: {
      const std::int64_t k = key.integer();
      const auto it = std::upper_bound(range_starts_.begin(), range_starts_.end(), k);
      if (it == range_starts_.begin()) {
        throw UsageError(
            fmt::format("shard key {} is below the first range start ({}): no shard "
                        "holds it",
                        k, range_starts_.front()));
      }
      return static_cast<std::size_t>(it - range_starts_.begin()) - 1;
    }
    case ShardFunction::hash:
    case ShardFunction::lookup:
      return shard_of_hash(shard_hash(key));
  }
  return 0;
}

}  // namespace nexdb::shard_detail
