// `nexdb shard route KEY`, `nexdb shard status`, `nexdb shard recover`: the shard map of the
// configuration ([shards] in nexdb.toml), seen by an operator.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "context.hpp"
#include "nexdb/error.hpp"
#include "nexdb/shard.hpp"

namespace nexdb::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string host_of(const Config& config, const std::string& cluster) {
  for (const auto& c : config.clusters) {
    if (c.name == cluster) return redact_password(c.primary);
  }
  return redact_password(cluster);
}

// The shard whose key range holds `hash`.
std::size_t shard_of_hash(const ShardManager& shards, std::uint64_t hash) {
  for (std::size_t s = 0; s < shards.shard_count(); ++s) {
    if (shards.key_range(s).contains(hash)) return s;
  }
  return 0;  // the ranges cover the hash space (checked when the map is read)
}

int run_route(const GlobalOptions& global, const std::string& key_text) {
  const Config config = load_config(global);
  ShardManager shards = ShardManager::from_config(config);
  const ShardKey key = ShardKey(key_text).as(config.shards.key_type);
  const std::size_t shard = shards.shard_for(key);
  const std::string& cluster = shards.cluster_name(shards.cluster_of(shard));
  const bool lookup = config.shards.function == ShardFunction::lookup;
  const bool hashed = config.shards.function == ShardFunction::hash || lookup;
  // With lookup the directory decides; the hash says where a key it does not list goes.
  const std::uint64_t hash = shard_hash(key);
  const std::size_t hashed_shard = hashed ? shard_of_hash(shards, hash) : shard;
  Json json = {{"key", key.to_string()},
               {"key_type", to_string(config.shards.key_type)},
               {"function", to_string(config.shards.function)},
               {"shard", shard},
               {"cluster", cluster},
               {"host", host_of(config, cluster)}};
  if (hashed) {
    json["hash"] = fmt::format("{:016x}", hash);
    json["key_range"] = shards.key_range(hashed_shard).to_string();
  }
  if (lookup) json["hash_shard"] = hashed_shard;
  if (global.format == Format::json) {
    fmt::print("{}\n", json.dump(2));
    return 0;
  }
  const Terminal term;
  fmt::print("{} {} = {} ({} key, {} of {} shards)\n", term.bold("key"), config.shards.shard_key,
             key.to_string(), to_string(config.shards.key_type), to_string(config.shards.function),
             shards.shard_count());
  if (hashed) {
    fmt::print("  hash       {:016x}  (XXH3-64 of the key's canonical bytes)\n", hash);
    fmt::print("  key range  {}  (shard {})\n", shards.key_range(hashed_shard).to_string(),
               hashed_shard);
  }
  if (lookup) {
    fmt::print("  directory  {}\n", hashed_shard == shard
                                        ? std::string("where the hash puts it (listed or new)")
                                        : fmt::format("moved to shard {}", shard));
  }
  fmt::print("  shard      {}\n  cluster    {}\n  host       {}\n",
             term.green(std::to_string(shard)), cluster, host_of(config, cluster));
  return 0;
}

// max / mean - 1 of the rows per shard (clusters holding several shards count per shard).
double skew(const std::vector<double>& per_shard) {
  if (per_shard.empty()) return 0;
  double sum = 0;
  for (double v : per_shard) sum += v;
  const double mean = sum / static_cast<double>(per_shard.size());
  return mean == 0 ? 0 : *std::max_element(per_shard.begin(), per_shard.end()) / mean - 1;
}

