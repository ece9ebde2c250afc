// A small LRU map from SQL text to a backend's prepared-statement handle.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace nexdb::detail {

template <class Handle>
class StatementCache {
 public:
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}

  bool enabled() const noexcept { return capacity_ > 0; }

  /// The cached handle for `sql`, marked most recently used; nullptr when absent.
  Handle* find(std::string_view sql) {
    // The statement run last is the likeliest: comparing its text is cheaper than hashing.
    if (!entries_.empty() && entries_.front().first == sql) return &entries_.front().second;
    auto it = index_.find(sql);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);
    return &it->second->second;
  }

  /// Inserts a handle; returns the evicted one (if the cache was full) for the caller to free.
  std::optional<Handle> insert(std::string sql, Handle handle) {
    std::optional<Handle> evicted;
    if (entries_.size() >= capacity_) {
      auto& last = entries_.back();
      index_.erase(std::string_view(last.first));
      evicted = std::move(last.second);
      entries_.pop_back();
    }
    entries_.emplace_front(std::move(sql), std::move(handle));
    index_.emplace(std::string_view(entries_.front().first), entries_.begin());
    return evicted;
  }

  /// Removes `sql`; returns its handle for the caller to free.
  std::optional<Handle> erase(std::string_view sql) {
    auto it = index_.find(sql);
    if (it == index_.end()) return std::nullopt;
    std::optional<Handle> handle = std::move(it->second->second);
    entries_.erase(it->second);
    index_.erase(it);
    return handle;
  }

  template <class Fn>
  void for_each(Fn&& fn) {
    for (auto& entry : entries_) fn(entry.second);
  }
  void clear() {
    index_.clear();
    entries_.clear();
  }

 private:
  using Entries = std::list<std::pair<std::string, Handle>>;
  std::size_t capacity_;
  Entries entries_;
  std::unordered_map<std::string_view, typename Entries::iterator> index_;
};

}  // namespace nexdb::detail
