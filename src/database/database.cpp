#include "nexdb/database.hpp"

#include "database/settings_of.hpp"
#include "nexdb/config.hpp"
#include "nexdb/error.hpp"

namespace nexdb {

struct Database::Impl {
  explicit Impl(DatabaseSettings s)
      : dialect(dialect_of(s.connection.uri)),
        observers(std::make_shared<StatementObserverHub>()),
        configured_observer(s.connection.observer != nullptr
                                ? StatementObserverHub::attach(observers, s.connection.observer)
                                : StatementObserverHub::Attachment{}),
        pool(with_hub(s.connection, observers), std::move(s.pool)) {}
  // Connections report to the hub, so observers can be attached after open().
  static ConnectOptions with_hub(ConnectOptions options, std::shared_ptr<StatementObserverHub> hub) {
    options.observer = std::move(hub);
    return options;
  }
  Dialect dialect;
  std::shared_ptr<StatementObserverHub> observers;
  StatementObserverHub::Attachment configured_observer;
  ConnectionPool pool;
};

Database Database::open(std::string_view uri_or_config) {
  if (uri_or_config.empty()) {
    return open(DatabaseSettings{.connection = {.uri = std::string(default_database_uri)}});
  }
  if (uri_or_config.ends_with(".toml")) return open(Config::load(std::string(uri_or_config)));
  return open(DatabaseSettings{.connection = {.uri = std::string(uri_or_config)}});
}

Database Database::open(DatabaseSettings settings) {
  if (settings.pool.name == "default") settings.pool.name = std::string(to_string(dialect_of(settings.connection.uri)));
  // An in-memory SQLite database exists once per connection: a pool of several would be
  // several unrelated databases. One connection keeps it one database.
  if (settings.connection.uri == "sqlite::memory:") {
    settings.pool.max_size = 1;
    settings.pool.min_idle = std::min<std::size_t>(settings.pool.min_idle, 1);
    settings.pool.idle_timeout = std::chrono::milliseconds{0};
    settings.pool.max_lifetime = std::chrono::milliseconds{0};
  }
  return Database(std::make_shared<Impl>(std::move(settings)));
}

Database Database::open(const Config& config, std::string_view cluster) {
  return open(detail::settings_of(cluster.empty() ? config.default_cluster() : config.cluster(cluster)));
}

Dialect Database::dialect() const noexcept { return impl_->dialect; }
const std::string& Database::description() const noexcept { return impl_->pool.description(); }
Lease Database::connection(std::source_location where) { return impl_->pool.acquire(where); }
ConnectionPool& Database::pool() noexcept { return impl_->pool; }

StatementObserverHub::Attachment Database::attach_observer(std::shared_ptr<StatementObserver> observer) {
  return StatementObserverHub::attach(impl_->observers, std::move(observer));
}
void Database::close(std::chrono::milliseconds grace) { impl_->pool.close(grace); }

Rows Database::execute(const Statement& statement) {
  Lease lease = impl_->pool.acquire();
  return lease->execute(statement);
}

}  // namespace nexdb
