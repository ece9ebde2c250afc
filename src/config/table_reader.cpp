#include <fmt/format.h>

#include <algorithm>

#include "config/context.hpp"

namespace nexdb::config_detail {

TableReader::TableReader(Context& ctx, const toml::table& table, std::string path)
    : ctx_(ctx), table_(table), path_(std::move(path)) {}

void TableReader::allow_only(std::span<const std::string_view> known) const {
  // Report the unknown key that comes first in the file, not first in key order.
  const toml::node* worst = nullptr;
  std::string_view worst_key;
  for (const auto& [key, node] : table_) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    if (worst == nullptr || node.source().begin.line < worst->source().begin.line) {
      worst = &node;
      worst_key = key.str();
    }
  }
  if (worst == nullptr) return;
  ctx_.note(key_path(worst_key), *worst);
  fail(worst_key, fmt::format("unknown key (known: {})", fmt::join(known, ", ")));
}

const toml::node* TableReader::get(std::string_view key) const {
  const toml::node* node = table_.get(key);
  if (node != nullptr) ctx_.note(key_path(key), *node);
  return node;
}

void TableReader::wrong_type(std::string_view key, const toml::node& node,
                             std::string_view expected) const {
  fail(key, fmt::format("expected {}, got {}", expected, type_name(node)));
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min) const {
  const toml::node* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (!node->is_integer()) wrong_type(key, *node, "an integer");
  const std::int64_t value = node->as_integer()->get();
  if (value < min) {
    fail(key, min == 0 ? fmt::format("must not be negative, got {}", value)
                       : fmt::format("must be at least {}, got {}", min, value));
  }
  return value;
}

std::optional<std::chrono::milliseconds> TableReader::millis(std::string_view key,
                                                             std::int64_t min) const {
  const toml::node* node = get(key);
  if (node != nullptr && !node->is_integer()) {
    wrong_type(key, *node, "an integer (milliseconds)");
  }
  auto value = integer(key, min);
  if (!value) return std::nullopt;
  return std::chrono::milliseconds(*value);
}

std::optional<double> TableReader::number(std::string_view key) const {
  const toml::node* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (node->is_integer()) return static_cast<double>(node->as_integer()->get());
  if (!node->is_floating_point()) wrong_type(key, *node, "a number");
  return node->as_floating_point()->get();
}

std::optional<bool> TableReader::boolean(std::string_view key) const {
  const toml::node* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (!node->is_boolean()) wrong_type(key, *node, "a boolean (true or false)");
  return node->as_boolean()->get();
}

std::optional<std::string> TableReader::string(std::string_view key) const {
  const toml::node* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) wrong_type(key, *node, "a string");
  return node->as_string()->get();
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key) const {
  const toml::node* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (!node->is_array()) wrong_type(key, *node, "an array of strings");
  std::vector<std::string> out;
  for (const toml::node& item : *node->as_array()) {
    if (!item.is_string()) {
      fail(key, fmt::format("item {}: expected a string, got {}", out.size(), type_name(item)));
    }
    out.push_back(item.as_string()->get());
  }
  return out;
}

std::optional<std::vector<std::int64_t>> TableReader::integers(std::string_view key) const {
  const toml::node* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (!node->is_array()) wrong_type(key, *node, "an array of integers");
  std::vector<std::int64_t> out;
  for (const toml::node& item : *node->as_array()) {
    if (!item.is_integer()) {
      fail(key, fmt::format("item {}: expected an integer, got {}", out.size(), type_name(item)));
    }
    out.push_back(item.as_integer()->get());
  }
  return out;
}

const toml::table* TableReader::subtable(std::string_view key) const {
  const toml::node* node = get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) wrong_type(key, *node, "a table");
  return node->as_table();
}

}  // namespace nexdb::config_detail
