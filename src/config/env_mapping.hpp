// NEXDB_* variables: their names -> key paths, their text -> TOML values of the key's type.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/context.hpp"
#include "config/schema.hpp"

namespace nexdb::config_detail {

inline constexpr std::string_view env_prefix = "NEXDB_";

/// Upper case with '.' and '-' as '_': how a key or a name is spelled in a variable name.
std::string env_form(std::string_view text);

/// Where one variable goes: a key path below the root, and the type its text is read as.
struct EnvTarget {
  std::vector<std::string> segments{};
  Kind kind = Kind::string;
  std::string path() const {
    std::string out;
    for (const auto& s : segments) out = join_key(out, s);
    return out;
  }
};

/// Where `variable` goes, resolving cluster and label names against the file. nullopt for
/// NEXDB_ variables outside the configuration sections; ConfigError for an unknown or
/// ambiguous one under a section prefix.
std::optional<EnvTarget> env_target(const std::string& variable, const toml::table& file);

/// table[key] = the variable's text read as `kind`; a malformed value fails at `path`.
void insert_env_value(toml::table& table, const std::string& key, Kind kind, const Context& ctx,
                      const std::string& path, std::string_view text);

}  // namespace nexdb::config_detail
