// The pool proper, behind ConnectionPool and Lease. Private to src/pool.
//
// Locking: one mutex guards everything below. Nothing slow ever runs under it: connections
// are opened, pinged, rolled back and closed outside it, and user callbacks and logging run
// after it is released. Invariant while the lock is free: if a waiter is queued, no connection
// is idle and no slot is free (every release hands off, every freed slot is granted), so a
// newcomer that sees waiters always queues behind them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <string>
#include <thread>
#include <vector>

#include "nexdb/pool.hpp"
#include "pool/coarse_clock.hpp"
#include "pool/waiter_list.hpp"

namespace nexdb::detail {

using SteadyClock = std::chrono::steady_clock;

/// One of max_size slots; holds a connection unless free.
struct PoolEntry {
  enum class Status : std::uint8_t { free, opening, idle, validating, leased };
  std::unique_ptr<Connection> connection;
  Status status = Status::free;
  bool leak_reported = false;
  CoarseClock::time_point retire_at;  // max_lifetime reached (time_point::max() = never)
  CoarseClock::time_point last_used;  // when it last became idle
  CoarseClock::time_point leased_at;
  std::source_location acquired_at;
};

enum class WaitOutcome : std::uint8_t { pending, leased, open_slot, failed };

/// A caller waiting for a connection. Sync waiters live on their thread's stack and are woken
/// through `wakeup`; async ones are heap-allocated and completed by running `callback`.
struct Waiter {
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  std::uint64_t ticket = 0;
  std::source_location where;
  SteadyClock::time_point since;
  WaitOutcome outcome = WaitOutcome::pending;
  PoolEntry* entry = nullptr;  // leased: the connection's entry; open_slot: the slot to fill
  std::exception_ptr error;
  std::condition_variable* wakeup = nullptr;
  ConnectionPool::AcquireCallback callback;
  Lease lease;  // async: what `callback` receives

  bool is_async() const noexcept { return wakeup == nullptr; }
};

using WaiterList = IntrusiveList<Waiter>;
/// Connections taken out under the lock, closed after it is released (closing may do I/O).
using Graveyard = std::vector<std::unique_ptr<Connection>>;

/// Runs the callbacks of completed async waiters and frees them. Never call it under a pool
/// lock. Re-entrant calls (a callback that releases a lease) queue behind the running loop, so
/// a chain of hand-offs cannot grow the stack.
void deliver(WaiterList& completed) noexcept;

/// Throws ConfigError naming the offending setting.
void validate_settings(const PoolSettings& settings);

class PoolState {
 public:
  PoolState(ConnectionPool::Factory factory, PoolSettings settings, std::string description);
  ~PoolState();
  PoolState(const PoolState&) = delete;
  PoolState& operator=(const PoolState&) = delete;

  /// Starts the housekeeper thread; it holds `self` until close().
  void start(std::shared_ptr<PoolState> self);
  /// Called when the ConnectionPool handle goes: if leases are still out, the state keeps
  /// itself alive through `self` until the last one is returned. Leases hold a plain pointer,
  /// which keeps reference counting off the acquire/release fast path.
  void orphan(std::shared_ptr<PoolState> self);

  Lease acquire(std::chrono::milliseconds timeout, std::source_location where);
  std::optional<Lease> try_acquire(std::source_location where);
  std::uint64_t acquire_async(ConnectionPool::AcquireCallback done, std::source_location where);
  bool cancel_waiter(std::uint64_t ticket, bool timed_out = false);
  void release(PoolEntry* entry) noexcept;
  void close(std::chrono::milliseconds grace);
  void run_housekeeping();
  PoolStats stats() const;

  const PoolSettings& settings() const noexcept { return settings_; }
  const std::string& description() const noexcept { return description_; }

 private:
  using Lock = std::unique_lock<std::mutex>;
  /// What grab() found: a leased entry, a reserved slot to open into, or nothing (must wait).
  struct Grab {
    PoolEntry* entry = nullptr;
    bool must_open = false;
  };
  /// Settings turned into CoarseClock durations once, clamped so arithmetic cannot overflow.
  struct Limits {
    CoarseClock::duration idle_timeout;
    CoarseClock::duration max_lifetime;
    CoarseClock::duration validation;
    CoarseClock::duration leak;
    std::chrono::milliseconds tick;  // housekeeper period
  };
  struct LeakReport {
    std::source_location where;
    std::chrono::milliseconds held;
  };

