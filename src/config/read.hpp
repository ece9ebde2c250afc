// The TOML tree (file plus environment overlay) -> Config, section by section.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "config/context.hpp"
#include "nexdb/config.hpp"

namespace nexdb::config_detail {

/// Reads and validates everything; throws ConfigError naming origin and key.
Config read_config(const toml::table& root, Context& ctx);

/// [shards]; `configured_clusters` is false when the only cluster is the implicit default.
ShardConfig read_shards(const TableReader& shards, const std::vector<ClusterConfig>& clusters,
                        bool configured_clusters);
MonitorConfig read_monitor(const TableReader& monitor);
MetricsConfig read_metrics(const TableReader& metrics, std::vector<std::string>& warnings);
MigrationsConfig read_migrations(const TableReader& migrations);
BackupConfig read_backup(const TableReader& backup);

/// Comma-separated names for "known: ..." lists.
std::string join_names(const std::vector<ClusterConfig>& clusters);

}  // namespace nexdb::config_detail
