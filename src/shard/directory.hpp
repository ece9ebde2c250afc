// The lookup directory: a table (shard_key TEXT PRIMARY KEY, shard INTEGER) on one cluster that
// says which shard holds each key, cached in the process for a while. Keys it does not list are
// placed where the hash function puts them, and recorded on their first write.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace nexdb::detail {
class ShardCluster;
}

namespace nexdb::shard_detail {

/// `schema.table` or `table`, each part validated and quoted.
std::string quote_qualified(std::string_view name);

class Directory {
 public:
  Directory(detail::ShardCluster& cluster, std::string table, std::chrono::milliseconds ttl);

  /// The shard recorded for `key`; nullopt when the directory does not list it.
  std::optional<std::size_t> find(const std::string& key);
  /// The recorded shard, recording `placement` first when there is none (the first writer of a
  /// key wins, also between application instances).
  std::size_t place(const std::string& key, std::size_t placement);
  /// Records (or changes) the shard of `key`.
  void assign(const std::string& key, std::size_t shard);

 private:
  struct Entry {
    std::optional<std::size_t> shard;
    std::chrono::steady_clock::time_point expires;
  };
  void ensure_table();
  void remember(const std::string& key, std::optional<std::size_t> shard);

  detail::ShardCluster& cluster_;
  std::string table_;  // quoted
  std::chrono::milliseconds ttl_;
  std::once_flag created_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace nexdb::shard_detail
