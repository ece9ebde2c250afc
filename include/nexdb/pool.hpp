// ConnectionPool: a bounded, thread-safe pool of Connections with HikariCP's guarantees.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>

#include "nexdb/connection.hpp"

namespace nexdb {

struct PoolSettings {
  /// Idle connections kept ready (the housekeeper tops up to this).
  std::size_t min_idle = 1;
  /// Upper bound on open connections, leased + idle.
  std::size_t max_size = 10;
  /// How long acquire() waits for a connection before throwing PoolExhausted.
  std::chrono::milliseconds acquire_timeout{30000};
  /// Idle connections above min_idle are closed after this long unused (0 = never).
  std::chrono::milliseconds idle_timeout{600000};
  /// Connections are retired after this age (less up to 2.5% jitter so a pool's connections
  /// do not all expire together): at once when idle, on return when leased (0 = never).
  std::chrono::milliseconds max_lifetime{1800000};
  /// A connection idle at least this long is pinged before it is handed out (0 = every time).
  std::chrono::milliseconds validation_threshold{500};
  /// A lease held longer than this is logged once, at warning level, with where it was
  /// acquired (0 = off). Checked every min(housekeeping_period, this threshold).
  std::chrono::milliseconds leak_detection_threshold{0};
  /// How often the housekeeper runs (idle/lifetime eviction, min_idle, leak detection).
  std::chrono::milliseconds housekeeping_period{30000};
  /// Name used in logs and stats.
  std::string name = "default";
};

/// Number of buckets in PoolStats::acquire_wait; bucket i counts waits <= acquire_wait_bounds[i].
inline constexpr std::array<std::chrono::microseconds, 12> acquire_wait_bounds{
    std::chrono::microseconds{10},      std::chrono::microseconds{100},
    std::chrono::microseconds{500},     std::chrono::microseconds{1000},
    std::chrono::microseconds{5000},    std::chrono::microseconds{10000},
    std::chrono::microseconds{50000},   std::chrono::microseconds{100000},
    std::chrono::microseconds{500000},  std::chrono::microseconds{1000000},
    std::chrono::microseconds{5000000}, std::chrono::microseconds::max()};

/// A snapshot of the pool, cheap to take; only `metrics` turns it into Prometheus text.
struct PoolStats {
  std::size_t total = 0;    // open connections (idle + active)
  std::size_t idle = 0;     // ready in the pool
  std::size_t active = 0;   // leased out
  std::size_t waiting = 0;  // callers waiting for a connection (acquire() and acquire_async())
  std::uint64_t acquired = 0;
  std::uint64_t timeouts = 0;   // waits that ended in PoolExhausted (acquire(), expire_waiter())
  std::uint64_t created = 0;    // connections opened
  std::uint64_t destroyed = 0;  // connections closed (broken, idle, lifetime, shutdown)
  std::uint64_t validation_failures = 0;
  std::uint64_t leaks_detected = 0;
  std::array<std::uint64_t, acquire_wait_bounds.size()> acquire_wait{};  // non-cumulative
  std::chrono::microseconds acquire_wait_sum{0};
};

class ConnectionPool;
namespace detail {
class PoolState;   // the pool proper, shared by the ConnectionPool handle and every Lease
struct PoolEntry;  // one connection slot
}  // namespace detail

/// Exclusive use of one pooled connection; returns it to the pool when destroyed.
/// A connection left in a transaction is rolled back on return; a broken one is discarded.
/// A Lease may outlive its ConnectionPool: the pool's state lives until the last lease returns,
/// and a connection returned to a closed pool is closed. (The pool holds itself alive for
/// its orphaned leases, so a Lease carries no reference count of its own.)
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  ~Lease();

  Connection& operator*() const noexcept { return *connection_; }
  Connection* operator->() const noexcept { return connection_; }
  Connection& connection() const noexcept { return *connection_; }
  explicit operator bool() const noexcept { return connection_ != nullptr; }
  /// Returns the connection now instead of at scope exit.
  void release() noexcept;

 private:
  friend class detail::PoolState;
  Lease(detail::PoolState* pool, detail::PoolEntry* entry, Connection* connection) noexcept
      : pool_(pool), entry_(entry), connection_(connection) {}
  detail::PoolState* pool_ = nullptr;
  detail::PoolEntry* entry_ = nullptr;
  Connection* connection_ = nullptr;
};

class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Connection>()>;

  /// Pool of connections opened with `connect(options)`; description() is the URI with its
  /// password masked. Connects nothing itself: the housekeeper opens min_idle connections in
  /// the background, so a dead host surfaces as ConnectionError from acquire(), carrying the
  /// driver's message. Throws ConfigError for inconsistent settings.
  ConnectionPool(ConnectOptions options, PoolSettings settings = {});
  /// Pool over any connection factory (used by tests and other backends).
  ConnectionPool(Factory factory, PoolSettings settings = {}, std::string description = "custom");
  /// close() with its default grace.
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// A connection, waiting up to settings.acquire_timeout. Waiters are served first come,
  /// first served. Throws PoolExhausted on timeout, ConnectionError when a new connection
  /// cannot be opened, PoolClosed after close(). Opening a connection is bounded by the
  /// driver's connect timeout, not by acquire_timeout.
  Lease acquire(std::source_location where = std::source_location::current());
  Lease acquire(std::chrono::milliseconds timeout,
                std::source_location where = std::source_location::current());
  /// A connection if one is ready or can be opened without waiting for another lease; never
  /// overtakes queued waiters. Throws ConnectionError if opening fails, PoolClosed after close().
  std::optional<Lease> try_acquire(std::source_location where = std::source_location::current());

  /// Asynchronous acquisition for the coroutine layer: `done` is called exactly once, with a
  /// lease or an error, never under the pool's lock. It runs inline when an idle connection is
  /// ready; otherwise later, on the thread that releases a connection, or on the housekeeper
  /// thread when a new connection had to be opened. Async and sync waiters share one FIFO.
  /// `done` must not block (it may run on the housekeeper or inside another caller's
  /// release()); called from inside another pool callback, it runs right after that one returns.
  /// The caller owns timing out: cancel_waiter(ticket) returns true if `done` will not run,
  /// false if it already ran or is about to.
  using AcquireCallback = std::function<void(Lease lease, std::exception_ptr error)>;
  std::uint64_t acquire_async(AcquireCallback done,
                              std::source_location where = std::source_location::current());
  bool cancel_waiter(std::uint64_t ticket);
  /// cancel_waiter() for a caller whose wait timed out: also counted in PoolStats::timeouts,
  /// as a sync acquire() ending in PoolExhausted is.
  bool expire_waiter(std::uint64_t ticket);

  /// Stops handing out connections, fails waiters with PoolClosed, closes idle connections,
  /// waits up to `grace` for leases to come back, and stops the housekeeper. A lease still out
  /// after `grace` is never closed under its user: its connection closes when it is returned.
  /// Idempotent; a second call returns at once.
  void close(std::chrono::milliseconds grace = std::chrono::milliseconds{30000});

  /// Runs one housekeeping pass now (the background thread does this every period).
  void run_housekeeping();

  PoolStats stats() const;
  const PoolSettings& settings() const noexcept;
  /// Where connections go, without credentials.
  const std::string& description() const noexcept;

 private:
  std::shared_ptr<detail::PoolState> state_;
};

}  // namespace nexdb
