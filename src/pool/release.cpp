// Returning a connection: reset it outside the lock, then pool it, hand it to the oldest
// waiter, or discard it. Also the delivery loop for async waiters.
#include <spdlog/spdlog.h>

#include "pool/pool_state.hpp"

namespace nexdb::detail {

void PoolState::release(PoolEntry* entry) noexcept {
  const bool reusable = reset_for_reuse(*entry->connection);
  const auto now = CoarseClock::now();
  Lock lock(mutex_);
  --active_;
  if (reusable && !closed_ && waiters_.empty() && !entry->leak_reported &&
      !is_retired(*entry, now)) {
    entry->status = PoolEntry::Status::idle;
    entry->last_used = now;
    idle_.push_back(entry);  // never reallocates: reserved for max_size
    return;
  }
  release_slow(lock, entry, reusable, now);
}

// Once the lock is released this touches no member: on a closed pool, the slot it freed may
// have been the one close() or the last owner was waiting for, and the state may be gone.
void PoolState::release_slow(Lock& lock, PoolEntry* entry, bool reusable,
                             CoarseClock::time_point now) noexcept {
  std::shared_ptr<PoolState> last_reference;  // declared first: destroyed last
  std::unique_ptr<Connection> doomed;
  WaiterList completed;
  std::string leaked_pool;
  const bool was_leak = entry->leak_reported;
  const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - entry->leased_at);
  const auto where = entry->acquired_at;
  if (was_leak) leaked_pool = settings_.name;
  if (reusable && !closed_ && !is_retired(*entry, now)) {
    give_back(entry, now, completed);
  } else {
    doomed = discard(entry);
    if (closed_ && free_.size() == settings_.max_size) last_reference = std::move(self_);
  }
  lock.unlock();
  doomed.reset();
  deliver(completed);
  if (was_leak) {
    spdlog::info(
        "pool '{}': the lease reported as a possible leak was returned after {} ms "
        "(acquired at {}:{})",
        leaked_pool, held.count(), where.file_name(), where.line());
  }
}

// Whether the connection can serve the next caller. A transaction left open (an exception
// unwound past the commit, or the caller forgot) is rolled back so it cannot leak locks or
// half-done work into someone else's lease; if even that fails, the connection goes.
bool PoolState::reset_for_reuse(Connection& connection) noexcept {
  if (connection.is_broken()) return false;
  switch (connection.transaction_status()) {
    case TransactionStatus::idle:
      return true;
    case TransactionStatus::unknown:
      return false;
    case TransactionStatus::in_transaction:
    case TransactionStatus::failed:
      break;
  }
  try {
    connection.execute_script("ROLLBACK");
  } catch (const std::exception& e) {
    spdlog::warn(
        "pool '{}': rollback of a connection returned inside a transaction failed, "
        "discarding it: {}",
        settings_.name, e.what());
    return false;
  }
  spdlog::debug("pool '{}': rolled back a connection returned inside a transaction",
                settings_.name);
  return !connection.is_broken() && connection.transaction_status() == TransactionStatus::idle;
}

namespace {

void run_callback(Waiter* waiter) noexcept {
  const std::unique_ptr<Waiter> owned(waiter);
  try {
    owned->callback(std::move(owned->lease), owned->error);
  } catch (const std::exception& e) {
    spdlog::error("nexdb pool: an acquire_async callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("nexdb pool: an acquire_async callback threw a non-standard exception");
  }
}

}  // namespace

void deliver(WaiterList& completed) noexcept {
  thread_local WaiterList pending;
  thread_local bool delivering = false;
  pending.splice_back(completed);
  if (delivering) return;  // the loop below, further up this thread's stack, runs them
  delivering = true;
  while (Waiter* waiter = pending.pop_front()) run_callback(waiter);
  delivering = false;
}

}  // namespace nexdb::detail
