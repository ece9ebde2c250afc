// Acquisition: the one-lock fast path, then the slow path (validation, opening, queueing).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "nexdb/error.hpp"
#include "pool/pool_state.hpp"

namespace nexdb::detail {
namespace {

// Longer waits are clamped so `since + timeout` cannot overflow steady_clock.
constexpr std::chrono::milliseconds kMaxWait = std::chrono::hours(24 * 365 * 10);

std::chrono::milliseconds clamp_wait(std::chrono::milliseconds timeout) {
  return std::clamp(timeout, std::chrono::milliseconds{0}, kMaxWait);
}

}  // namespace

Lease PoolState::acquire(std::chrono::milliseconds timeout, std::source_location where) {
  const auto now = CoarseClock::now();
  Lock lock(mutex_);
  if (PoolEntry* entry = take_fast(now, where)) {
    lock.unlock();
    return Lease(this, entry, entry->connection.get());
  }
  lock.unlock();
  return acquire_slow(timeout, where, /*wait=*/true);
}

std::optional<Lease> PoolState::try_acquire(std::source_location where) {
  const auto now = CoarseClock::now();
  Lock lock(mutex_);
  if (PoolEntry* entry = take_fast(now, where)) {
    lock.unlock();
    return Lease(this, entry, entry->connection.get());
  }
  lock.unlock();
  Lease lease = acquire_slow(std::chrono::milliseconds{0}, where, /*wait=*/false);
  if (!lease) return std::nullopt;
  return lease;
}

// The warmest idle connection when nobody is queued and it needs no ping: no allocation, no
// std::function, no steady_clock read. Everything else goes to acquire_slow().
PoolEntry* PoolState::take_fast(CoarseClock::time_point now, std::source_location where) {
  if (closed_ || !waiters_.empty() || idle_.empty()) return nullptr;
  PoolEntry* entry = idle_.back();
  if (!is_ready(*entry, now)) return nullptr;
  idle_.pop_back();
  lease_out(entry, now, where);
  ++counters_.acquire_wait[0];
  return entry;
}

Lease PoolState::acquire_slow(std::chrono::milliseconds timeout, std::source_location where,
                              bool wait) {
  const auto since = SteadyClock::now();
  Graveyard graveyard;  // declared first: closed after the lock is released
  Lock lock(mutex_);
  const Grab got = grab(lock, where, graveyard);
  if (got.entry != nullptr && !got.must_open) {
    record_wait(since);
    lock.unlock();
    return Lease(this, got.entry, got.entry->connection.get());
  }
  if (got.entry != nullptr) {
    lock.unlock();
    graveyard.clear();
    return open_into(got.entry, where, since);
  }
  if (!wait) return Lease{};
  return wait_in_queue(lock, since, timeout, where);
}

// Without waiting: an idle connection (retired ones closed, stale ones pinged), else a free
// slot to open into, else nothing. Queued waiters come first, so with any queued it finds
// nothing. Holds the lock on return, but drops it around each ping.
PoolState::Grab PoolState::grab(Lock& lock, std::source_location where, Graveyard& graveyard) {
  for (;;) {
    if (closed_) throw_closed();
    if (!waiters_.empty()) return {};
    if (idle_.empty()) return {reserve_slot(), true};
    PoolEntry* entry = idle_.back();
    idle_.pop_back();
    const auto now = CoarseClock::now();
    if (is_retired(*entry, now)) {
      graveyard.push_back(discard(entry));
      continue;
    }
    if (is_ready(*entry, now)) {
      lease_out(entry, now, where);
      return {entry, false};
    }
    const bool alive = validate(lock, entry);
    if (closed_) {
      graveyard.push_back(discard(entry));
      throw_closed();
    }
    if (alive) {
      lease_out(entry, CoarseClock::now(), where);
      return {entry, false};
    }
    ++counters_.validation_failures;
    graveyard.push_back(take_connection(entry));
    // We were ahead of anyone who queued during the ping: keep the slot and open a fresh
    // connection into it, unless another idle connection can be tried first.
    if (idle_.empty() || !waiters_.empty()) {
      entry->status = PoolEntry::Status::opening;
      return {entry, true};
    }
    free_slot(entry);
  }
}

// Pings outside the lock. The entry is `validating` meanwhile: not idle, so nobody else takes
// it, and not free, so close() waits for it.
bool PoolState::validate(Lock& lock, PoolEntry* entry) {
  entry->status = PoolEntry::Status::validating;
  Connection& connection = *entry->connection;
  lock.unlock();
  const bool alive = !connection.is_broken() && connection.ping();
  if (!alive) {
    spdlog::warn("pool '{}': an idle connection to {} failed validation and is replaced",
                 settings_.name, connection.description());
  }
  lock.lock();
  return alive;
}

Lease PoolState::open_into(PoolEntry* slot, std::source_location where,
                           SteadyClock::time_point since) {
  auto connection = open_or_free(slot);
  Graveyard graveyard;
  Lock lock(mutex_);
  const auto now = CoarseClock::now();
  install(slot, std::move(connection), now);
  if (closed_) {
    graveyard.push_back(discard(slot));
    throw_closed();
  }
  lease_out(slot, now, where);
  record_wait(since);
  lock.unlock();
  return Lease(this, slot, slot->connection.get());
}

// A failed open gives the slot back (waking a waiter to retry with it) and propagates the
// driver's error as is: a dead host is a ConnectionError, never disguised as a timeout.
std::unique_ptr<Connection> PoolState::open_or_free(PoolEntry* slot) {
  try {
    return open_connection();
  } catch (...) {
    Lock lock(mutex_);
    free_slot(slot);
    throw;
  }
}

Lease PoolState::wait_in_queue(Lock& lock, SteadyClock::time_point since,
                               std::chrono::milliseconds timeout, std::source_location where) {
  std::condition_variable wakeup;
  Waiter waiter;
  waiter.ticket = next_ticket_++;
  waiter.where = where;
  waiter.since = since;
  waiter.wakeup = &wakeup;
  waiters_.push_back(&waiter);
  const auto deadline = since + clamp_wait(timeout);
  const auto served = [&] { return waiter.outcome != WaitOutcome::pending; };
  if (!wakeup.wait_until(lock, deadline, served)) {
    waiters_.remove(&waiter);
    ++counters_.timeouts;
    throw_exhausted(
        lock, std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - since));
  }
  switch (waiter.outcome) {
    case WaitOutcome::leased:
      lock.unlock();
      return Lease(this, waiter.entry, waiter.entry->connection.get());
    case WaitOutcome::open_slot:
      lock.unlock();
      return open_into(waiter.entry, where, since);
    default:
      std::rethrow_exception(waiter.error);
  }
}

