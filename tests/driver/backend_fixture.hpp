// Runs the same test against a real SQLite file and a real PostgreSQL schema.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "nexdb/connection.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {

class BackendTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    if (GetParam() == Dialect::postgres) {
      schema_.emplace();
      uri_ = schema_->uri();
    } else {
      dir_.emplace();
      uri_ = "sqlite:" + dir_->path() + "/test.db";
    }
    conn = open();
  }
  std::unique_ptr<Connection> open(ConnectOptions options = {}) {
    options.uri = uri_;
    return connect(options);
  }
  bool postgres() const { return GetParam() == Dialect::postgres; }
  /// The placeholder for parameter n in this dialect.
  std::string p(int n) const { return postgres() ? "$" + std::to_string(n) : "?"; }

  std::unique_ptr<Connection> conn;
  std::string uri_;

 private:
  std::optional<PgSchema> schema_;
  std::optional<TempDir> dir_;
};

inline std::string backend_name(const ::testing::TestParamInfo<Dialect>& info) {
  return std::string(to_string(info.param));
}

}  // namespace nexdb::test
