// ReplicaManager: a PostgreSQL primary and its streaming replicas behind one router.
//
// Reads go to replicas by ReadPreference (skipping hosts that are down or lag too far), writes
// and read-write transactions to whichever host currently reports pg_is_in_recovery() = false,
// so a promoted replica takes over writes without restarting the application. A Session gives
// read-your-writes through ConsistencyTokens (the primary's WAL position after a write).
// See docs/replicas.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "nexdb/config.hpp"  // ReadPreference, ClusterConfig
#include "nexdb/pool.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb {

class SelectQuery;

struct ReplicaSettings {
  /// libpq URIs of the configured primary and replicas. Roles are re-discovered at run time.
  std::string primary{};
  std::vector<std::string> replicas{};
  ReadPreference read_preference = ReadPreference::nearest;
  /// A replica further behind than either limit is not used for reads (0 = no limit).
  std::uint64_t max_replication_lag_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds max_replication_lag{5000};
  /// `nearest` picks at random among hosts whose smoothed RTT is within this of the best.
  std::chrono::milliseconds latency_window{15};
  /// How often each host is probed while healthy.
  std::chrono::milliseconds health_check_interval{500};
  /// Read-your-writes: how long a read may wait for a replica to replay up to the session's
  /// token before it goes to the primary instead (0 = do not wait).
  std::chrono::milliseconds ryw_wait{0};
  /// Pool settings of each host's pool (its name gets the host appended).
  PoolSettings pool{};
  /// Connection settings of every host; `uri` is ignored.
  ConnectOptions connection{};
};

enum class HostRole { unknown, primary, replica };
std::string_view to_string(HostRole role) noexcept;

/// One host as the last health check saw it (a plain snapshot for `nexdb replica status`).
struct HostStats {
  std::string host{};  // the URI with its password masked
  HostRole role = HostRole::unknown;
  bool healthy = false;
  /// False until the first health check of this host has finished.
  bool probed = false;
  /// Smoothed round-trip time of the health-check query (EWMA, alpha 0.2).
  std::chrono::microseconds rtt{0};
  /// Replicas: the primary's WAL position minus this host's replay position.
  std::uint64_t lag_bytes = 0;
  /// Replicas: now() - last replayed commit, or 0 when the replica has replayed everything the
  /// primary has written (an idle primary would otherwise make a caught-up replica look late).
  std::chrono::milliseconds lag{0};
  std::uint64_t wal_lsn = 0;   // primary: pg_current_wal_lsn(); replica: pg_last_wal_replay_lsn()
  std::uint64_t reads = 0;     // leases handed out for reads
  std::uint64_t writes = 0;    // leases handed out for writes
  std::uint64_t failures = 0;  // failed health checks
  std::string last_error{};
  /// This host's connection pool.
  PoolStats pool{};
};

/// A position in the primary's WAL, taken right after a write. Reads carrying it are served only
/// by hosts that have replayed at least that far. String form: PostgreSQL's LSN text "0/3000060".
class ConsistencyToken {
 public:
  ConsistencyToken() = default;
  explicit ConsistencyToken(std::uint64_t lsn) noexcept : lsn_(lsn) {}
  /// Parses "X/Y" (hex, as PostgreSQL prints an LSN); UsageError on anything else.
  static ConsistencyToken parse(std::string_view text);

  std::uint64_t lsn() const noexcept { return lsn_; }
  bool empty() const noexcept { return lsn_ == 0; }
  std::string to_string() const;
  /// Keeps the later of the two positions.
  void merge(ConsistencyToken other) noexcept { lsn_ = other.lsn_ > lsn_ ? other.lsn_ : lsn_; }
  friend bool operator==(ConsistencyToken, ConsistencyToken) = default;

 private:
  std::uint64_t lsn_ = 0;
};

/// Parses a PostgreSQL LSN ("16/B374D848"); nullopt when malformed.
std::optional<std::uint64_t> parse_lsn(std::string_view text) noexcept;
std::string format_lsn(std::uint64_t lsn);

enum class StatementKind { read, write };
/// Conservative classification of raw SQL with PostgreSQL's parser: `read` only for a single
/// SELECT / VALUES / TABLE / SHOW without locking clauses, data-modifying CTEs, SELECT INTO or
/// calls of functions other than known side-effect-free built-ins; everything else (user-defined
/// functions, text the parser rejects, several statements) is `write`. Cached by text.
StatementKind classify_sql(std::string_view sql) noexcept;

namespace detail {
class ReplicaState;
struct ReplicaAccess;  // the async layer's way to the routing state
}

class Session;

class ReplicaManager {
 public:
  /// Starts one health-check thread per host; connects nothing in the caller's thread. Until a
  /// host's first check finishes, it is assumed to have its configured role. ConfigError for
  /// an empty primary or inconsistent settings.
  explicit ReplicaManager(ReplicaSettings settings);
  static ReplicaManager from_config(const ClusterConfig& cluster);
  ~ReplicaManager();
  ReplicaManager(ReplicaManager&&) noexcept;
  ReplicaManager& operator=(ReplicaManager&&) noexcept;

