#include "migrate/catalog.hpp"

#include <fmt/format.h>

namespace nexdb::detail {

const SqlScript* ScriptSet::for_dialect(Dialect dialect) const {
  const auto& variant = dialect == Dialect::postgres ? postgres : sqlite;
  if (variant) return &*variant;
  return generic ? &*generic : nullptr;
}

const SqlScript* ScriptSet::any() const {
  if (generic) return &*generic;
  if (postgres) return &*postgres;
  return sqlite ? &*sqlite : nullptr;
}

bool Migration::has_up(Dialect dialect) const {
  return kind == MigrationKind::cpp ? static_cast<bool>(up_fn) : up.for_dialect(dialect) != nullptr;
}

bool Migration::has_undo(Dialect dialect) const {
  return kind == MigrationKind::cpp ? static_cast<bool>(undo_fn)
                                    : undo.for_dialect(dialect) != nullptr;
}

std::optional<std::string> Migration::checksum(Dialect dialect) const {
  if (kind == MigrationKind::cpp) return fingerprint_checksum;
  const SqlScript* script = up.for_dialect(dialect);
  return script ? std::optional(script->checksum) : std::nullopt;
}

std::optional<std::string> Migration::undo_checksum(Dialect dialect) const {
  if (kind == MigrationKind::cpp) return std::nullopt;
  const SqlScript* script = undo.for_dialect(dialect);
  return script ? std::optional(script->checksum) : std::nullopt;
}

std::string Migration::script_name(Dialect dialect) const {
  if (kind == MigrationKind::cpp) return "C++";
  const SqlScript* script = up.for_dialect(dialect);
  return script ? script->file : fmt::format("(no script for {})", to_string(dialect));
}

std::string Migration::undo_script_name(Dialect dialect) const {
  if (kind == MigrationKind::cpp) return "C++";
  const SqlScript* script = undo.for_dialect(dialect);
  return script ? script->file : fmt::format("(no undo for {})", to_string(dialect));
}

std::string Migration::label() const { return fmt::format("{} ({})", version.text(), description); }

const Migration* Catalog::find(const MigrationVersion& version) const {
  auto it = migrations.find(version);
  return it == migrations.end() ? nullptr : &it->second;
}

}  // namespace nexdb::detail
