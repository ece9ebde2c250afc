// NEXDB_* variable text -> TOML values, by the type of the key they set.
#include <fmt/format.h>

#include <charconv>

#include "config/env_mapping.hpp"
#include "nexdb/error.hpp"

namespace nexdb::config_detail {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// A libpq multi-host URI contains commas (postgresql://a:1,b:2/db), so a comma separates two
// URIs only where the next one starts with a scheme.
toml::array split_uris(std::string_view text) {
  toml::array out;
  std::size_t start = 0;
  for (std::size_t comma = text.find(','); comma != std::string_view::npos;
       comma = text.find(',', comma + 1)) {
    const std::string_view next = trim(text.substr(comma + 1));
    if (next.starts_with("postgresql://") || next.starts_with("postgres://") ||
        next.starts_with("sqlite:")) {
      out.push_back(std::string(trim(text.substr(start, comma - start))));
      start = comma + 1;
    }
  }
  if (!trim(text).empty()) out.push_back(std::string(trim(text.substr(start))));
  return out;
}

// Other lists (shards.key_ranges) split at every comma.
toml::array split_commas(std::string_view text) {
  toml::array out;
  if (trim(text).empty()) return out;
  std::size_t start = 0;
  for (std::size_t comma = text.find(','); comma != std::string_view::npos;
       comma = text.find(',', start)) {
    out.push_back(std::string(trim(text.substr(start, comma - start))));
    start = comma + 1;
  }
  out.push_back(std::string(trim(text.substr(start))));
  return out;
}

struct Converter {
  const Context& ctx;
  std::string path;
  std::string_view text;

  [[noreturn]] void fail(std::string_view expected) const {
    ctx.fail(path, fmt::format("expected {}, got '{}'", expected, redact_password(text)));
  }
  std::int64_t integer(std::string_view item) const {
    std::int64_t value = 0;
    item = trim(item);
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size()) fail("an integer");
    return value;
  }
  toml::array array() const {
    try {
      toml::table parsed = toml::parse("v = " + std::string(text));
      if (auto* array = parsed.get_as<toml::array>("v")) return std::move(*array);
    } catch (const toml::parse_error&) {
    }
    fail("a TOML array such as [\"a\", \"b\"]");
  }
  void insert(toml::table& table, const std::string& key, Kind kind) const {
    switch (kind) {
      case Kind::integer:
        table.insert_or_assign(key, integer(text));
        return;
      case Kind::boolean:
        table.insert_or_assign(key, boolean());
        return;
      case Kind::number:
        table.insert_or_assign(key, number());
        return;
      case Kind::strings:
        table.insert_or_assign(key, text.starts_with('[') ? array()
                                    : key == "replicas"   ? split_uris(text)
                                                          : split_commas(text));
        return;
      case Kind::integers:
        table.insert_or_assign(key, text.starts_with('[') ? array() : integers());
        return;
      case Kind::string:
      case Kind::table:
        table.insert_or_assign(key, std::string(text));
        return;
    }
  }
  bool boolean() const {
    const std::string value = env_form(trim(text));
    if (value == "TRUE" || value == "1") return true;
    if (value == "FALSE" || value == "0") return false;
    fail("true or false");
  }
  double number() const {
    double value = 0;
    const std::string_view item = trim(text);
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size()) fail("a number");
    return value;
  }
  toml::array integers() const {
    toml::array out;
    if (trim(text).empty()) return out;
    for (std::size_t start = 0;;) {
      const auto comma = text.find(',', start);
      out.push_back(integer(text.substr(start, comma - start)));
      if (comma == std::string_view::npos) return out;
      start = comma + 1;
    }
  }
};

}  // namespace

void insert_env_value(toml::table& table, const std::string& key, Kind kind, const Context& ctx,
                      const std::string& path, std::string_view text) {
  Converter{ctx, path, text}.insert(table, key, kind);
}

}  // namespace nexdb::config_detail