  /// A connection for reads chosen by `preference`. ConnectionError when no host is eligible.
  Lease read();
  Lease read(ReadPreference preference);
  /// A connection to the current primary. ConnectionError when no primary is known.
  Lease write();

  /// One statement, routed by what it is: builder SELECTs and classify_sql() reads go to
  /// read(); everything else to write().
  Rows execute(const Statement& statement);
  Rows execute(std::string_view sql) { return execute(Statement{std::string(sql), {}}); }
  template <class... Args>
  requires(sizeof...(Args) > 0) Rows execute(std::string_view sql, Args&&... args) {
    return execute(Statement{std::string(sql), {Value(std::forward<Args>(args))...}});
  }
  template <Renderable Q>
  Rows execute(const Q& query) {
    Statement statement = query.render(Dialect::postgres);
    if constexpr (std::is_same_v<Q, SelectQuery>) return execute_read(statement);
    return execute_write(statement);
  }
  /// The caller vouches that `statement` has no side effects: after a connection error it is
  /// run again on another eligible host (at most once per host).
  Rows execute_read(const Statement& statement);
  Rows execute_read(const Statement& statement, ReadPreference preference);
  /// On the primary; never retried (a ConnectionLost write may have committed).
  Rows execute_write(const Statement& statement);

  /// Runs `work(Transaction&)` on the primary and commits.
  template <class Work>
  auto transaction(Work&& work, TransactionOptions options = {}) {
    Lease lease = write();
    return run_in<Transaction>(*lease, std::forward<Work>(work), options);
  }
  /// Runs `work(ReadOnlyTransaction&)` on a host chosen by the default read preference.
  template <class Work>
  auto read_transaction(Work&& work, TransactionOptions options = {}) {
    Lease lease = read();
    return run_in<ReadOnlyTransaction>(*lease, std::forward<Work>(work), options);
  }

  /// A read-your-writes session (one per request), optionally resuming from a token.
  Session session(ConsistencyToken token = {});

  /// Snapshot of every host, configured primary first.
  std::vector<HostStats> hosts() const;
  /// Reports every statement on every host's pool to `observer` until the handle is destroyed
  /// (health probes excepted). ReplicaSettings::connection.observer stays attached too.
  [[nodiscard]] StatementObserverHub::Attachment attach_observer(std::shared_ptr<StatementObserver> observer);
  /// Probes every host now and waits (up to `timeout`) until each has answered or failed.
  void refresh(std::chrono::milliseconds timeout = std::chrono::milliseconds{10000});
  const ReplicaSettings& settings() const noexcept;

  template <class Tx, class Work>
  static auto run_in(Connection& connection, Work&& work, TransactionOptions options) {
    Tx tx(connection, options);
    return detail::run_and_commit(tx, std::forward<Work>(work));
  }

 private:
  friend class Session;
  friend struct detail::ReplicaAccess;
  std::unique_ptr<detail::ReplicaState> state_;
};

/// Read-your-writes for one logical client. Not thread-safe (one per request or per thread).
/// After write() or transaction(), reads go to a replica only once it has replayed the write
/// (checked on the leased connection itself, right before the query), else to the primary.
class Session {
 public:
  explicit Session(ReplicaManager& manager, ConsistencyToken token = {})
      : manager_(&manager), token_(token) {}

  /// A statement on the primary; records the WAL position after it.
  Rows write(const Statement& statement);
  template <Renderable Q>
  Rows write(const Q& query) {
    return write(query.render(Dialect::postgres));
  }
  /// A statement on a host that has replayed this session's writes.
  Rows read(const Statement& statement);
  Rows read(const Statement& statement, ReadPreference preference);
  template <Renderable Q>
  Rows read(const Q& query) {
    return read(query.render(Dialect::postgres));
  }
  /// A connection that has replayed this session's writes, for several reads.
  Lease read_lease(ReadPreference preference);
  Lease read_lease();

  /// Runs `work(Transaction&)` on the primary, commits, records the WAL position.
  template <class Work>
  auto transaction(Work&& work, TransactionOptions options = {}) {
    Lease lease = manager_->write();
    if constexpr (std::is_void_v<std::invoke_result_t<Work, Transaction&>>) {
      ReplicaManager::run_in<Transaction>(*lease, std::forward<Work>(work), options);
      record(*lease);
    } else {
      auto result = ReplicaManager::run_in<Transaction>(*lease, std::forward<Work>(work), options);
      record(*lease);
      return result;
    }
  }

  /// This session's read preference (for read() and read_lease() without one); the manager's
  /// until set.
  ReadPreference read_preference() const noexcept;
  void set_read_preference(ReadPreference preference) noexcept { preference_ = preference; }

  const ConsistencyToken& token() const noexcept { return token_; }
  /// Adopts a token from elsewhere (a cookie, another session); keeps the later position.
  void observe(ConsistencyToken token) noexcept { token_.merge(token); }
  /// Reads this connection's WAL insert position into the token (after a commit on it).
  void record(Connection& primary_connection);

 private:
  ReplicaManager* manager_;
  ConsistencyToken token_;
  std::optional<ReadPreference> preference_{};
};

}  // namespace nexdb
