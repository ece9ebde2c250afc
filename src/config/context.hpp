// Reading a TOML tree into Config: where each key came from, and typed, checked access.
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nexdb::config_detail {

/// "a.b" + "c" -> "a.b.c"
std::string join_key(std::string_view parent, std::string_view key);

/// Remembers where every key path came from (a line of the file or an environment variable)
/// so that any error, even one found after reading, names it.
class Context {
 public:
  explicit Context(std::string file) : file_(std::move(file)) {}

  const std::string& file() const noexcept { return file_; }
  /// The environment overlay set `path` from `variable`.
  void mark_env(const std::string& path, const std::string& variable);
  const std::map<std::string, std::string, std::less<>>& env_paths() const { return env_; }
  /// Records that `path` was read from `node`.
  void note(const std::string& path, const toml::node& node);

  /// True when `path` was read from the file or the environment (not defaulted).
  bool has(std::string_view path) const { return origins_.find(path) != origins_.end(); }

  /// "nexdb.toml:12", "environment variable NEXDB_X", or the file name when unknown; for a
  /// path never read, its nearest recorded ancestor.
  std::string where(std::string_view path) const;
  /// Throws ConfigError "<where>: <path>: <what>".
  [[noreturn]] void fail(std::string_view path, std::string_view what) const;

  /// Key path -> origin text for Config::origins ("nexdb.toml:12", "env NEXDB_X").
  std::map<std::string, std::string, std::less<>> origins() const;

 private:
  struct Origin {
    std::uint32_t line = 0;
    std::string variable{};
  };
  std::optional<Origin> find(std::string_view path) const;

  std::string file_;
  std::map<std::string, std::string, std::less<>> env_;
  std::map<std::string, Origin, std::less<>> origins_;
};

/// One TOML table at a key path, with typed getters that fail with the path and origin.
class TableReader {
 public:
  TableReader(Context& ctx, const toml::table& table, std::string path);

  const std::string& path() const noexcept { return path_; }
  const toml::table& table() const noexcept { return table_; }
  std::string key_path(std::string_view key) const { return join_key(path_, key); }

  /// Fails on the first key not in `known`, listing the known ones.
  void allow_only(std::span<const std::string_view> known) const;
  /// The node under `key` (noting its origin), or nullptr.
  const toml::node* get(std::string_view key) const;

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min = 0) const;
  std::optional<std::chrono::milliseconds> millis(std::string_view key, std::int64_t min = 0) const;
  std::optional<double> number(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::vector<std::string>> strings(std::string_view key) const;
  std::optional<std::vector<std::int64_t>> integers(std::string_view key) const;
  /// A sub-table, or nullptr when absent; fails when `key` holds something else.
  const toml::table* subtable(std::string_view key) const;

  [[noreturn]] void fail(std::string_view key, std::string_view what) const {
    ctx_.fail(key_path(key), what);
  }
  [[noreturn]] void wrong_type(std::string_view key, const toml::node& node,
                               std::string_view expected) const;
  Context& context() const noexcept { return ctx_; }

 private:
  Context& ctx_;
  const toml::table& table_;
  std::string path_;
};

/// "an integer", "a string", ... for messages.
std::string_view type_name(const toml::node& node);

}  // namespace nexdb::config_detail
