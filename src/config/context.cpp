#include "config/context.hpp"

#include <fmt/format.h>

#include "nexdb/error.hpp"

namespace nexdb::config_detail {

std::string join_key(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

void Context::mark_env(const std::string& path, const std::string& variable) {
  env_.insert_or_assign(path, variable);
}

void Context::note(const std::string& path, const toml::node& node) {
  if (auto it = env_.find(path); it != env_.end()) {
    origins_.insert_or_assign(path, Origin{.variable = it->second});
  } else {
    origins_.insert_or_assign(path, Origin{.line = node.source().begin.line});
  }
}

std::optional<Context::Origin> Context::find(std::string_view path) const {
  // Walk up "a.b.c" -> "a.b" -> "a": an error about a missing key names its table.
  while (true) {
    if (auto it = origins_.find(path); it != origins_.end()) return it->second;
    if (auto it = env_.find(path); it != env_.end()) return Origin{.variable = it->second};
    const auto dot = path.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    path = path.substr(0, dot);
  }
}

std::string Context::where(std::string_view path) const {
  const auto origin = find(path);
  if (!origin || (origin->variable.empty() && origin->line == 0)) return file_;
  if (!origin->variable.empty()) return "environment variable " + origin->variable;
  return fmt::format("{}:{}", file_, origin->line);
}

void Context::fail(std::string_view path, std::string_view what) const {
  throw ConfigError(fmt::format("{}: {}: {}", where(path), path, what));
}

std::map<std::string, std::string, std::less<>> Context::origins() const {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [path, origin] : origins_) {
    out.emplace(path, origin.variable.empty() ? fmt::format("{}:{}", file_, origin.line)
                                              : "env " + origin.variable);
  }
  return out;
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

}  // namespace nexdb::config_detail
