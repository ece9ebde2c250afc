// NEXDB_* environment variables overlaid on the parsed file, before validation, so a value
// from the environment passes exactly the checks a value from the file does.
//
// Rule: the key path upper-cased with '.' -> '_' and a NEXDB_ prefix (pool.max_size ->
// NEXDB_POOL_MAX_SIZE). Only variables under a section prefix (NEXDB_POOL_, NEXDB_CLUSTERS_,
// ...) are configuration; others (NEXDB_PG_PORT, NEXDB_CONFIG, ...) are left alone. A variable
// under a section prefix that names no key is an error, like an unknown key in the file.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <utility>
#include <vector>

#include "config/context.hpp"

namespace nexdb::config_detail {

using Environment = std::vector<std::pair<std::string, std::string>>;

/// The process's NEXDB_* variables, sorted by name.
Environment process_environment();

/// Applies `env` to `root`, marking each key it sets in `ctx`; returns the variables applied.
std::vector<std::string> apply_environment(toml::table& root, Context& ctx, const Environment& env);

}  // namespace nexdb::config_detail
