// Database: the one entry point. A pooled database behind a URI or a nexdb.toml file.
#pragma once

#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>

#include "nexdb/connection.hpp"
#include "nexdb/pool.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb {

struct Config;

/// Where the embedded default lives when Database::open() gets no argument.
inline constexpr std::string_view default_database_uri = "sqlite:nexdb-data/nexdb.db";

struct DatabaseSettings {
  ConnectOptions connection{};
  PoolSettings pool{};
};

class Database : public StatementShortcuts<Database> {
 public:
  using StatementShortcuts<Database>::execute;
  /// Opens a database:
  ///   ""                      the embedded SQLite default (./nexdb-data/nexdb.db)
  ///   "sqlite:app.db", "sqlite::memory:", "postgresql://user@host/db", "host=... dbname=..."
  ///   "path/to/nexdb.toml"    a configuration file (Config::load, so NEXDB_* variables apply):
  ///                           the primary of its cluster `default`, else of its first cluster
  /// Throws ConfigError for an unknown scheme or a bad file. Connections open lazily, so a dead
  /// host surfaces as ConnectionError from the first statement, not from open().
  static Database open(std::string_view uri_or_config = {});
  static Database open(DatabaseSettings settings);
  /// The primary of `cluster` (empty: Config::default_cluster()) with that cluster's pool and
  /// connection settings. Throws ConfigError when there is no such cluster.
  static Database open(const Config& config, std::string_view cluster = {});

  Dialect dialect() const noexcept;
  /// Where the database is, without credentials.
  const std::string& description() const noexcept;

  /// A pooled connection for several statements in a row.
  Lease connection(std::source_location where = std::source_location::current());

  /// One statement on a pooled connection (autocommit).
  Rows execute(const Statement& statement);

  /// Runs `work(Transaction&)` in a transaction on a pooled connection and commits when it
  /// returns; an exception rolls back and propagates. Returns what `work` returns.
  template <class Work>
  auto transaction(Work&& work, TransactionOptions options = {}) {
    return run_in<Transaction>(std::forward<Work>(work), options);
  }
  /// Like transaction(), read-only: the server refuses writes.
  template <class Work>
  auto read_transaction(Work&& work, TransactionOptions options = {}) {
    return run_in<ReadOnlyTransaction>(std::forward<Work>(work), options);
  }

  ConnectionPool& pool() noexcept;
  /// Reports every statement of this database's connections to `observer` until the handle is
  /// destroyed (how DBMonitor watches a database that is already open). An observer given in
  /// DatabaseSettings::connection stays attached too.
  [[nodiscard]] StatementObserverHub::Attachment attach_observer(std::shared_ptr<StatementObserver> observer);
  /// Waits for leases to return (up to `grace`) and closes every connection.
  void close(std::chrono::milliseconds grace = std::chrono::milliseconds{30000});

 private:
  template <class Tx, class Work>
  auto run_in(Work&& work, TransactionOptions options) {
    Lease lease = connection();
    Tx tx(*lease, options);
    return detail::run_and_commit(tx, std::forward<Work>(work));
  }

  struct Impl;
  explicit Database(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

/// The settings Database::open(path) uses: Config::load(path), its default cluster's primary.
/// Errors name the file, line and key.
DatabaseSettings load_database_settings(const std::string& path);

}  // namespace nexdb
