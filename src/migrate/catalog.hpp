// The set of known migrations (files and C++ functions), keyed by version.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "nexdb/migrate.hpp"

namespace nexdb::detail {

/// One .sql file, read and checksummed.
struct SqlScript {
  std::string file{};  // name only, for messages and the history's `script` column
  std::string sql{};
  std::string checksum{};
};

/// A script and its per-dialect variants; a variant wins over the generic file for its dialect.
struct ScriptSet {
  std::optional<SqlScript> generic{};
  std::optional<SqlScript> postgres{};
  std::optional<SqlScript> sqlite{};

  const SqlScript* for_dialect(Dialect dialect) const;
  bool empty() const { return !generic && !postgres && !sqlite; }
  /// Some file of the set, for messages.
  const SqlScript* any() const;
};

struct Migration {
  MigrationVersion version;
  std::string description{};
  MigrationKind kind = MigrationKind::sql;  // sql or cpp
  ScriptSet up{};
  ScriptSet undo{};
  MigrationFn up_fn{};
  MigrationFn undo_fn{};
  std::optional<std::string> fingerprint_checksum{};  // C++ migrations

  bool has_up(Dialect dialect) const;
  bool has_undo(Dialect dialect) const;
  std::optional<std::string> checksum(Dialect dialect) const;
  /// The file that runs on `dialect`, "C++", or a note that there is none.
  std::string script_name(Dialect dialect) const;
  std::string undo_script_name(Dialect dialect) const;
  std::optional<std::string> undo_checksum(Dialect dialect) const;
  /// "1.1.0 (add user status)"
  std::string label() const;
};

struct Catalog {
  std::map<MigrationVersion, Migration> migrations;

  const Migration* find(const MigrationVersion& version) const;
};

/// Normalises SQL text (line endings, trailing blanks, a BOM, blank lines at either end) and
/// returns its XXH3-64 as 16 lowercase hex digits.
std::string sql_checksum(std::string_view sql);
/// XXH3-64 of arbitrary text (C++ migration fingerprints), 16 hex digits.
std::string text_checksum(std::string_view text);

/// Adds every V/U file of `folder` to `catalog`; throws ConfigError listing every problem.
void load_folder(const std::filesystem::path& folder, Catalog& catalog);

}  // namespace nexdb::detail
