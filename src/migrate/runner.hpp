// Executing planned steps: each migration in its own transaction, failures recorded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "migrate/plan.hpp"

namespace nexdb::detail {

struct RunContext {
  Connection& connection;
  SchemaVersion& history;
  std::string applied_by{};
  std::string_view target{};
  const ProgressCallback* progress = nullptr;
};

/// What a step is, for reports and dry runs (its SQL included).
MigrationStep describe(const Step& step, Dialect dialect);

/// Runs `steps` in order. A failing one is rolled back, recorded as failed in a transaction of
/// its own, and stops the run with a MigrationError; the steps done so far stay done.
std::vector<MigrationStep> execute_steps(RunContext& context, const std::vector<Step>& steps);

/// "<os user>@<host>", prefixed by the database role on PostgreSQL.
std::string default_applied_by(Connection& connection);

}  // namespace nexdb::detail
