// [shards]: key, function, count, range_starts and [shards.map] (shard number -> cluster).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "config/read.hpp"
#include "config/schema.hpp"

namespace nexdb::config_detail {
namespace {

// Enough for any real deployment, small enough that a typo cannot allocate gigabytes.
constexpr std::int64_t max_shards = 1 << 20;

ShardFunction read_function(const TableReader& shards) {
  const auto text = shards.string("function").value_or("hash");
  if (text == "hash") return ShardFunction::hash;
  if (text == "range") return ShardFunction::range;
  shards.fail("function", fmt::format("unknown shard function '{}' (known: hash, range)", text));
}

std::size_t shard_number(const TableReader& map, std::string_view key) {
  std::size_t number = 0;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), number);
  const bool valid = ec == std::errc{} && end == key.data() + key.size() &&
                     (key.size() == 1 || key.front() != '0') &&
                     number < static_cast<std::size_t>(max_shards);
  if (!valid) {
    map.get(key);
    map.fail(key, fmt::format("'{}' is not a shard number (0, 1, 2, ...)", key));
  }
  return number;
}

// Shard number -> cluster name, every name checked against the clusters.
std::map<std::size_t, std::string> read_map(const TableReader& map,
                                            const std::vector<ClusterConfig>& clusters) {
  std::map<std::size_t, std::string> out;
  for (const auto& [key, node] : map.table()) {
    const std::size_t number = shard_number(map, key.str());
    std::string cluster = *map.string(key.str());
    const bool exists = std::any_of(clusters.begin(), clusters.end(),
                                    [&](const ClusterConfig& c) { return c.name == cluster; });
    if (!exists) {
      map.fail(key.str(),
               fmt::format("no cluster '{}' (clusters: {})", cluster, join_names(clusters)));
    }
    out.emplace(number, std::move(cluster));
  }
  return out;
}

std::size_t read_count(const TableReader& shards, const std::map<std::size_t, std::string>& map) {
  const auto count = shards.integer("count", 1);
  if (count && *count > max_shards) {
    shards.fail("count",
                fmt::format("at most {} shards are supported, got {}", max_shards, *count));
  }
  const std::size_t n = count ? static_cast<std::size_t>(*count) : map.rbegin()->first + 1;
  if (auto last = map.rbegin()->first; last >= n) {
    shards.context().fail(
        fmt::format("shards.map.{}", last),
        fmt::format("shard {} is out of range: count = {} means shards 0 to {}", last, n, n - 1));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!map.contains(i)) {
      shards.fail("map", fmt::format("shard {} has no cluster: every shard from 0 to {} needs an "
                                     "entry",
                                     i, n - 1));
    }
  }
  return n;
}

std::vector<std::int64_t> read_range_starts(const TableReader& shards, ShardFunction function,
                                            std::size_t count) {
  auto starts = shards.integers("range_starts");
  if (function == ShardFunction::hash) {
    if (starts) shards.fail("range_starts", "only used with function = \"range\"");
    return {};
  }
  if (!starts) {
    shards.fail("range_starts", fmt::format("required with function = \"range\": the lowest key of "
                                            "each of the {} shards, e.g. [0, 1000000, ...]",
                                            count));
  }
  if (starts->size() != count) {
    shards.fail("range_starts", fmt::format("has {} entries for {} shards; give one per shard",
                                            starts->size(), count));
  }
  for (std::size_t i = 1; i < starts->size(); ++i) {
    if ((*starts)[i] <= (*starts)[i - 1]) {
      shards.fail("range_starts", fmt::format("must be strictly increasing: item {} ({}) is not "
                                              "above item {} ({})",
                                              i, (*starts)[i], i - 1, (*starts)[i - 1]));
    }
  }
  return *starts;
}

}  // namespace

ShardConfig read_shards(const TableReader& shards, const std::vector<ClusterConfig>& clusters,
                        bool configured_clusters) {
  shards.allow_only(names_of(shard_keys));
  if (!configured_clusters) {
    shards.context().fail("shards",
                          "shards need clusters, but no [clusters] are configured; "
                          "define clusters.<name>.primary for each shard's cluster");
  }
  ShardConfig out;
  out.key = shards.string("key").value_or("");
  if (out.key.empty()) {
    shards.fail("key", "required: the column the application shards by, e.g. key = \"user_id\"");
  }
  out.function = read_function(shards);
  const toml::table* map_table = shards.subtable("map");
  if (map_table == nullptr || map_table->empty()) {
    shards.fail("map", "required: [shards.map] with one entry per shard, e.g. 0 = \"shard0\"");
  }
  const auto map =
      read_map(TableReader(shards.context(), *map_table, shards.key_path("map")), clusters);
  const std::size_t count = read_count(shards, map);
  out.range_starts = read_range_starts(shards, out.function, count);
  for (const auto& [number, cluster] : map) out.clusters.push_back(cluster);
  return out;
}

}  // namespace nexdb::config_detail
