// MigrationManager: the facade over the catalog, planning and running.
#include <fmt/format.h>

#include "migrate/run.hpp"

namespace nexdb {

MigrationError::MigrationError(std::string message, std::string version, std::string description,
                               Details details, bool retryable)
    : Error(std::move(message), std::move(details)),
      version_(std::move(version)),
      description_(std::move(description)),
      retryable_(retryable) {}

MigrationManager::MigrationManager(Database database, MigrationSettings settings)
    : settings_(std::move(settings)),
      database_(std::move(database)),
      catalog_(std::make_unique<detail::Catalog>()) {}

MigrationManager::MigrationManager(MigrationSettings settings)
    : settings_(std::move(settings)), catalog_(std::make_unique<detail::Catalog>()) {}

MigrationManager::~MigrationManager() = default;
MigrationManager::MigrationManager(MigrationManager&&) noexcept = default;
MigrationManager& MigrationManager::operator=(MigrationManager&&) noexcept = default;

Database& MigrationManager::database() {
  if (!database_) {
    throw UsageError(
        "this MigrationManager has no database: construct it with one, or use the "
        "overloads that take a list of targets");
  }
  return *database_;
}

MigrationManager& MigrationManager::version(std::string_view version, std::string_view description,
                                            MigrationFn up, MigrationFn undo,
                                            std::string_view fingerprint) {
  MigrationVersion parsed = MigrationVersion::parse(version);
  if (!up) throw UsageError(fmt::format("C++ migration {} has no function", version));
  if (const detail::Migration* existing = catalog_->find(parsed)) {
    throw ConfigError(fmt::format(
        "C++ migration {} ({}): version {} is already defined by {}", version, description,
        existing->version.text(),
        existing->kind == MigrationKind::cpp ? "a C++ migration" : existing->up.any()->file));
  }
  catalog_->migrations.emplace(
      parsed, detail::Migration{
                  .version = parsed,
                  .description = std::string(description),
                  .kind = MigrationKind::cpp,
                  .up_fn = std::move(up),
                  .undo_fn = std::move(undo),
                  .fingerprint_checksum = fingerprint.empty()
                                              ? std::nullopt
                                              : std::optional(detail::text_checksum(fingerprint))});
  return *this;
}

MigrationManager& MigrationManager::load(const std::filesystem::path& folder) {
  detail::load_folder(folder, *catalog_);
  return *this;
}

RunReport MigrationManager::migrate(const RunOptions& options) {
  return detail::run(
      database(), *catalog_, settings_,
      [&](const SchemaStatus& status) {
        return detail::plan_up(*catalog_, status, settings_, std::nullopt);
      },
      options);
}

RunReport MigrationManager::up(std::string_view target, const RunOptions& options) {
  return detail::run(
      database(), *catalog_, settings_,
      [&](const SchemaStatus& status) {
        return detail::plan_up(*catalog_, status, settings_,
                               detail::known_version(target, *catalog_, status));
      },
      options);
}

RunReport MigrationManager::down(std::size_t steps, const RunOptions& options) {
  return detail::run(
      database(), *catalog_, settings_,
      [&](const SchemaStatus& status) { return detail::plan_down(*catalog_, status, steps); },
      options);
}

RunReport MigrationManager::to(std::string_view version, const RunOptions& options) {
  return detail::run(
      database(), *catalog_, settings_,
      [&](const SchemaStatus& status) {
        return detail::plan_to(*catalog_, status, settings_,
                               detail::known_version(version, *catalog_, status));
      },
      options);
}

SchemaStatus MigrationManager::status() {
  return detail::read_status(database(), *catalog_, settings_);
}

void MigrationManager::verify() {
  const SchemaStatus status = detail::read_status(database(), *catalog_, settings_);
  const auto problems = detail::validation_problems(status, settings_);
  if (!problems.empty()) {
    detail::throw_problems(fmt::format("verify failed on {}", status.database), status, problems);
  }
}

RepairReport MigrationManager::repair() { return detail::repair(database(), *catalog_, settings_); }

void MigrationManager::baseline(std::string_view version, std::string_view description) {
  detail::baseline(database(), settings_, MigrationVersion::parse(version), description);
}

std::optional<std::string> MigrationManager::current_version() {
  Lease lease = database().connection();
  return SchemaVersion(*lease, settings_.history_table).current_version();
}

std::vector<std::string> MigrationManager::versions() const {
  std::vector<std::string> out;
  out.reserve(catalog_->migrations.size());
  for (const auto& [version, migration] : catalog_->migrations) out.push_back(version.text());
  return out;
}

std::string RunReport::script() const {
  std::string out;
  for (const MigrationStep& step : steps) {
    const bool up = step.direction == Direction::up;
    out += fmt::format("-- {}{} {} ({})\n", up ? "" : "undo ", step.version, step.description,
                       step.script);
    if (step.kind == MigrationKind::cpp) {
      out += "-- C++ migration: runs code, no SQL to show\n\n";
    } else {
      out += step.sql;
      if (!step.sql.ends_with('\n')) out += '\n';
      out += '\n';
    }
  }
  return out;
}

}  // namespace nexdb
