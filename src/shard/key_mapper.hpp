// Shard key -> shard number for the hash, modulo and range functions (lookup's directory sits on
// top: keys it does not list are placed by hash). Pure computation: the routing hot path.
#pragma once

#include <cstdint>
#include <vector>

#include "nexdb/config.hpp"
#include "nexdb/shard_key.hpp"

namespace nexdb::shard_detail {

class KeyMapper {
 public:
  /// ConfigError for key ranges or range starts that do not fit the shard count.
  explicit KeyMapper(const ShardConfig& config);

  std::size_t shard_for(const ShardKey& key) const;
  /// The shard whose key range holds `hash`.
  std::size_t shard_of_hash(std::uint64_t hash) const noexcept;
  KeyRange range(std::size_t shard) const { return ranges_.at(shard); }
  ShardKeyType key_type() const noexcept { return key_type_; }

 private:
  ShardFunction function_;
  ShardKeyType key_type_;
  std::size_t count_;
  bool equal_ranges_ = true;
  std::vector<KeyRange> ranges_;
  std::vector<std::uint64_t> starts_;  // ranges_[i].start, for binary search
  std::vector<std::int64_t> range_starts_;
};

}  // namespace nexdb::shard_detail
