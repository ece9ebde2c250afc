// The optimizer's result cache: LRU, bounded by entries and bytes, entries valid until their TTL
// and while the generations of the tables they read are unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nexdb/rows.hpp"
#include "optimizer/shapes.hpp"

namespace nexdb::detail {

/// The generations a result was read under (taken before the query ran).
using GenerationSnapshot = std::vector<std::pair<Generation*, std::uint64_t>>;

class ResultCache {
 public:
  using Clock = std::chrono::steady_clock;
  ResultCache(std::size_t max_entries, std::size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  bool enabled() const noexcept { return max_entries_ > 0; }
  /// A copy of the cached result, if fresh.
  std::optional<Rows> get(const std::string& key, Clock::time_point now);
  void put(std::string key, const Rows& rows, Clock::time_point expires,
           GenerationSnapshot snapshot);
  void clear();

  struct Stats {
    std::uint64_t hits = 0, misses = 0, entries = 0, bytes = 0, evictions = 0, invalidations = 0;
  };
  Stats stats() const;

  /// The key of a statement: its SQL and its values, each tagged with its type.
  static std::string key_of(const Statement& statement);

 private:
  struct Entry {
    std::string key;
    Rows rows;
    Clock::time_point expires;
    GenerationSnapshot snapshot;
    std::size_t bytes = 0;
  };
  using List = std::list<Entry>;
  void erase(List::iterator it);

  std::size_t max_entries_;
  std::size_t max_bytes_;
  mutable std::mutex mutex_;
  List lru_;  // most recent first
  std::unordered_map<std::string_view, List::iterator> index_;
  std::size_t bytes_ = 0;
  Stats stats_{};
};

}  // namespace nexdb::detail