int run_status(const GlobalOptions& global, const std::vector<std::string>& tables) {
  const Config config = load_config(global);
  ShardManager shards = ShardManager::from_config(config);
  const auto status = shards.status(tables);
  const Terminal term;
  bool all_up = true;
  Json clusters = Json::array();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> table_names;
  for (const auto& s : status) {
    all_up = all_up && s.reachable;
    Json counts = Json::object();
    for (const auto& t : s.tables) {
      counts[t.table] = t.rows;
      if (std::find(table_names.begin(), table_names.end(), t.table) == table_names.end())
        table_names.push_back(t.table);
    }
    clusters.push_back({{"cluster", s.cluster},
                        {"shards", s.shards},
                        {"host", s.host},
                        {"reachable", s.reachable},
                        {"error", s.error},
                        {"in_doubt", s.in_doubt},
                        {"rows", counts}});
    rows.push_back({s.cluster, fmt::format("{}", fmt::join(s.shards, ",")), s.host,
                    s.reachable ? term.green("up") : term.red("down"), std::to_string(s.in_doubt),
                    s.error.size() > 60 ? s.error.substr(0, 57) + "..." : s.error});
  }
  Json skews = Json::object();
  std::vector<std::vector<std::string>> table_rows;
  for (const auto& name : table_names) {
    std::vector<std::string> line{name};
    std::vector<double> per_shard;
    std::int64_t total = 0;
    for (const auto& s : status) {
      auto it = std::find_if(s.tables.begin(), s.tables.end(),
                             [&](const ShardTableCount& t) { return t.table == name; });
      const std::int64_t n = it == s.tables.end() ? 0 : it->rows;
      total += n;
      line.push_back(s.reachable ? std::to_string(n) : "-");
      for (std::size_t i = 0; i < s.shards.size(); ++i) {
        per_shard.push_back(static_cast<double>(n) / static_cast<double>(s.shards.size()));
      }
    }
    const double k = skew(per_shard);
    skews[name] = {{"rows", total}, {"skew", k}};
    line.push_back(std::to_string(total));
    line.push_back(fmt::format("{:+.1f}%", 100 * k));
    table_rows.push_back(std::move(line));
  }
  if (global.format == Format::json) {
    fmt::print("{}\n", Json{{"clusters", clusters}, {"tables", skews}}.dump(2));
    return all_up ? 0 : 1;
  }
  fmt::print("{} {} shards by {} ({}) on {} clusters\n", term.bold("shard map:"),
             shards.shard_count(), config.shards.shard_key, to_string(config.shards.function),
             status.size());
  term.table({"cluster", "shards", "host", "state", "in doubt", "error"}, rows);
  if (!table_rows.empty()) {
    std::vector<std::string> header{"rows of"};
    for (const auto& s : status) header.push_back(s.cluster);
    header.push_back("total");
    header.push_back("skew (max/mean-1)");
    fmt::print("\n");
    term.table(header, table_rows);
  }
  return all_up ? 0 : 1;
}

int run_recover(const GlobalOptions& global) {
  const Config config = load_config(global);
  ShardManager shards = ShardManager::from_config(config);
  const RecoveryReport report = shards.recover();
  if (global.format == Format::json) {
    fmt::print("{}\n", Json{{"committed", report.committed},
                            {"rolled_back", report.rolled_back},
                            {"in_progress", report.in_progress},
                            {"foreign", report.foreign},
                            {"errors", report.errors},
                            {"log_entries_removed", report.log_entries_removed}}
                           .dump(2));
    return report.errors.empty() ? 0 : 1;
  }
  if (shards.dialect() == Dialect::sqlite)
    fmt::print("SQLite shards prepare no transactions: nothing to recover\n");
  for (const auto& gid : report.committed) fmt::print("committed    {}\n", gid);
  for (const auto& gid : report.rolled_back) fmt::print("rolled back  {}\n", gid);
  for (const auto& gid : report.in_progress)
    fmt::print("in progress  {} (its coordinator is still running)\n", gid);
  for (const auto& gid : report.foreign)
    fmt::print("left alone   {} (coordinated by a cluster not in this map)\n", gid);
  for (const auto& error : report.errors) fmt::print(stderr, "error        {}\n", error);
  fmt::print("{} committed, {} rolled back, {} in progress, {} log rows removed\n",
             report.committed.size(), report.rolled_back.size(), report.in_progress.size(),
             report.log_entries_removed);
  return report.errors.empty() ? 0 : 1;
}

}  // namespace

void add_shard_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto* shard =
      app.add_subcommand("shard", "The shard map of [shards]: routing, rows per shard, recovery")
          ->require_subcommand(1);
  auto key = std::make_shared<std::string>();
  auto* route = shard->add_subcommand(
      "route", "Which shard and cluster hold KEY, and its hash and key range");
  route->add_option("key", *key, "A shard key value (read as the configured key_type)")->required();
  registry.on(route, [&global, key] { return run_route(global, *key); });

  auto tables = std::make_shared<std::vector<std::string>>();
  auto* status = shard->add_subcommand(
      "status",
      "Each cluster: reachable, transactions in doubt; rows per shard of each table and the skew");
  status->add_option("--table", *tables,
                     "Count this table (repeatable; default: every table with the key column)");
  registry.on(status, [&global, tables] { return run_status(global, *tables); });

  auto* recover = shard->add_subcommand(
      "recover", "Settle two-phase transactions a crash left prepared (commit or roll back each)");
  registry.on(recover, [&global] { return run_recover(global); });
}

}  // namespace nexdb::cli
