#include "config/environment.hpp"

#include <unistd.h>

#include <algorithm>

#include "config/env_mapping.hpp"

extern char** environ;  // NOLINT: POSIX

namespace nexdb::config_detail {
namespace {

// Walks to the target's table, creating tables the file lacks (and attributing them to the
// variable). A non-table in the way is left for the reader to report against the file.
toml::table* parent_table(toml::table& root, Context& ctx, const EnvTarget& target,
                          const std::string& variable) {
  toml::table* table = &root;
  std::string path;
  for (std::size_t i = 0; i + 1 < target.segments.size(); ++i) {
    path = join_key(path, target.segments[i]);
    toml::node* node = table->get(target.segments[i]);
    if (node == nullptr) {
      node = &table->insert_or_assign(target.segments[i], toml::table{}).first->second;
      ctx.mark_env(path, variable);
    }
    if (!node->is_table()) return nullptr;
    table = node->as_table();
  }
  return table;
}

}  // namespace

Environment process_environment() {
  Environment out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    if (!env_form(text.substr(0, equals)).starts_with(env_prefix)) continue;
    out.emplace_back(text.substr(0, equals), text.substr(equals + 1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> apply_environment(toml::table& root, Context& ctx,
                                           const Environment& env) {
  // Cluster and label names resolve against the file alone, so the order of variables
  // cannot change the outcome.
  const toml::table file = root;
  std::vector<std::string> applied;
  for (const auto& [variable, value] : env) {
    if (!env_form(variable).starts_with(env_prefix)) continue;
    const auto target = env_target(variable, file);
    if (!target) continue;
    const std::string path = target->path();
    ctx.mark_env(path, variable);
    toml::table* table = parent_table(root, ctx, *target, variable);
    if (table == nullptr) continue;
    insert_env_value(*table, target->segments.back(), target->kind, ctx, path, value);
    applied.push_back(variable);
  }
  return applied;
}

}  // namespace nexdb::config_detail
