// ConfigReport as text (TOML-like lines) and JSON, written by hand: the library does not
// depend on a JSON library for one flat document.
#include <fmt/format.h>

#include <algorithm>

#include "nexdb/config.hpp"

namespace nexdb {
namespace {

// TOML basic strings and JSON strings share these escapes.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

template <class T, class Format>
std::string list(const std::vector<T>& items, Format format) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + format(items[i]);
  return out + "]";
}

// Both TOML and JSON accept this rendering for every kind of value.
std::string render(const ConfigEntry::Value& value) {
  struct Visitor {
    std::string operator()(const std::string& v) const { return quoted(v); }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::vector<std::string>& v) const { return list(v, quoted); }
    std::string operator()(const std::vector<std::int64_t>& v) const {
      return list(v, [](std::int64_t i) { return std::to_string(i); });
    }
  };
  return std::visit(Visitor{}, value);
}

/// Entries regrouped by their dotted keys, in first-seen order, for nested JSON.
struct Tree {
  std::string name{};
  const ConfigEntry* leaf = nullptr;
  std::vector<Tree> children{};

  Tree& child(std::string_view segment) {
    for (auto& c : children) {
      if (c.name == segment) return c;
    }
    return children.emplace_back(Tree{.name = std::string(segment)});
  }
  void insert(const ConfigEntry& entry) {
    Tree* node = this;
    std::string_view key = entry.key;
    for (auto dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.')) {
      node = &node->child(key.substr(0, dot));
      key.remove_prefix(dot + 1);
    }
    node->child(key).leaf = &entry;
  }
  std::string json() const {
    if (leaf != nullptr) return render(leaf->value);
    std::string out = "{";
    for (std::size_t i = 0; i < children.size(); ++i) {
      out += fmt::format("{}{}: {}", i ? ", " : "", quoted(children[i].name), children[i].json());
    }
    return out + "}";
  }
};

}  // namespace

std::string ConfigEntry::value_text() const { return render(value); }

std::string ConfigReport::to_text() const {
  std::string out = fmt::format("# nexdb configuration: {}\n",
                                source.empty() ? "built-in defaults (no file)" : source);
  if (!environment.empty()) {
    out += fmt::format("# overridden by: {}\n", fmt::join(environment, ", "));
  }
  for (const auto& warning : warnings) out += fmt::format("# warning: {}\n", warning);
  std::size_t width = 0;
  for (const auto& entry : entries) {
    width = std::max(width, entry.key.size() + 3 + entry.value_text().size());
  }
  width = std::min<std::size_t>(width, 72);
  for (const auto& entry : entries) {
    const std::string line = entry.key + " = " + entry.value_text();
    out += fmt::format("{:<{}}  # {}\n", line, width, entry.origin);
  }
  return out;
}

std::string ConfigReport::to_json() const {
  Tree tree;
  std::string origins = "{";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    tree.insert(entries[i]);
    origins +=
        fmt::format("{}{}: {}", i ? ", " : "", quoted(entries[i].key), quoted(entries[i].origin));
  }
  return fmt::format(
      R"({{"source": {}, "environment": {}, "warnings": {}, "config": {}, "origins": {}}})",
      source.empty() ? "null" : quoted(source), list(environment, quoted), list(warnings, quoted),
      tree.json(), origins + "}");
}

}  // namespace nexdb
