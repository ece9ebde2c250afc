#include "optimizer/result_cache.hpp"

#include <cstring>

namespace nexdb::detail {
namespace {

std::size_t size_of(const Value& value) {
  std::size_t bytes = sizeof(Value);
  if (const auto* s = std::get_if<std::string>(&value.storage())) bytes += s->capacity();
  if (const auto* b = std::get_if<Bytes>(&value.storage())) bytes += b->capacity();
  return bytes;
}

std::size_t size_of(const Rows& rows) {
  std::size_t bytes = sizeof(Rows);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows.column_count(); ++c) bytes += size_of(rows.value(r, c));
  }
  return bytes;
}

void append_raw(std::string& out, const void* data, std::size_t size) {
  out.append(static_cast<const char*>(data), size);
}

}  // namespace

std::string ResultCache::key_of(const Statement& statement) {
  std::string key = statement.sql;
  for (const Value& v : statement.params) {
    key += '\x1f';
    key += static_cast<char>('0' + static_cast<int>(v.type()));
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            const std::uint64_t n = x.size();  // length first: values cannot run into each other
            append_raw(key, &n, sizeof n);
            key += x;
          } else if constexpr (std::is_same_v<T, Bytes>) {
            const std::uint64_t n = x.size();
            append_raw(key, &n, sizeof n);
            append_raw(key, x.data(), x.size());
          } else if constexpr (std::is_same_v<T, Timestamp>) {
            const auto us = x.time_since_epoch().count();
            append_raw(key, &us, sizeof us);
          } else if constexpr (!std::is_same_v<T, Null>) {
            append_raw(key, &x, sizeof x);
          }
        },
        v.storage());
  }
  return key;
}

std::optional<Rows> ResultCache::get(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  const Entry& entry = *it->second;
  bool fresh = entry.expires > now;
  for (const auto& [generation, seen] : entry.snapshot) {
    if (generation->load(std::memory_order_acquire) != seen) {
      fresh = false;
      ++stats_.invalidations;
      break;
    }
  }
  if (!fresh) {
    erase(it->second);
    ++stats_.misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.hits;
  return entry.rows;
}

void ResultCache::put(std::string key, const Rows& rows, Clock::time_point expires,
                      GenerationSnapshot snapshot) {
  const std::size_t bytes = size_of(rows) + key.size() * 2 + sizeof(Entry);
  if (!enabled() || bytes > max_bytes_) return;  // larger than the whole cache: not worth it
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) erase(it->second);
  lru_.push_front(Entry{.key = std::move(key),
                        .rows = rows,
                        .expires = expires,
                        .snapshot = std::move(snapshot),
                        .bytes = bytes});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  bytes_ += bytes;
  while (!lru_.empty() && (lru_.size() > max_entries_ || bytes_ > max_bytes_)) {
    erase(std::prev(lru_.end()));
    ++stats_.evictions;
  }
}

void ResultCache::erase(List::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

void ResultCache::clear() {
  std::lock_guard lock(mutex_);
  stats_.invalidations += lru_.size();
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

ResultCache::Stats ResultCache::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.entries = lru_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace nexdb::detail
