#include "backup_support.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <random>

#include "nexdb/identifier.hpp"
#include "nexdb/migrate.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {

std::string unique_pg_database_name() {
  static std::atomic<int> counter{0};
  return fmt::format("t_backup_{}_{}_{}", ::getpid(), counter++, std::random_device{}() % 100000);
}

void drop_pg_database(const std::string& name) {
  try {
    auto admin = connect(pg_primary_uri());
    admin->execute_script(
        fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(name)));
  } catch (...) {
    // The server may be gone at the end of a failing run; its data is throwaway.
  }
}

PgDatabase::PgDatabase() : name_(unique_pg_database_name()) {
  auto admin = connect(pg_primary_uri());
  // FILE_COPY: a checkpoint instead of the template's ~8 MB of WAL, which the shared replicas
  // would have to replay while other tests read from them.
  admin->execute_script(fmt::format("CREATE DATABASE {} STRATEGY FILE_COPY", quote_identifier(name_)));
  uri_ = fmt::format("postgresql://nexdb@127.0.0.1:{}/{}", pg_base_port(), name_);
}

PgDatabase::~PgDatabase() { drop_pg_database(name_); }

void seed(Database& db, int users, int orders) {
  const bool pg = db.dialect() == Dialect::postgres;
  MigrationManager migrations(db);
  migrations.version("1.0.0", "users and orders", [pg](Transaction& tx) {
    tx.connection().execute_script(
        pg ? "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE);"
             "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES "
             "users(id), "
             "status TEXT NOT NULL, total NUMERIC(12,2) NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
           : "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);"
             "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES "
             "users(id), "
             "status TEXT NOT NULL, total NUMERIC NOT NULL, created_at TIMESTAMP NOT NULL)");
  });
  migrations.migrate();
  db.transaction([&](Transaction& tx) {
    for (int i = 1; i <= users; ++i) {
      tx.execute(pg ? "INSERT INTO users (id, email) VALUES ($1, $2)"
                    : "INSERT INTO users (id, email) VALUES (?, ?)",
                 i, fmt::format("user{}@example.com", i));
    }
    const auto base = std::chrono::sys_days(std::chrono::year(2024) / 1 / 1);
    for (int i = 1; i <= orders; ++i) {
      const Timestamp at = std::chrono::time_point_cast<std::chrono::microseconds>(
          base + std::chrono::hours(24 * 365 * 2 * i / orders));
      tx.execute(
          pg ? "INSERT INTO orders (id, user_id, status, total, created_at) VALUES ($1, $2, $3, "
               "$4, $5)"
             : "INSERT INTO orders (id, user_id, status, total, created_at) VALUES (?, ?, ?, ?, ?)",
          i, 1 + i % users, i % 3 == 0 ? "shipped" : "new", fmt::format("{}.{:02d}", i, i % 100),
          at);
    }
  });
}

std::map<std::string, std::string> fingerprint(Database& db) {
  std::map<std::string, std::string> out;
  for (const char* table : {"users", "orders"}) {
    const Rows rows = db.execute(fmt::format("SELECT * FROM {} ORDER BY id", table));
    std::string all;
    for (Row row : rows) {
      for (std::size_t c = 0; c < row.size(); ++c) all += row[c].to_display_string() + "|";
      all += "\n";
    }
    out[table] = fmt::format("rows:{} text:{}", rows.size(), std::hash<std::string>{}(all));
  }
  return out;
}

BackupSettings test_settings(const std::string& dir) {
  BackupSettings s;
  s.repository = dir + "/repo";
  s.scratch_ports = {.first = 21450, .count = 50};
  s.scratch_dir = "/tmp";
  return s;
}

}  // namespace nexdb::test
