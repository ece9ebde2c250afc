// nexdb.toml -> DatabaseSettings. Unknown keys and wrong types are errors naming file:line.
#include <fmt/format.h>

#include <toml++/toml.h>

#include "nexdb/database.hpp"
#include "nexdb/error.hpp"

namespace nexdb {
namespace {

[[noreturn]] void fail(const std::string& path, const toml::source_region& where, std::string_view what) {
  throw ConfigError(fmt::format("{}:{}: {}", path, where.begin.line, what));
}

std::chrono::milliseconds read_ms(const std::string& path, const toml::node& node, std::string_view key) {
  auto v = node.value<std::int64_t>();
  if (!v || *v < 0 || !node.is_integer()) fail(path, node.source(), fmt::format("'{}' must be a non-negative integer (milliseconds)", key));
  return std::chrono::milliseconds(*v);
}

std::size_t read_count(const std::string& path, const toml::node& node, std::string_view key) {
  auto v = node.value<std::int64_t>();
  if (!v || *v < 0 || !node.is_integer()) fail(path, node.source(), fmt::format("'{}' must be a non-negative integer", key));
  return static_cast<std::size_t>(*v);
}

void read_database(const std::string& path, const toml::table& table, DatabaseSettings& out) {
  for (const auto& [key, node] : table) {
    if (key == "uri") {
      if (!node.is_string()) fail(path, node.source(), "'database.uri' must be a string");
      out.connection.uri = *node.value<std::string>();
      (void)dialect_of(out.connection.uri);  // unknown scheme -> ConfigError now
    } else if (key == "connect_timeout_ms") {
      out.connection.connect_timeout = read_ms(path, node, key);
    } else if (key == "statement_timeout_ms") {
      out.connection.statement_timeout = read_ms(path, node, key);
    } else if (key == "busy_timeout_ms") {
      out.connection.busy_timeout = read_ms(path, node, key);
    } else {
      fail(path, node.source(), fmt::format("unknown key 'database.{}' (known: uri, connect_timeout_ms, "
                                            "statement_timeout_ms, busy_timeout_ms)", key.str()));
    }
  }
}

void read_pool(const std::string& path, const toml::table& table, PoolSettings& out) {
  for (const auto& [key, node] : table) {
    if (key == "min_idle") out.min_idle = read_count(path, node, key);
    else if (key == "max_size") out.max_size = read_count(path, node, key);
    else if (key == "acquire_timeout_ms") out.acquire_timeout = read_ms(path, node, key);
    else if (key == "idle_timeout_ms") out.idle_timeout = read_ms(path, node, key);
    else if (key == "max_lifetime_ms") out.max_lifetime = read_ms(path, node, key);
    else if (key == "validation_threshold_ms") out.validation_threshold = read_ms(path, node, key);
    else if (key == "leak_detection_threshold_ms") out.leak_detection_threshold = read_ms(path, node, key);
    else fail(path, node.source(), fmt::format("unknown key 'pool.{}'", key.str()));
  }
}

}  // namespace

DatabaseSettings load_database_settings(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) throw ConfigError(fmt::format("{}: cannot read: {}", path, e.description()));
    throw ConfigError(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  DatabaseSettings settings{.connection = {.uri = std::string(default_database_uri)}};
  for (const auto& [key, node] : root) {
    const auto* table = node.as_table();
    if (key == "database" && table) read_database(path, *table, settings);
    else if (key == "pool" && table) read_pool(path, *table, settings.pool);
    else fail(path, node.source(), fmt::format("unknown top-level key '{}' (known tables: [database], [pool])", key.str()));
  }
  return settings;
}

}  // namespace nexdb
