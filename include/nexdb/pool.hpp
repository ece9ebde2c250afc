// ConnectionPool: a bounded, thread-safe pool of Connections with HikariCP's guarantees.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
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
  /// Connections are retired after this age, when next idle (0 = never).
  std::chrono::milliseconds max_lifetime{1800000};
  /// A connection idle longer than this is pinged before it is handed out.
  std::chrono::milliseconds validation_threshold{500};
  /// A lease held longer than this is logged with where it was acquired (0 = off).
  std::chrono::milliseconds leak_detection_threshold{0};
  /// How often the housekeeper runs (idle/lifetime eviction, min_idle, leak detection).
  std::chrono::milliseconds housekeeping_period{30000};
  /// Name used in logs and stats.
  std::string name = "default";
};

/// Number of buckets in PoolStats::acquire_wait; bucket i counts waits <= acquire_wait_bounds[i].
inline constexpr std::array<std::chrono::microseconds, 12> acquire_wait_bounds{
    std::chrono::microseconds{10},     std::chrono::microseconds{100},
    std::chrono::microseconds{500},    std::chrono::microseconds{1000},
    std::chrono::microseconds{5000},   std::chrono::microseconds{10000},
    std::chrono::microseconds{50000},  std::chrono::microseconds{100000},
    std::chrono::microseconds{500000}, std::chrono::microseconds{1000000},
    std::chrono::microseconds{5000000}, std::chrono::microseconds::max()};

/// A snapshot of the pool, cheap to take; only `metrics` turns it into Prometheus text.
struct PoolStats {
  std::size_t total = 0;    // open connections (idle + active)
  std::size_t idle = 0;     // ready in the pool
  std::size_t active = 0;   // leased out
  std::size_t waiting = 0;  // callers blocked in acquire()
  std::uint64_t acquired = 0;
  std::uint64_t timeouts = 0;   // acquire() calls that ended in PoolExhausted
  std::uint64_t created = 0;    // connections opened
  std::uint64_t destroyed = 0;  // connections closed (broken, idle, lifetime, shutdown)
  std::uint64_t validation_failures = 0;
  std::uint64_t leaks_detected = 0;
  std::array<std::uint64_t, acquire_wait_bounds.size()> acquire_wait{};  // non-cumulative
  std::chrono::microseconds acquire_wait_sum{0};
};

class ConnectionPool;

/// Exclusive use of one pooled connection; returns it to the pool when destroyed.
/// A connection left in a transaction is rolled back on return; a broken one is discarded.
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
  friend class ConnectionPool;
  struct Entry;
  Lease(std::shared_ptr<void> pool_state, Entry* entry, Connection* connection) noexcept
      : pool_(std::move(pool_state)), entry_(entry), connection_(connection) {}
  std::shared_ptr<void> pool_;
  Entry* entry_ = nullptr;
  Connection* connection_ = nullptr;
};

class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Connection>()>;

  /// Pool of connections opened with `connect(options)`.
  ConnectionPool(ConnectOptions options, PoolSettings settings = {});
  /// Pool over any connection factory (used by tests and other backends).
  ConnectionPool(Factory factory, PoolSettings settings = {}, std::string description = "custom");
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// A connection, waiting up to settings.acquire_timeout. Waiters are served first come,
  /// first served. Throws PoolExhausted on timeout, ConnectionError when a new connection
  /// cannot be opened, PoolClosed after close().
  Lease acquire(std::source_location where = std::source_location::current());
  Lease acquire(std::chrono::milliseconds timeout,
                std::source_location where = std::source_location::current());
  /// A connection if one is ready or can be opened without waiting for another lease.
  std::optional<Lease> try_acquire(std::source_location where = std::source_location::current());

  /// Asynchronous acquisition for the coroutine layer: `done` is called exactly once, with a
  /// lease or an error, on the thread that releases a connection (or inline when one is free).
  /// The caller owns timing out: cancel_waiter(ticket) returns false if `done` already ran.
  using AcquireCallback = std::function<void(Lease lease, std::exception_ptr error)>;
  std::uint64_t acquire_async(AcquireCallback done,
                              std::source_location where = std::source_location::current());
  bool cancel_waiter(std::uint64_t ticket);

  /// Stops handing out connections, fails waiters with PoolClosed, waits up to `grace` for
  /// leases to come back, then closes every connection. Idempotent.
  void close(std::chrono::milliseconds grace = std::chrono::milliseconds{30000});

  /// Runs one housekeeping pass now (the background thread does this every period).
  void run_housekeeping();

  PoolStats stats() const;
  const PoolSettings& settings() const noexcept;
  /// Where connections go, without credentials.
  const std::string& description() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace nexdb
