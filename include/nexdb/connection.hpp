// One Connection interface over PostgreSQL (libpq) and SQLite. Backend headers stay private.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "nexdb/observer.hpp"
#include "nexdb/rows.hpp"
#include "nexdb/value.hpp"

namespace nexdb {

/// Anything that renders itself to SQL for a dialect: every query-builder statement.
template <class Q>
concept Renderable = requires(const Q& q, Dialect d) {
  { q.render(d) } -> std::same_as<Statement>;
};

namespace detail {

/// Builder queries that can render into an existing Statement (prepared queries).
template <class Q>
concept RendersInto = requires(Q&& q, Statement& out, Dialect d) {
  std::forward<Q>(q).render_into(out, d);
};

/// The calling thread's Statement, lent out for one execute() so that SQL given as text,
/// prepared queries and builders made per call allocate nothing for their text and values once
/// its buffers have grown (a builder made outside a call starts from them).
/// A nested use on the same thread (an observer running a query) gets a Statement of its own.
/// Values are destroyed when it is returned; only the buffers stay.
class ReusableStatement {
 public:
  ReusableStatement() noexcept;
  ~ReusableStatement();
  ReusableStatement(const ReusableStatement&) = delete;
  ReusableStatement& operator=(const ReusableStatement&) = delete;

  Statement& get() noexcept { return *statement_; }

 private:
  Statement* statement_;
  bool borrowed_;
  Statement own_{};
};

}  // namespace detail

/// The shorthand forms of execute() shared by everything that runs a Statement (Connection,
/// Transaction, Database): raw SQL, SQL with values to bind, and any builder query rendered for
/// the runner's dialect. A runner provides `Rows execute(const Statement&)` and `dialect()`, and
/// brings these in with `using StatementShortcuts<Runner>::execute;`.
template <class Runner>
class StatementShortcuts {
 public:
  Rows execute(std::string_view sql) {
    detail::ReusableStatement statement;
    statement.get().sql.assign(sql);
    return self().execute(statement.get());
  }
  template <class... Args>
  requires(sizeof...(Args) > 0) Rows execute(std::string_view sql, Args&&... args) {
    detail::ReusableStatement statement;
    statement.get().sql.assign(sql);
    statement.get().params.reserve(sizeof...(Args));
    (statement.get().params.emplace_back(std::forward<Args>(args)), ...);
    return self().execute(statement.get());
  }
  /// A prepared query binds into the thread's reusable Statement; a temporary builder hands its
  /// text and values over to it (the buffers it started from, when it was made outside a call).
  /// A kept builder renders a copy into a Statement of its own.
  template <class Q>
  requires Renderable<std::remove_cvref_t<Q>> Rows execute(Q&& query) {
    if constexpr (detail::RendersInto<Q>) {
      detail::ReusableStatement statement;
      std::forward<Q>(query).render_into(statement.get(), self().dialect());
      return self().execute(statement.get());
    } else if constexpr (!std::is_reference_v<Q> && !std::is_const_v<Q>) {  // a temporary
      detail::ReusableStatement statement;
      statement.get() = std::move(query).render(self().dialect());
      return self().execute(statement.get());
    } else {
      // Its copy is sized to fit: not worth keeping for the thread.
      return self().execute(query.render(self().dialect()));
    }
  }

 private:
  Runner& self() { return static_cast<Runner&>(*this); }
};

/// The transaction state of a connection, as the server reports it.
enum class TransactionStatus { idle, in_transaction, failed, unknown };

/// Result column encoding requested from PostgreSQL (SQLite values are always native).
enum class ResultFormat { text, binary };

/// How to open a connection. `uri` is one of:
///   postgresql://user@host:port/db?...  or  postgres://...  or  "host=... dbname=..." (libpq),
///   postgresql:// with no host uses libpq's PG* environment variables,
///   sqlite:path/to/file.db, sqlite::memory:, sqlite:///absolute/path.db
struct ConnectOptions {
  std::string uri{};
  std::chrono::milliseconds connect_timeout{5000};
  /// Server-side statement timeout; 0 = none.
  std::chrono::milliseconds statement_timeout{0};
  /// SQLite: how long to wait for a lock held by another connection.
  std::chrono::milliseconds busy_timeout{5000};
  /// SQLite: journal_mode=WAL for files (readers don't block the writer).
  bool sqlite_wal = true;
  ResultFormat result_format = ResultFormat::binary;
  /// Statements kept prepared per connection, keyed by SQL text (0 disables the cache).
  std::size_t statement_cache_size = 256;
  /// Sent to PostgreSQL as application_name.
  std::string application_name = "nexdb";
  /// Sees every statement of connections opened with these options (monitoring). Null: none,
  /// and no cost.
  std::shared_ptr<StatementObserver> observer{};
};

class Connection : public StatementShortcuts<Connection> {
 public:
  using StatementShortcuts<Connection>::execute;
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual Dialect dialect() const noexcept = 0;
  /// "host:port/db" or the SQLite path, without credentials: safe for logs and errors.
  virtual const std::string& description() const noexcept = 0;

  /// Runs one statement with bound parameters; the result holds all rows.
  virtual Rows execute(const Statement& statement) = 0;
  /// Runs one or more statements separated by ';' with no parameters (DDL scripts).
  virtual void execute_script(std::string_view sql) = 0;

  /// Prepares `sql` under `name` (server-side prepared statement on PostgreSQL).
  virtual void prepare(std::string_view name, std::string_view sql) = 0;
  virtual Rows execute_prepared(std::string_view name, std::span<const Value> params) = 0;

  /// A round trip that proves the connection works; false when it does not.
  virtual bool ping() noexcept = 0;
  /// True once the connection is known to be unusable.
  virtual bool is_broken() const noexcept = 0;
  virtual TransactionStatus transaction_status() const noexcept = 0;
};

/// Opens a connection; throws ConfigError for an unknown scheme, ConnectionError (or
/// AuthenticationError / TimeoutError) when the server cannot be reached.
std::unique_ptr<Connection> connect(const ConnectOptions& options);
inline std::unique_ptr<Connection> connect(std::string_view uri) {
  return connect(ConnectOptions{.uri = std::string(uri)});
}
/// The dialect a URI selects, without connecting. Throws ConfigError for an unknown scheme.
Dialect dialect_of(std::string_view uri);

}  // namespace nexdb
