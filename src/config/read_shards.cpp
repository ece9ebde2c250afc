// [shards]: key, function, count, key_type, range_starts, key_ranges, lookup_*, reference_tables,
// [shards.tables] and [shards.map] (shard number -> cluster), with the seed's spellings
// shard_key, shard_function, num_shards and [shards.shard_map] accepted too.
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

// The seed spells the keys shard_key, shard_function, num_shards and shard_map; both spellings
// are accepted, one at a time.
std::string_view spelling(const TableReader& shards, std::string_view key, std::string_view seed) {
  const bool has_key = shards.table().contains(key);
  if (has_key && shards.table().contains(seed)) {
    shards.get(seed);
    shards.fail(seed,
                fmt::format("'{}' and '{}' are the same setting; give one of them", key, seed));
  }
  return has_key || !shards.table().contains(seed) ? key : seed;
}

ShardFunction read_function(const TableReader& shards) {
  const auto key = spelling(shards, "function", "shard_function");
  const auto text = shards.string(key).value_or("hash");
  if (auto function = shard_function_from_string(text)) return *function;
  shards.fail(
      key, fmt::format("unknown shard function '{}' (known: hash, modulo, range, lookup)", text));
}

ShardKeyType read_key_type(const TableReader& shards, ShardFunction function) {
  const auto text = shards.string("key_type").value_or("integer");
  if (text != "integer" && text != "text") {
    shards.fail("key_type", fmt::format("unknown key type '{}' (known: integer, text)", text));
  }
  const auto type = text == "integer" ? ShardKeyType::integer : ShardKeyType::text;
  if (type == ShardKeyType::text &&
      (function == ShardFunction::modulo || function == ShardFunction::range)) {
    shards.fail("key_type", fmt::format("function = \"{}\" needs integer keys; use \"hash\" or "
                                        "\"lookup\" for text keys",
                                        to_string(function)));
  }
  return type;
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

bool has_cluster(const std::vector<ClusterConfig>& clusters, std::string_view name) {
  return std::any_of(clusters.begin(), clusters.end(),
                     [&](const ClusterConfig& c) { return c.name == name; });
}

// Shard number -> cluster name, every name checked against the clusters.
std::map<std::size_t, std::string> read_map(const TableReader& map,
                                            const std::vector<ClusterConfig>& clusters) {
  std::map<std::size_t, std::string> out;
  for (const auto& [key, node] : map.table()) {
    const std::size_t number = shard_number(map, key.str());
    std::string cluster = *map.string(key.str());
    if (!has_cluster(clusters, cluster)) {
      map.fail(key.str(),
               fmt::format("no cluster '{}' (clusters: {})", cluster, join_names(clusters)));
    }
    out.emplace(number, std::move(cluster));
  }
  return out;
}

std::size_t read_count(const TableReader& shards, const std::map<std::size_t, std::string>& map,
                       std::string_view map_key) {
  const auto count_key = spelling(shards, "count", "num_shards");
  const auto count = shards.integer(count_key, 1);
  if (count && *count > max_shards) {
    shards.fail(count_key,
                fmt::format("at most {} shards are supported, got {}", max_shards, *count));
  }
  const std::size_t n = count ? static_cast<std::size_t>(*count) : map.rbegin()->first + 1;
  if (auto last = map.rbegin()->first; last >= n) {
    shards.context().fail(fmt::format("shards.{}.{}", map_key, last),
                          fmt::format("shard {} is out of range: {} = {} means shards 0 to {}",
                                      last, count_key, n, n - 1));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!map.contains(i)) {
      shards.fail(map_key, fmt::format("shard {} has no cluster: every shard from 0 to {} needs "
                                       "an entry",
                                       i, n - 1));
    }
  }
  return n;
}

