// Shutdown: close(grace), and the hand-over of the state to its last lease (orphan()).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "pool/pool_state.hpp"

namespace nexdb::detail {
namespace {

constexpr std::chrono::milliseconds kMaxGrace = std::chrono::hours(24 * 365);

}  // namespace

void PoolState::close(std::chrono::milliseconds grace) {
  Graveyard graveyard;
  WaiterList completed;
  {
    Lock lock(mutex_);
    if (closed_) return;
    closed_ = true;
    fail_waiters(completed);
    close_idle(graveyard);
    housekeeper_wakeup_.notify_all();
  }
  graveyard.clear();
  deliver(completed);
  stop_housekeeper();
  wait_for_leases(grace);
  spdlog::debug("pool '{}' closed", settings_.name);
}

void PoolState::orphan(std::shared_ptr<PoolState> self) {
  Lock lock(mutex_);
  if (free_.size() != settings_.max_size) self_ = std::move(self);
}

void PoolState::fail_waiters(WaiterList& completed) {
  while (Waiter* waiter = waiters_.pop_front()) {
    waiter->error = closed_error();
    waiter->outcome = WaitOutcome::failed;
    if (waiter->is_async()) {
      completed.push_back(waiter);
    } else {
      waiter->wakeup->notify_one();
    }
  }
  while (Waiter* job = open_jobs_.pop_front()) {
    free_slot(job->entry);
    job->error = closed_error();
    job->outcome = WaitOutcome::failed;
    completed.push_back(job);
  }
}

void PoolState::close_idle(Graveyard& graveyard) {
  for (PoolEntry* entry : idle_) {
    graveyard.push_back(take_connection(entry));
    entry->status = PoolEntry::Status::free;
    free_.push_back(entry);
  }
  idle_.clear();
  notify_if_drained();
}

void PoolState::stop_housekeeper() {
  if (!housekeeper_.joinable()) return;
  if (housekeeper_.get_id() == std::this_thread::get_id()) {
    housekeeper_.detach();  // close() from a callback on the housekeeper: it exits by itself
  } else {
    housekeeper_.join();
  }
}

void PoolState::wait_for_leases(std::chrono::milliseconds grace) {
  Lock lock(mutex_);
  const auto drained = drained_.wait_for(lock, std::clamp(grace, {}, kMaxGrace),
                                         [&] { return free_.size() == settings_.max_size; });
  if (drained) return;
  const std::size_t out = active_;
  lock.unlock();
  spdlog::warn(
      "pool '{}' closed with {} lease(s) still out after the {} ms grace; each of "
      "those connections is closed when its lease is returned",
      settings_.name, out, grace.count());
}

}  // namespace nexdb::detail
