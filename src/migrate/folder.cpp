// Loading a migration folder: V<version>__<description>[.postgres|.sqlite].sql and U... undo files.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "migrate/catalog.hpp"

namespace nexdb::detail {
namespace {

struct ParsedName {
  bool undo = false;
  MigrationVersion version;
  std::string description{};
  std::optional<Dialect> dialect{};
};

/// Strips a ".postgres" / ".sqlite" suffix from `stem` and returns its dialect.
std::optional<Dialect> take_dialect(std::string_view& stem) {
  for (auto [suffix, dialect] : {std::pair{std::string_view(".postgres"), Dialect::postgres},
                                 std::pair{std::string_view(".sqlite"), Dialect::sqlite}}) {
    if (stem.ends_with(suffix)) {
      stem.remove_suffix(suffix.size());
      return dialect;
    }
  }
  return std::nullopt;
}

std::string check_description(std::string_view text) {
  if (text.empty()) throw ConfigError("the description after '__' is empty");
  if (auto dot = text.rfind('.'); dot != std::string_view::npos) {
    throw ConfigError(
        fmt::format("unknown dialect suffix '{}': use .postgres.sql or .sqlite.sql "
                    "(descriptions may not contain '.')",
                    text.substr(dot)));
  }
  std::string description(text);
  std::replace(description.begin(), description.end(), '_', ' ');
  return description;
}

/// Parses a file name ending in ".sql"; throws ConfigError saying what is wrong with it.
ParsedName parse_file_name(std::string_view name) {
  std::string_view stem = name.substr(0, name.size() - 4);
  const std::optional<Dialect> dialect = take_dialect(stem);
  if (stem.empty() || (stem[0] != 'V' && stem[0] != 'U')) {
    throw ConfigError(
        "a migration file name starts with V (migration) or U (undo), as in "
        "V1.2.0__add_status.sql");
  }
  const std::size_t separator = stem.find("__");
  if (separator == std::string_view::npos) {
    throw ConfigError(
        "missing '__' between the version and the description, as in "
        "V1.2.0__add_status.sql");
  }
  ParsedName parsed{.undo = stem[0] == 'U',
                    .version = MigrationVersion::parse(stem.substr(1, separator - 1)),
                    .description = check_description(stem.substr(separator + 2)),
                    .dialect = dialect};
  return parsed;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw ConfigError("could not be read");
  return std::move(text).str();
}

std::vector<std::filesystem::path> sql_files(const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw ConfigError(
        fmt::format("migration folder '{}' does not exist or is not a directory", folder.string()));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.ends_with(".sql") && !name.starts_with(".")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());  // deterministic messages
  return files;
}

std::optional<SqlScript>& slot_of(ScriptSet& set, std::optional<Dialect> dialect) {
  if (!dialect) return set.generic;
  return *dialect == Dialect::postgres ? set.postgres : set.sqlite;
}

/// Collects a folder's files into migrations, recording every problem instead of stopping at
/// the first, so one run of `load` shows everything to fix.
class FolderLoader {
 public:
  void add(const std::filesystem::path& path) {
    const std::string file = path.filename().string();
    try {
      ParsedName name = parse_file_name(file);
      SqlScript script{.file = file, .sql = read_file(path), .checksum = {}};
      script.checksum = sql_checksum(script.sql);
      if (name.undo) {
        undos_.emplace_back(std::move(name), std::move(script));
      } else {
        add_up(std::move(name), std::move(script));
      }
    } catch (const ConfigError& e) {
      problem(file, e.message());
    }
  }

  void attach_undos() {
    for (auto& [name, script] : undos_) {
      auto it = found_.find(name.version);
      if (it == found_.end()) {
        problem(script.file, fmt::format("an undo for version {}, but no V{}__....sql migration "
                                         "has that version",
                                         name.version.text(), name.version.text()));
        continue;
      }
      place(it->second, it->second.undo, std::move(name), std::move(script));
    }
  }

  void check_against(const Catalog& catalog) {
    for (const auto& [version, migration] : found_) {
      if (const Migration* existing = catalog.find(version)) {
        problem(migration.up.any()->file,
                fmt::format("version {} is already defined by {}", version.text(),
                            existing->kind == MigrationKind::cpp ? "a C++ migration"
                                                                 : existing->up.any()->file));
      }
    }
  }

  const std::vector<std::string>& problems() const { return problems_; }
  std::map<MigrationVersion, Migration> take() { return std::move(found_); }

 private:
  void add_up(ParsedName name, SqlScript script) {
    auto it = found_.find(name.version);
    if (it == found_.end()) {
      it = found_
               .emplace(name.version,
                        Migration{.version = name.version, .description = name.description})
               .first;
    }
    place(it->second, it->second.up, std::move(name), std::move(script));
  }

  void place(Migration& migration, ScriptSet& set, ParsedName name, SqlScript script) {
    if (name.description != migration.description) {
      problem(script.file, fmt::format("description '{}' differs from '{}' in {}", name.description,
                                       migration.description, migration.up.any()->file));
      return;
    }
    auto& slot = slot_of(set, name.dialect);
    if (slot) {
      problem(script.file,
              fmt::format("version {} is already defined by {}", name.version.text(), slot->file));
      return;
    }
    slot = std::move(script);
  }

  void problem(const std::string& file, std::string_view what) {
    problems_.push_back(fmt::format("{}: {}", file, what));
  }

  std::map<MigrationVersion, Migration> found_;
  std::vector<std::pair<ParsedName, SqlScript>> undos_;
  std::vector<std::string> problems_;
};

}  // namespace

void load_folder(const std::filesystem::path& folder, Catalog& catalog) {
  FolderLoader loader;
  for (const auto& path : sql_files(folder)) loader.add(path);
  loader.attach_undos();
  loader.check_against(catalog);
  if (!loader.problems().empty()) {
    throw ConfigError(fmt::format("migration folder '{}': {} bad file(s):\n  {}", folder.string(),
                                  loader.problems().size(), fmt::join(loader.problems(), "\n  ")));
  }
  catalog.migrations.merge(loader.take());
}

}  // namespace nexdb::detail
