// `nexdb replica status`: every host of each PostgreSQL cluster, probed once.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "context.hpp"
#include "nexdb/error.hpp"
#include "nexdb/replica.hpp"

namespace nexdb::cli {

int run_replica_status(const GlobalOptions& global, const std::string& only_cluster) {
  using Json = nlohmann::ordered_json;
  const Config config = load_config(global);
  const Terminal term;
  Json json = Json::array();
  bool all_healthy = true;
  bool any = false;
  for (const ClusterConfig& cluster : config.clusters) {
    if (!only_cluster.empty() && cluster.name != only_cluster) continue;
    if (dialect_of(cluster.primary) != Dialect::postgres) continue;  // SQLite has no replicas
    any = true;
    ReplicaManager replicas = ReplicaManager::from_config(cluster);
    replicas.refresh(std::chrono::seconds(5));
    std::vector<std::vector<std::string>> rows;
    Json hosts = Json::array();
    for (const HostStats& h : replicas.hosts()) {
      all_healthy = all_healthy && h.healthy;
      const double rtt_ms = static_cast<double>(h.rtt.count()) / 1000.0;
      const double lag_s = static_cast<double>(h.lag.count()) / 1000.0;
      // A host that is down has no current RTT or lag; its error goes in full into JSON only.
      const auto shown = [&](std::string value) { return h.healthy ? value : std::string("-"); };
      const std::string error =
          h.last_error.size() > 70 ? h.last_error.substr(0, 67) + "..." : h.last_error;
      rows.push_back({h.host, std::string(to_string(h.role)),
                      h.healthy ? term.green("healthy") : term.red("down"),
                      shown(fmt::format("{:.2f}", rtt_ms)), shown(std::to_string(h.lag_bytes)),
                      shown(fmt::format("{:.3f}", lag_s)), error});
      hosts.push_back({{"host", h.host},
                       {"role", to_string(h.role)},
                       {"healthy", h.healthy},
                       {"rtt_ms", rtt_ms},
                       {"lag_bytes", h.lag_bytes},
                       {"lag_seconds", lag_s},
                       {"error", h.last_error}});
    }
    json.push_back({{"cluster", cluster.name}, {"hosts", hosts}});
    if (global.format == Format::text) {
      fmt::print("{} {}\n", term.bold("cluster"), cluster.name);
      term.table({"host", "role", "health", "rtt ms", "lag bytes", "lag s", "error"}, rows);
    }
  }
  if (!any) {
    throw ConfigError(
        only_cluster.empty()
            ? "no PostgreSQL cluster in the configuration: replica status needs a primary "
              "and replicas given by postgresql:// URIs ([clusters.<name>] in nexdb.toml)"
            : fmt::format("no PostgreSQL cluster named '{}' in the configuration", only_cluster));
  }
  if (global.format == Format::json) fmt::print("{}\n", json.dump(2));
  return all_healthy ? 0 : 1;
}

void add_replica_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto cluster = std::make_shared<std::string>();
  auto* replica_cmd =
      app.add_subcommand("replica", "Primary and read replicas")->require_subcommand(1);
  auto* status = replica_cmd->add_subcommand(
      "status",
      "Each host of each PostgreSQL cluster: role, round-trip time, replication lag, health");
  status->add_option("--cluster", *cluster, "Only this cluster");
  registry.on(status, [&global, cluster] { return run_replica_status(global, *cluster); });
}

}  // namespace nexdb::cli
