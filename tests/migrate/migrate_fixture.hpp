// Migration tests run against a real SQLite file and a real PostgreSQL schema (one executable
// per backend instantiates MigrateTest for its dialect: backend_sqlite.cpp / backend_postgres.cpp).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/database.hpp"
#include "nexdb/migrate.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {

class MigrateTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    if (postgres()) {
      schema_.emplace();
      uri_ = schema_->uri();
    } else {
      uri_ = "sqlite:" + dir_.path() + "/app.db";
    }
    std::filesystem::create_directories(folder());
    db.emplace(Database::open(uri_));
  }
  // Connections close before the schema or the directory goes away.
  void TearDown() override { db.reset(); }

  bool postgres() const { return GetParam() == Dialect::postgres; }
  const std::string& uri() const { return uri_; }
  std::filesystem::path folder() const { return std::filesystem::path(dir_.path()) / "migrations"; }
  std::string scratch_path(const std::string& name) const { return dir_.path() + "/" + name; }
  /// The URI of another empty database of the same backend, removed with the fixture.
  std::string another_database() {
    if (!postgres())
      return "sqlite:" + scratch_path("extra" + std::to_string(++extra_files_) + ".db");
    return extra_schemas_.emplace_back(std::make_unique<PgSchema>())->uri();
  }

  /// Writes (or overwrites) a migration file in folder().
  void write(const std::string& name, const std::string& sql) const {
    std::ofstream(folder() / name, std::ios::binary) << sql;
  }
  void remove(const std::string& name) const { std::filesystem::remove(folder() / name); }

  /// A manager over `db` with folder() loaded.
  MigrationManager manager(MigrationSettings settings = {}) {
    MigrationManager m(*db, std::move(settings));
    m.load(folder());
    return m;
  }

  std::int64_t count(const std::string& sql) { return db->execute(sql).scalar<std::int64_t>(); }
  std::int64_t rows_of(const std::string& table) { return count("SELECT count(*) FROM " + table); }
  bool table_exists(const std::string& table) {
    if (postgres()) {
      return db->execute(
                   "SELECT count(*) FROM information_schema.tables "
                   "WHERE table_schema = current_schema() AND table_name = $1",
                   table)
                 .scalar<std::int64_t>() > 0;
    }
    return db->execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                       table)
               .scalar<std::int64_t>() > 0;
  }
  std::int64_t history_rows(bool success) {
    return count(std::string("SELECT count(*) FROM nexdb_schema_history WHERE success = ") +
                 (success ? (postgres() ? "true" : "1") : (postgres() ? "false" : "0")));
  }
  const MigrationInfo& info(const SchemaStatus& status, const std::string& version) {
    for (const MigrationInfo& m : status.migrations) {
      if (m.version == version) return m;
    }
    throw std::runtime_error("no migration " + version + " in status");
  }

  std::optional<Database> db;

 private:
  TempDir dir_;
  std::optional<PgSchema> schema_;
  std::vector<std::unique_ptr<PgSchema>> extra_schemas_;
  int extra_files_ = 0;
  std::string uri_;
};

inline std::string backend_name(const ::testing::TestParamInfo<Dialect>& info) {
  return std::string(to_string(info.param));
}

}  // namespace nexdb::test
