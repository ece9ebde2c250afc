// PoolState construction, stats and the bookkeeping steps shared by acquire, release and the
// housekeeper. Every function here runs under the pool lock unless it says otherwise.
#include "pool/pool_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

// Far enough to mean "never", near enough that now + limit cannot overflow.
constexpr std::chrono::hours kForever{24 * 365 * 100};

CoarseClock::duration to_coarse(std::chrono::milliseconds value) {
  return std::chrono::duration_cast<CoarseClock::duration>(std::min<std::chrono::milliseconds>(
      value, std::chrono::duration_cast<std::chrono::milliseconds>(kForever)));
}

std::chrono::milliseconds housekeeper_tick(const PoolSettings& settings) {
  const auto leak = settings.leak_detection_threshold;
  return leak.count() > 0 ? std::min(settings.housekeeping_period, leak)
                          : settings.housekeeping_period;
}

}  // namespace

PoolState::PoolState(ConnectionPool::Factory factory, PoolSettings settings,
                     std::string description)
    : factory_(std::move(factory)),
      settings_(std::move(settings)),
      description_(std::move(description)),
      limits_{to_coarse(settings_.idle_timeout), to_coarse(settings_.max_lifetime),
              to_coarse(settings_.validation_threshold),
              to_coarse(settings_.leak_detection_threshold), housekeeper_tick(settings_)},
      entries_(std::make_unique<PoolEntry[]>(settings_.max_size)),
      jitter_state_(std::random_device{}() | 1u) {
  free_.reserve(settings_.max_size);
  idle_.reserve(settings_.max_size);
  for (std::size_t i = settings_.max_size; i > 0; --i) free_.push_back(&entries_[i - 1]);
}

PoolState::~PoolState() {
  // Normally close() joined the housekeeper. If the last reference was the housekeeper's own
  // (close() called from a callback running on it), this runs on that thread: let it finish.
  if (housekeeper_.joinable()) {
    if (housekeeper_.get_id() == std::this_thread::get_id()) {
      housekeeper_.detach();
    } else {
      housekeeper_.join();
    }
  }
}

PoolStats PoolState::stats() const {
  Lock lock(mutex_);
  PoolStats out = counters_;
  out.total = open_;
  out.idle = idle_.size();
  out.active = active_;
  out.waiting = waiters_.size() + open_jobs_.size();
  return out;
}

bool PoolState::is_ready(const PoolEntry& entry, CoarseClock::time_point now) const noexcept {
  return now - entry.last_used < limits_.validation && !is_retired(entry, now);
}

bool PoolState::is_retired(const PoolEntry& entry, CoarseClock::time_point now) const noexcept {
  return now >= entry.retire_at;
}

void PoolState::lease_out(PoolEntry* entry, CoarseClock::time_point now,
                          std::source_location where) {
  entry->status = PoolEntry::Status::leased;
  entry->leased_at = now;
  entry->acquired_at = where;
  entry->leak_reported = false;
  ++active_;
  ++counters_.acquired;
}

PoolEntry* PoolState::reserve_slot() noexcept {
  if (free_.empty()) return nullptr;
  PoolEntry* slot = free_.back();
  free_.pop_back();
  slot->status = PoolEntry::Status::opening;
  return slot;
}

void PoolState::install(PoolEntry* slot, std::unique_ptr<Connection> connection,
                        CoarseClock::time_point now) {
  slot->connection = std::move(connection);
  slot->retire_at = retire_time(now);
  slot->last_used = now;
  ++open_;
  ++counters_.created;
}

std::unique_ptr<Connection> PoolState::take_connection(PoolEntry* entry) noexcept {
  --open_;
  ++counters_.destroyed;
  return std::move(entry->connection);
}

std::unique_ptr<Connection> PoolState::discard(PoolEntry* entry) noexcept {
  auto connection = take_connection(entry);
  free_slot(entry);
  return connection;
}

void PoolState::free_slot(PoolEntry* slot) noexcept {
  slot->status = PoolEntry::Status::free;
  free_.push_back(slot);  // never reallocates: reserved for max_size
  grant_waiters();
  notify_if_drained();
}