  // acquire.cpp
  PoolEntry* take_fast(CoarseClock::time_point now, std::source_location where);
  Lease acquire_slow(std::chrono::milliseconds timeout, std::source_location where, bool wait);
  Grab grab(Lock& lock, std::source_location where, Graveyard& graveyard);
  bool validate(Lock& lock, PoolEntry* entry);
  Lease open_into(PoolEntry* slot, std::source_location where, SteadyClock::time_point since);
  std::unique_ptr<Connection> open_or_free(PoolEntry* slot);
  Lease wait_in_queue(Lock& lock, SteadyClock::time_point since, std::chrono::milliseconds timeout,
                      std::source_location where);
  [[noreturn]] void throw_exhausted(Lock& lock, std::chrono::milliseconds waited);

  // release.cpp
  bool reset_for_reuse(Connection& connection) noexcept;
  void release_slow(Lock& lock, PoolEntry* entry, bool reusable,
                    CoarseClock::time_point now) noexcept;

  // housekeeper.cpp
  void housekeeper_main();
  void serve_open_job(Lock& lock);
  void finish_open_job(Waiter* job, std::unique_ptr<Connection> connection,
                       std::exception_ptr error, Graveyard& graveyard);
  void evict_idle(CoarseClock::time_point now, Graveyard& graveyard);
  void find_leaks(CoarseClock::time_point now, std::vector<LeakReport>& leaks);
  void report_leaks(const std::vector<LeakReport>& leaks) const;
  void top_up();
  bool top_up_one();

  // shutdown.cpp
  void fail_waiters(WaiterList& completed);
  void close_idle(Graveyard& graveyard);
  void stop_housekeeper();
  void wait_for_leases(std::chrono::milliseconds grace);

  // pool_state.cpp: bookkeeping, always under the lock
  bool is_ready(const PoolEntry& entry, CoarseClock::time_point now) const noexcept;
  bool is_retired(const PoolEntry& entry, CoarseClock::time_point now) const noexcept;
  void lease_out(PoolEntry* entry, CoarseClock::time_point now, std::source_location where);
  PoolEntry* reserve_slot() noexcept;
  void install(PoolEntry* slot, std::unique_ptr<Connection> connection,
               CoarseClock::time_point now);
  std::unique_ptr<Connection> take_connection(PoolEntry* entry) noexcept;
  std::unique_ptr<Connection> discard(PoolEntry* entry) noexcept;
  void free_slot(PoolEntry* slot) noexcept;
  void grant_waiters() noexcept;
  void give_back(PoolEntry* entry, CoarseClock::time_point now, WaiterList& completed);
  void hand_off(PoolEntry* entry, CoarseClock::time_point now, WaiterList& completed);
  void record_wait(SteadyClock::time_point since) noexcept;
  void notify_if_drained() noexcept;
  CoarseClock::time_point retire_time(CoarseClock::time_point now) noexcept;
  std::exception_ptr closed_error() const;
  [[noreturn]] void throw_closed() const;
  // outside the lock
  std::unique_ptr<Connection> open_connection();

  const ConnectionPool::Factory factory_;
  const PoolSettings settings_;
  const std::string description_;
  const Limits limits_;

  // What acquire() and release() touch when a connection is idle comes first, next to the
  // limits above, so that fast path reads few cache lines.
  mutable std::mutex mutex_;
  bool closed_ = false;
  bool topping_up_ = false;
  std::vector<PoolEntry*> idle_;          // coldest first; reuse takes the back (warmest)
  WaiterList waiters_;                    // FIFO, sync and async alike
  std::size_t active_ = 0;                // leased
  PoolStats counters_;                    // the counter fields only
  std::unique_ptr<PoolEntry[]> entries_;  // settings_.max_size slots
  std::vector<PoolEntry*> free_;          // slots without a connection
  WaiterList open_jobs_;                  // async waiters granted a slot; the housekeeper opens
  std::size_t open_ = 0;                  // connections held (idle + validating + leased)
  std::uint64_t next_ticket_ = 1;
  std::uint64_t jitter_state_;
  std::condition_variable housekeeper_wakeup_;
  std::condition_variable drained_;
  std::thread housekeeper_;
  std::shared_ptr<PoolState> self_;  // set by orphan(); dropped by the last lease's return
};

}  // namespace nexdb::detail
