#include "shard/directory.hpp"

#include <fmt/format.h>

#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"
#include "shard/shard_state.hpp"

namespace nexdb::shard_detail {
namespace {

// Bounded so that a scan over many keys cannot grow the cache without limit.
constexpr std::size_t kMaxCached = 100000;

}  // namespace

std::string quote_qualified(std::string_view name) {
  const auto dot = name.find('.');
  if (dot == std::string_view::npos) return quote_identifier(name);
  return quote_identifier(name.substr(0, dot)) + "." + quote_identifier(name.substr(dot + 1));
}

Directory::Directory(detail::ShardCluster& cluster, std::string table,
                     std::chrono::milliseconds ttl)
    : cluster_(cluster), table_(quote_qualified(table)), ttl_(ttl) {}

void Directory::ensure_table() {
  std::call_once(created_, [&] {
    Lease lease = cluster_.write();
    lease->execute(fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (shard_key TEXT PRIMARY KEY, shard INTEGER NOT NULL)",
        table_));
  });
}

void Directory::remember(const std::string& key, std::optional<std::size_t> shard) {
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[key] = {shard, std::chrono::steady_clock::now() + ttl_};
}

std::optional<std::size_t> Directory::find(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > std::chrono::steady_clock::now())
      return it->second.shard;
  }
  ensure_table();
  Lease lease = cluster_.read();
  const Rows rows = lease->execute(
      Statement{fmt::format("SELECT shard FROM {} WHERE shard_key = $1", table_), {key}});
  std::optional<std::size_t> shard;
  if (!rows.empty()) shard = static_cast<std::size_t>(rows.scalar<std::int64_t>());
  remember(key, shard);
  return shard;
}

std::size_t Directory::place(const std::string& key, std::size_t placement) {
  if (auto shard = find(key)) return *shard;
  Lease lease = cluster_.write();
  lease->execute(Statement{
      fmt::format(
          "INSERT INTO {} (shard_key, shard) VALUES ($1, $2) ON CONFLICT (shard_key) DO NOTHING",
          table_),
      {key, static_cast<std::int64_t>(placement)}});
  const Rows rows = lease->execute(
      Statement{fmt::format("SELECT shard FROM {} WHERE shard_key = $1", table_), {key}});
  const auto shard = static_cast<std::size_t>(rows.scalar<std::int64_t>());
  remember(key, shard);
  return shard;
}

void Directory::assign(const std::string& key, std::size_t shard) {
  ensure_table();
  Lease lease = cluster_.write();
  lease->execute(Statement{
      fmt::format("INSERT INTO {} (shard_key, shard) VALUES ($1, $2) ON CONFLICT (shard_key) "
                  "DO UPDATE SET shard = excluded.shard",
                  table_),
      {key, static_cast<std::int64_t>(shard)}});
  remember(key, shard);
}

}  // namespace nexdb::shard_detail
