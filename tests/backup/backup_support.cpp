#include "backup_support.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <stdexcept>

#include "nexdb/identifier.hpp"
#include "nexdb/migrate.hpp"
#include "support/test_env.hpp"

extern char** environ;

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

OtherDatabase::OtherDatabase(Dialect dialect, const std::string& sqlite_file) {
  if (dialect == Dialect::postgres) {
    uri_ = pg_.emplace().uri();
  } else {
    uri_ = "sqlite:" + sqlite_file;
  }
}

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

Process start_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                      bool capture) {
  std::vector<std::string> args = argv;
  std::vector<char*> arg_pointers;
  for (auto& a : args) arg_pointers.push_back(a.data());
  arg_pointers.push_back(nullptr);
  std::vector<std::string> vars = env;
  for (char** e = environ; *e != nullptr; ++e) vars.emplace_back(*e);
  std::vector<char*> env_pointers;
  for (auto& v : vars) env_pointers.push_back(v.data());
  env_pointers.push_back(nullptr);

  int fds[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (capture && ::pipe(fds) == 0) {
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  Process p;
  const int rc = posix_spawn(&p.pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                             env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (fds[1] >= 0) ::close(fds[1]);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  p.out = fds[0];
  return p;
}

ProcessEnd finish_process(Process process) {
  ProcessEnd end;
  if (process.out >= 0) {
    char buffer[512];
    ssize_t n;
    while ((n = ::read(process.out, buffer, sizeof buffer)) > 0)
      end.output.append(buffer, static_cast<std::size_t>(n));
    ::close(process.out);
  }
  int status = 0;
  ::waitpid(process.pid, &status, 0);
  end.killed = WIFSIGNALED(status);
  end.signal = end.killed ? WTERMSIG(status) : 0;
  end.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return end;
}

}  // namespace nexdb::test
