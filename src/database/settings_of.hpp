// A cluster's primary as DatabaseSettings (shared by Database::open and load_database_settings).
#pragma once

#include "nexdb/config.hpp"
#include "nexdb/database.hpp"

namespace nexdb::detail {

inline DatabaseSettings settings_of(const ClusterConfig& cluster) {
  return DatabaseSettings{.connection = cluster.connect_options(cluster.primary),
                          .pool = cluster.pool};
}

}  // namespace nexdb::detail