std::vector<std::int64_t> read_range_starts(const TableReader& shards, ShardFunction function,
                                            std::size_t count) {
  auto starts = shards.integers("range_starts");
  if (function != ShardFunction::range) {
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

std::vector<std::string> read_key_ranges(const TableReader& shards, ShardFunction function,
                                         std::size_t count) {
  auto texts = shards.strings("key_ranges");
  if (!texts) return {};
  if (function != ShardFunction::hash)
    shards.fail("key_ranges", "only used with function = \"hash\"");
  if (texts->size() != count) {
    shards.fail("key_ranges", fmt::format("has {} entries for {} shards; give one per shard",
                                          texts->size(), count));
  }
  std::vector<KeyRange> ranges;
  for (std::size_t i = 0; i < texts->size(); ++i) {
    std::string error;
    auto range = KeyRange::parse((*texts)[i], &error);
    if (!range) shards.fail("key_ranges", fmt::format("item {}: {}", i, error));
    ranges.push_back(*range);
  }
  if (auto problem = check_key_ranges(ranges)) shards.fail("key_ranges", *problem);
  return *texts;
}

std::map<std::string, std::string, std::less<>> read_tables(const TableReader& shards) {
  std::map<std::string, std::string, std::less<>> out;
  const toml::table* tables = shards.subtable("tables");
  if (tables == nullptr) return out;
  const TableReader reader(shards.context(), *tables, shards.key_path("tables"));
  for (const auto& [key, node] : *tables) {
    const std::string table(key.str());
    std::string column = *reader.string(table);
    if (column.empty()) reader.fail(table, "the key column's name must not be empty");
    out.emplace(table, std::move(column));
  }
  return out;
}

std::vector<std::string> read_reference_tables(
    const TableReader& shards, const std::map<std::string, std::string, std::less<>>& keyed) {
  auto tables = shards.strings("reference_tables").value_or(std::vector<std::string>{});
  for (const auto& table : tables) {
    if (table.empty()) shards.fail("reference_tables", "a table name must not be empty");
    if (keyed.contains(table)) {
      shards.fail("reference_tables",
                  fmt::format("'{}' is also in [shards.tables]: a reference table is copied to "
                              "every shard and has no key column",
                              table));
    }
  }
  return tables;
}

void read_lookup(const TableReader& shards, const std::vector<ClusterConfig>& clusters,
                 ShardConfig& out) {
  auto cluster = shards.string("lookup_cluster");
  auto table = shards.string("lookup_table");
  auto ttl = shards.millis("lookup_cache_ttl_ms");
  if (out.function != ShardFunction::lookup) {
    for (std::string_view key : {"lookup_cluster", "lookup_table", "lookup_cache_ttl_ms"}) {
      if (shards.table().contains(key)) shards.fail(key, "only used with function = \"lookup\"");
    }
    return;
  }
  if (!cluster) {
    shards.fail("lookup_cluster",
                "required with function = \"lookup\": the cluster that holds "
                "the directory table");
  }
  if (!has_cluster(clusters, *cluster)) {
    shards.fail("lookup_cluster",
                fmt::format("no cluster '{}' (clusters: {})", *cluster, join_names(clusters)));
  }
  out.lookup_cluster = *cluster;
  if (table) {
    if (table->empty() || table->size() > 63)
      shards.fail("lookup_table", "must be 1 to 63 characters");
    out.lookup_table = *table;
  }
  if (ttl) out.lookup_cache_ttl = *ttl;
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
  const auto key = spelling(shards, "key", "shard_key");
  out.shard_key = shards.string(key).value_or("");
  if (out.shard_key.empty()) {
    shards.fail(key, "required: the column the application shards by, e.g. key = \"user_id\"");
  }
  out.function = read_function(shards);
  out.key_type = read_key_type(shards, out.function);
  const auto map_key = spelling(shards, "map", "shard_map");
  const toml::table* map_table = shards.subtable(map_key);
  if (map_table == nullptr || map_table->empty()) {
    shards.fail(map_key, "required: [shards.map] with one entry per shard, e.g. 0 = \"shard0\"");
  }
  out.shard_map =
      read_map(TableReader(shards.context(), *map_table, shards.key_path(map_key)), clusters);
  out.num_shards = read_count(shards, out.shard_map, map_key);
  out.range_starts = read_range_starts(shards, out.function, out.num_shards);
  out.key_ranges = read_key_ranges(shards, out.function, out.num_shards);
  out.table_keys = read_tables(shards);
  out.reference_tables = read_reference_tables(shards, out.table_keys);
  read_lookup(shards, clusters, out);
  return out;
}

}  // namespace nexdb::config_detail
