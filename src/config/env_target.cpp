// NEXDB_* variable names -> key paths (see environment.hpp for the rule).
#include <fmt/format.h>

#include "config/checks.hpp"
#include "config/env_mapping.hpp"
#include "nexdb/error.hpp"

namespace nexdb::config_detail {

std::string env_form(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '.' || c == '-') c = '_';
  }
  return out;
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

[[noreturn]] void unknown(const std::string& variable, std::string_view hint) {
  throw ConfigError(
      fmt::format("environment variable {}: unknown configuration variable; {}. "
                  "See docs/configuration.md",
                  variable, hint));
}

std::vector<std::string> names_in(const toml::table& root, std::string_view section,
                                  std::string_view sub = {}) {
  std::vector<std::string> out;
  const toml::node* node = root.get(section);
  if (node != nullptr && !sub.empty() && node->is_table()) node = node->as_table()->get(sub);
  if (node == nullptr || !node->is_table()) return out;
  for (const auto& [key, value] : *node->as_table()) out.emplace_back(key.str());
  return out;
}

// NEXDB_CLUSTERS_<NAME>_<KEY>: a cluster of the file whose name fits wins; otherwise the
// known key suffix decides where the name ends, and the new cluster is named in lower case.
EnvTarget cluster_target(const std::string& variable, std::string_view rest,
                         const toml::table& root) {
  std::vector<EnvTarget> found;
  for (const auto& name : names_in(root, "clusters")) {
    const std::string head = env_form(name) + "_";
    if (!rest.starts_with(head)) continue;
    for (const auto& [path, kind] : cluster_paths()) {
      if (rest.substr(head.size()) != env_form(path)) continue;
      auto segments = split_path(path);
      segments.insert(segments.begin(), {"clusters", name});
      found.push_back({std::move(segments), kind});
    }
  }
  if (found.empty()) {
    for (const auto& [path, kind] : cluster_paths()) {
      // Built by append: g++ 12 -O3 reports a false -Wrestrict on "literal" + std::string&&.
      std::string tail = "_";
      tail += env_form(path);
      if (!rest.ends_with(tail) || rest.size() == tail.size()) continue;
      auto segments = split_path(path);
      segments.insert(segments.begin(),
                      {"clusters", lower(rest.substr(0, rest.size() - tail.size()))});
      found.push_back({std::move(segments), kind});
    }
  }
  if (found.empty()) {
    unknown(variable,
            "cluster variables are NEXDB_CLUSTERS_<NAME>_<KEY> with KEY one of PRIMARY, "
            "REPLICAS, READ_PREFERENCE, MAX_REPLICATION_LAG_BYTES, MAX_REPLICATION_LAG_MS, "
            "POOL_<pool key>, CONNECTION_<connection key>");
  }
  if (found.size() > 1) {
    throw ConfigError(
        fmt::format("environment variable {}: ambiguous: it could set {} or {}; "
                    "rename one of the clusters",
                    variable, found[0].path(), found[1].path()));
  }
  if (auto problem = check_cluster_name(found[0].segments[1])) {
    throw ConfigError(fmt::format("environment variable {}: {}", variable, *problem));
  }
  return found[0];
}

// NEXDB_METRICS_LABELS_<NAME>: a label of the file whose name fits, else the name in lower case.
EnvTarget label_target(std::string_view rest, const toml::table& root) {
  for (const auto& name : names_in(root, "metrics", "labels")) {
    if (env_form(name) == rest) return {{"metrics", "labels", name}, Kind::string};
  }
  return {{"metrics", "labels", lower(rest)}, Kind::string};
}

// NEXDB_SHARDS_TABLES_<TABLE>: a table of the file whose name fits, else the name in lower case.
EnvTarget table_key_target(std::string_view rest, const toml::table& root) {
  for (const auto& name : names_in(root, "shards", "tables")) {
    if (env_form(name) == rest) return {{"shards", "tables", name}, Kind::string};
  }
  return {{"shards", "tables", lower(rest)}, Kind::string};
}

}  // namespace

std::optional<EnvTarget> env_target(const std::string& variable, const toml::table& root) {
  const std::string name = env_form(variable).substr(env_prefix.size());
  for (const auto& [path, kind] : fixed_paths()) {
    if (env_form(path) == name) return EnvTarget{split_path(path), kind};
  }
  if (name.starts_with("SHARDS_MAP_") && name.size() > 11) {
    return EnvTarget{{"shards", "map", name.substr(11)}, Kind::string};
  }
  if (name.starts_with("SHARDS_SHARD_MAP_") && name.size() > 17) {
    return EnvTarget{{"shards", "shard_map", name.substr(17)}, Kind::string};
  }
  if (name.starts_with("SHARDS_TABLES_") && name.size() > 14) {
    return table_key_target(std::string_view(name).substr(14), root);
  }
  if (name.starts_with("METRICS_LABELS_") && name.size() > 15) {
    return label_target(std::string_view(name).substr(15), root);
  }
  if (name.starts_with("CLUSTERS_")) {
    return cluster_target(variable, std::string_view(name).substr(9), root);
  }
  for (const KeySpec& section : top_level_keys) {
    const std::string section_name = env_form(section.key);
    if (name == section_name || name.starts_with(section_name + "_")) {
      std::string known;
      for (const auto& [path, kind] : fixed_paths()) {
        if (path.starts_with(std::string(section.key) + ".")) {
          known += (known.empty() ? "" : ", ") + std::string(env_prefix) + env_form(path);
        }
      }
      unknown(variable, fmt::format("the [{}] variables are {}", section.key, known));
    }
  }
  return std::nullopt;  // NEXDB_PG_PORT, NEXDB_CONFIG, ...: not configuration
}

}  // namespace nexdb::config_detail