void PoolState::throw_exhausted(Lock& lock, std::chrono::milliseconds waited) {
  const std::size_t leased = active_;
  const std::size_t queued = waiters_.size();
  lock.unlock();
  throw PoolExhausted(
      fmt::format("pool '{}' exhausted: no connection became free within {} ms (max_size {}, "
                  "{} leased, {} other callers waiting). Raise PoolSettings::max_size or "
                  "acquire_timeout, or hold leases for less time (leak_detection_threshold "
                  "logs where long-held leases were acquired)",
                  settings_.name, waited.count(), settings_.max_size, leased, queued),
      {.host = description_});
}

std::uint64_t PoolState::acquire_async(ConnectionPool::AcquireCallback done,
                                       std::source_location where) {
  auto waiter = std::make_unique<Waiter>();
  waiter->callback = std::move(done);
  waiter->where = where;
  waiter->since = SteadyClock::now();
  Graveyard graveyard;
  WaiterList completed;
  Lock lock(mutex_);
  const std::uint64_t ticket = waiter->ticket = next_ticket_++;
  try {
    const Grab got = grab(lock, where, graveyard);
    if (got.entry != nullptr && !got.must_open) {
      record_wait(waiter->since);
      waiter->entry = got.entry;
      waiter->outcome = WaitOutcome::leased;
      waiter->lease = Lease(this, got.entry, got.entry->connection.get());
      completed.push_back(waiter.release());
    } else if (got.entry != nullptr) {
      // Opening may take the whole connect timeout; the housekeeper does it, not the caller.
      waiter->entry = got.entry;
      waiter->outcome = WaitOutcome::open_slot;
      open_jobs_.push_back(waiter.release());
      housekeeper_wakeup_.notify_one();
    } else {
      waiters_.push_back(waiter.release());
    }
  } catch (...) {
    waiter->error = std::current_exception();
    waiter->outcome = WaitOutcome::failed;
    completed.push_back(waiter.release());
  }
  lock.unlock();
  graveyard.clear();
  deliver(completed);
  return ticket;
}

bool PoolState::cancel_waiter(std::uint64_t ticket, bool timed_out) {
  std::unique_ptr<Waiter> cancelled;  // destroyed (with its callback) after the lock
  Lock lock(mutex_);
  const auto match = [ticket](const Waiter& w) { return w.ticket == ticket && w.is_async(); };
  if (Waiter* waiter = waiters_.find_if(match)) {
    waiters_.remove(waiter);
    cancelled.reset(waiter);
  } else if (Waiter* job = open_jobs_.find_if(match)) {
    open_jobs_.remove(job);
    free_slot(job->entry);
    cancelled.reset(job);
  }
  if (cancelled != nullptr && timed_out) ++counters_.timeouts;
  lock.unlock();
  return cancelled != nullptr;
}

}  // namespace nexdb::detail
