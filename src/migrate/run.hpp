// One command against one database: read the history, plan, and (unless a dry run) execute
// under the run-wide lock.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "migrate/plan.hpp"

namespace nexdb::detail {

using Planner = std::function<std::vector<Step>(const SchemaStatus&)>;

RunReport run(Database& db, const Catalog& catalog, const MigrationSettings& settings,
              const Planner& planner, const RunOptions& options, std::string_view target = {});

/// The status without taking the lock or creating anything.
SchemaStatus read_status(Database& db, const Catalog& catalog, const MigrationSettings& settings);

RepairReport repair(Database& db, const Catalog& catalog, const MigrationSettings& settings);
void baseline(Database& db, const MigrationSettings& settings, const MigrationVersion& version,
              std::string_view description);

}  // namespace nexdb::detail
