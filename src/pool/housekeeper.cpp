// The background side: the housekeeper thread (eviction, min_idle, leak detection, opening
// connections for async waiters).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pool/pool_state.hpp"

namespace nexdb::detail {
void PoolState::start(std::shared_ptr<PoolState> self) {
  housekeeper_ = std::thread([self = std::move(self)] {
    try {
      self->housekeeper_main();
    } catch (const std::exception& e) {
      spdlog::error("pool '{}': housekeeper stopped: {}", self->settings_.name, e.what());
    }
  });
}

// Fills min_idle right away (so the constructor never connects), then wakes every tick, or
// at once when an async waiter needs a connection opened. Stops as soon as close() starts.
void PoolState::housekeeper_main() {
  run_housekeeping();
  Lock lock(mutex_);
  auto next = SteadyClock::now() + limits_.tick;
  while (!closed_) {
    const auto woken =
        housekeeper_wakeup_.wait_until(lock, next, [&] { return closed_ || !open_jobs_.empty(); });
    if (closed_) break;
    if (woken) {
      serve_open_job(lock);
      continue;
    }
    lock.unlock();
    run_housekeeping();
    lock.lock();
    next = SteadyClock::now() + limits_.tick;
  }
}

void PoolState::serve_open_job(Lock& lock) {
  Waiter* job = open_jobs_.pop_front();
  lock.unlock();
  std::unique_ptr<Connection> connection;
  std::exception_ptr error;
  try {
    connection = open_connection();
  } catch (...) {
    error = std::current_exception();
  }
  Graveyard graveyard;
  WaiterList completed;
  lock.lock();
  finish_open_job(job, std::move(connection), error, graveyard);
  completed.push_back(job);
  lock.unlock();
  graveyard.clear();
  deliver(completed);
  lock.lock();
}

void PoolState::finish_open_job(Waiter* job, std::unique_ptr<Connection> connection,
                                std::exception_ptr error, Graveyard& graveyard) {
  const auto now = CoarseClock::now();
  if (connection != nullptr) install(job->entry, std::move(connection), now);
  if (error == nullptr && !closed_) {
    lease_out(job->entry, now, job->where);
    record_wait(job->since);
    job->lease = Lease(this, job->entry, job->entry->connection.get());
    job->outcome = WaitOutcome::leased;
    return;
  }
  if (error == nullptr) {
    graveyard.push_back(discard(job->entry));
    error = closed_error();
  } else {
    free_slot(job->entry);
  }
  job->error = error;
  job->outcome = WaitOutcome::failed;
}

void PoolState::run_housekeeping() {
  Graveyard graveyard;
  std::vector<LeakReport> leaks;
  {
    Lock lock(mutex_);
    if (closed_) return;
    const auto now = CoarseClock::now();
    evict_idle(now, graveyard);
    find_leaks(now, leaks);
  }
  graveyard.clear();
  report_leaks(leaks);
  top_up();
}

// Retires idle connections past max_lifetime, and closes those unused for idle_timeout while
// more than min_idle are idle. idle_ is coldest first, so the longest unused go first.
void PoolState::evict_idle(CoarseClock::time_point now, Graveyard& graveyard) {
  std::size_t remaining = idle_.size();
  std::size_t kept = 0;
  for (PoolEntry* entry : idle_) {
    const bool unused = limits_.idle_timeout.count() > 0 &&
                        now - entry->last_used >= limits_.idle_timeout &&
                        remaining > settings_.min_idle;
    if (is_retired(*entry, now) || unused) {
      graveyard.push_back(take_connection(entry));
      entry->status = PoolEntry::Status::free;
      free_.push_back(entry);
      --remaining;
    } else {
      idle_[kept++] = entry;
    }
  }
  idle_.resize(kept);
  grant_waiters();
}

void PoolState::find_leaks(CoarseClock::time_point now, std::vector<LeakReport>& leaks) {
  if (limits_.leak.count() == 0) return;
  for (std::size_t i = 0; i < settings_.max_size; ++i) {
    PoolEntry& entry = entries_[i];
    if (entry.status != PoolEntry::Status::leased || entry.leak_reported) continue;
    const auto held = now - entry.leased_at;
    if (held < limits_.leak) continue;
    entry.leak_reported = true;
    ++counters_.leaks_detected;
    leaks.push_back(
        {entry.acquired_at, std::chrono::duration_cast<std::chrono::milliseconds>(held)});
  }
}

void PoolState::report_leaks(const std::vector<LeakReport>& leaks) const {
  for (const LeakReport& leak : leaks) {
    spdlog::warn(
        "pool '{}': possible connection leak: a lease has been held for {} ms "
        "(leak_detection_threshold {} ms); acquired at {}:{} in {}",
        settings_.name, leak.held.count(), settings_.leak_detection_threshold.count(),
        leak.where.file_name(), leak.where.line(), leak.where.function_name());
  }
}

// Opens connections one at a time, outside the lock, until min_idle are idle. A failure is
// logged and ends the pass: a dead host is retried next period, not hammered.
void PoolState::top_up() {
  {
    Lock lock(mutex_);
    if (topping_up_) return;  // run_housekeeping() from another thread is already at it
    topping_up_ = true;
  }
  while (top_up_one()) {
  }
  Lock lock(mutex_);
  topping_up_ = false;
}

bool PoolState::top_up_one() {
  PoolEntry* slot = nullptr;
  {
    Lock lock(mutex_);
    if (closed_ || idle_.size() >= settings_.min_idle) return false;
    slot = reserve_slot();
    if (slot == nullptr) return false;
  }
  std::unique_ptr<Connection> connection;
  try {
    connection = open_or_free(slot);
  } catch (const std::exception& e) {
    spdlog::warn("pool '{}': could not open a connection to keep min_idle ({}): {}", settings_.name,
                 settings_.min_idle, e.what());
    return false;
  } catch (...) {
    spdlog::warn("pool '{}': could not open a connection to keep min_idle", settings_.name);
    return false;
  }
  Graveyard graveyard;
  WaiterList completed;
  Lock lock(mutex_);
  const auto now = CoarseClock::now();
  install(slot, std::move(connection), now);
  if (closed_) {
    graveyard.push_back(discard(slot));
  } else {
    give_back(slot, now, completed);
  }
  lock.unlock();
  graveyard.clear();
  deliver(completed);
  return true;
}

}  // namespace nexdb::detail
