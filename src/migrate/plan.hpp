// Pure planning: what the database's history and the known migrations add up to (status), and
// which migrations a command runs, in which order. Every check happens here, before anything runs.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "migrate/catalog.hpp"

namespace nexdb::detail {

struct Step {
  const Migration* migration = nullptr;
  Direction direction = Direction::up;
};

SchemaStatus build_status(const Catalog& catalog, Dialect dialect, std::string database,
                          std::span<const HistoryEntry> entries, bool history_exists);

/// Problems that make up() refuse to run (and that verify() reports).
struct Problem {
  std::string version{};
  std::string description{};
  std::string text{};
};
std::vector<Problem> validation_problems(const SchemaStatus& status,
                                         const MigrationSettings& settings);
/// Throws MigrationError: `headline`, then every problem on a line of its own.
[[noreturn]] void throw_problems(std::string_view headline, const SchemaStatus& status,
                                 const std::vector<Problem>& problems);

/// Pending migrations up to `target` (all when nullopt), ascending.
std::vector<Step> plan_up(const Catalog& catalog, const SchemaStatus& status,
                          const MigrationSettings& settings,
                          const std::optional<MigrationVersion>& target);
/// The `count` highest applied migrations, descending.
std::vector<Step> plan_down(const Catalog& catalog, const SchemaStatus& status, std::size_t count);
/// Up to `target` when it is at or above the current version, else undo everything above it.
std::vector<Step> plan_to(const Catalog& catalog, const SchemaStatus& status,
                          const MigrationSettings& settings, const MigrationVersion& target);

/// Throws UsageError unless `version` is "0", a known migration or in the history.
MigrationVersion known_version(std::string_view version, const Catalog& catalog,
                               const SchemaStatus& status);

}  // namespace nexdb::detail
