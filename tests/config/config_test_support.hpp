// Helpers for the configuration tests: files in a TempDir, scoped environment variables and
// working directory, and assertions on ConfigError text.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>

#include "nexdb/config.hpp"
#include "nexdb/error.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {

inline std::string write_file(const TempDir& dir, const std::string& name,
                              const std::string& text) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

/// Sets (or, with nullopt, unsets) a variable for the scope; restores the old value after.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

/// Changes the working directory for the scope (load_default() looks for ./nexdb.toml).
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::string& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~ScopedCwd() { std::filesystem::current_path(old_); }
  ScopedCwd(const ScopedCwd&) = delete;
  ScopedCwd& operator=(const ScopedCwd&) = delete;

 private:
  std::filesystem::path old_;
};

/// The message of the ConfigError `load` throws; a test failure when it throws nothing.
template <class Load>
std::string config_error(Load&& load) {
  try {
    (void)load();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

/// The error for `toml` parsed as a file named x.toml.
inline std::string parse_error(const std::string& toml) {
  return config_error([&] { return Config::parse(toml, "x.toml"); });
}

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "expected to find: " << (part) << "\n                    in: " << (text)

#define EXPECT_NOT_CONTAINS(text, part)                      \
  EXPECT_EQ(std::string(text).find(part), std::string::npos) \
      << "unexpected: " << (part) << " in: " << (text)

}  // namespace nexdb::test