// Capacity came back while callers wait: the oldest ones get the slots to open into, so no
// waiter sits out its timeout while the pool is below max_size.
void PoolState::grant_waiters() noexcept {
  while (!waiters_.empty() && !free_.empty()) {
    Waiter* waiter = waiters_.pop_front();
    waiter->entry = reserve_slot();
    waiter->outcome = WaitOutcome::open_slot;
    if (waiter->is_async()) {
      open_jobs_.push_back(waiter);
      housekeeper_wakeup_.notify_one();
    } else {
      waiter->wakeup->notify_one();
    }
  }
}

void PoolState::give_back(PoolEntry* entry, CoarseClock::time_point now, WaiterList& completed) {
  if (!waiters_.empty()) {
    hand_off(entry, now, completed);
    return;
  }
  entry->status = PoolEntry::Status::idle;
  entry->last_used = now;
  idle_.push_back(entry);
}

// Direct hand-off to the oldest waiter: the connection never becomes idle, so a newcomer
// cannot barge in between the release and the waiter waking up.
void PoolState::hand_off(PoolEntry* entry, CoarseClock::time_point now, WaiterList& completed) {
  Waiter* waiter = waiters_.pop_front();
  lease_out(entry, now, waiter->where);
  record_wait(waiter->since);
  waiter->entry = entry;
  waiter->outcome = WaitOutcome::leased;
  if (waiter->is_async()) {
    waiter->lease = Lease(this, entry, entry->connection.get());
    completed.push_back(waiter);
  } else {
    waiter->wakeup->notify_one();
  }
}

void PoolState::record_wait(SteadyClock::time_point since) noexcept {
  const auto waited =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - since);
  const auto bucket =
      std::lower_bound(acquire_wait_bounds.begin(), acquire_wait_bounds.end(), waited) -
      acquire_wait_bounds.begin();
  ++counters_.acquire_wait[static_cast<std::size_t>(bucket)];
  counters_.acquire_wait_sum += waited;
}

void PoolState::notify_if_drained() noexcept {
  if (closed_ && free_.size() == settings_.max_size) drained_.notify_all();
}

// HikariCP's trick: take up to 2.5% off each connection's lifetime so connections opened
// together are not all retired (and reopened) in the same instant.
CoarseClock::time_point PoolState::retire_time(CoarseClock::time_point now) noexcept {
  if (limits_.max_lifetime.count() == 0) return CoarseClock::time_point::max();
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const auto span = static_cast<std::uint64_t>(limits_.max_lifetime.count() / 40) + 1;
  const auto jitter = CoarseClock::duration(static_cast<std::int64_t>(jitter_state_ % span));
  return now + limits_.max_lifetime - jitter;
}

std::exception_ptr PoolState::closed_error() const {
  return std::make_exception_ptr(
      PoolClosed(fmt::format("pool '{}' is closed", settings_.name), {.host = description_}));
}

void PoolState::throw_closed() const { std::rethrow_exception(closed_error()); }

// Outside the lock: the factory may take up to the connect timeout.
std::unique_ptr<Connection> PoolState::open_connection() {
  auto connection = factory_();
  if (connection == nullptr) {
    throw ConnectionError(
        fmt::format("pool '{}': the connection factory returned no connection", settings_.name),
        {.host = description_});
  }
  return connection;
}

void validate_settings(const PoolSettings& s) {
  auto fail = [&](std::string what) {
    throw ConfigError(fmt::format("pool '{}': {}", s.name, what));
  };
  if (s.max_size == 0) fail("max_size must be at least 1");
  if (s.min_idle > s.max_size) {
    fail(fmt::format("min_idle ({}) exceeds max_size ({}); lower min_idle or raise max_size",
                     s.min_idle, s.max_size));
  }
  const std::pair<const char*, std::chrono::milliseconds> durations[] = {
      {"acquire_timeout", s.acquire_timeout},
      {"idle_timeout", s.idle_timeout},
      {"max_lifetime", s.max_lifetime},
      {"validation_threshold", s.validation_threshold},
      {"leak_detection_threshold", s.leak_detection_threshold},
      {"housekeeping_period", s.housekeeping_period}};
  for (const auto& [name, value] : durations) {
    if (value.count() < 0) fail(fmt::format("{} must not be negative", name));
  }
  if (s.housekeeping_period.count() == 0) fail("housekeeping_period must be positive");
}

}  // namespace nexdb::detail
