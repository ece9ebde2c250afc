#include "async/engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>

#include <algorithm>

#include "async/session.hpp"
#include "nexdb/error.hpp"
#include "nexdb/replica.hpp"

namespace nexdb::detail {
namespace {

AsyncSettings validated(AsyncSettings settings) {
  if (settings.max_lanes == 0 || settings.lane_depth == 0) {
    throw ConfigError(
        "AsyncSettings: max_lanes and lane_depth must be at least 1 (turn "
        "implicit_batching off instead)");
  }
  if (settings.blocking_threads == 0) {
    throw ConfigError("AsyncSettings: blocking_threads must be at least 1");
  }
  if (settings.cancel_grace.count() < 0) {
    throw ConfigError("AsyncSettings: cancel_grace must not be negative");
  }
  return settings;
}

// Longer acquire timeouts are clamped so `now + timeout` cannot overflow (as the pool does).
std::chrono::milliseconds acquire_wait(const PoolSettings& settings) {
  return std::clamp(settings.acquire_timeout, std::chrono::milliseconds{0},
                    std::chrono::milliseconds{std::chrono::hours(24 * 365 * 10)});
}

std::exception_ptr exhausted_error(const ConnectionPool& pool) {
  const PoolStats stats = pool.stats();
  const PoolSettings& settings = pool.settings();
  return std::make_exception_ptr(PoolExhausted(
      fmt::format("pool '{}' exhausted: no connection became free within {} ms (max_size {}, "
                  "{} leased, {} other callers waiting). Raise PoolSettings::max_size or "
                  "acquire_timeout, or hold leases for less time",
                  settings.name, settings.acquire_timeout.count(), settings.max_size, stats.active,
                  stats.waiting),
      {.host = pool.description()}));
}

}  // namespace

AsyncEngine::AsyncEngine(asio::any_io_executor executor, ConnectionPool& pool,
                         AsyncSettings settings, std::shared_ptr<void> owner)
    : executor_(std::move(executor)),
      strand_(asio::make_strand(executor_)),
      pool_(pool),
      settings_(validated(settings)),
      owner_(std::move(owner)),
      dialect_(dialect_of(pool.description())) {}

AsyncEngine::~AsyncEngine() {
  // The last reference can only be dropped on a blocking thread if a continuation posted from
  // there was never run (its io_context is gone); joining would then wait for itself.
  if (blocking_ && blocking_->get_executor().running_in_this_thread()) {
    spdlog::error(
        "nexdb async: engine for {} destroyed on its own blocking thread; its threads "
        "are left to end with the process",
        description());
    static_cast<void>(blocking_.release());
  }
}

asio::thread_pool& AsyncEngine::blocking() {
  if (!blocking_) blocking_ = std::make_unique<asio::thread_pool>(settings_.blocking_threads);
  return *blocking_;
}

// --- from any thread ---------------------------------------------------------------------------

void AsyncEngine::submit(JobPtr job, std::shared_ptr<AsyncSession> session) {
  if (!session) {
    job->lane_eligible = settings_.implicit_batching && dialect_ == Dialect::postgres &&
                         !job->hold && job->timeout.count() <= 0 &&
                         !job->done.slot().is_connected() &&
                         std::all_of(job->statements.begin(), job->statements.end(),
                                     [](const Statement& s) { return lane_safe(s.sql); });
  }
  asio::dispatch(strand_,
                 [self = shared_from_this(), job = std::move(job), session = std::move(session)] {
                   self->begin(job);
                   if (session) {
                     self->run_on(session, job);
                   } else if (job->lane_eligible) {
                     self->to_lane(job);
                   } else {
                     self->to_dedicated(job);
                   }
                 });
}

void AsyncEngine::cancel(std::weak_ptr<Job> weak) {
  asio::dispatch(strand_, [self = shared_from_this(), weak = std::move(weak)] {
    JobPtr job = weak.lock();
    if (!job || job->finished || job->cancelled) return;
    job->cancelled = true;
    {
      std::lock_guard lock(self->stats_mutex_);
      ++self->stats_.cancelled;
    }
    self->stop(job);
  });
}

void AsyncEngine::close(std::shared_ptr<AsyncSession> session) {
  if (!session) return;
  asio::dispatch(strand_, [session = std::move(session)] { session->close(); });
}

AsyncStats AsyncEngine::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

// --- on the strand -----------------------------------------------------------------------------

void AsyncEngine::begin(const JobPtr& job) {
  if (!job->internal) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.in_flight;
  }
  if (job->deadline == SteadyClock::time_point::max()) return;
  job->timer = std::make_unique<asio::steady_timer>(strand_, job->deadline);
  job->timer->async_wait(
      [self = shared_from_this(), weak = std::weak_ptr<Job>(job)](const asio::error_code& ec) {
        if (ec) return;
        if (JobPtr job = weak.lock()) self->expire(job);
      });
}

void AsyncEngine::expire(const JobPtr& job) {
  if (job->finished || job->timed_out) return;
  job->timed_out = true;
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.timeouts;
  }
  stop(job);
}

// Still waiting for a connection: leave the pool's queue. Running: the session cancels it on
// the server. (Lane jobs have neither a deadline nor a cancellation slot.)
void AsyncEngine::stop(const JobPtr& job) {
  if (job->finished) return;
  if (const auto op = job->acquiring) {
    if (!op->done &&
        (job->timed_out ? pool_.expire_waiter(op->ticket) : pool_.cancel_waiter(op->ticket))) {
      op->done = true;
      op->timer.cancel();
      job->stop_with(stopped_error(*job, " (waiting for a connection)"));
      finish(job);
    }
    return;  // otherwise the connection is on its way and acquired() stops the job
  }
  if (auto session = job->session.lock()) session->cancel(job);
}

void AsyncEngine::finish(const JobPtr& job, std::exception_ptr error) {
  if (job->finished) return;
  job->finished = true;
  job->acquiring.reset();
  if (job->timer) {
    job->timer->cancel();
    job->timer.reset();
  }
  if (error) job->fail(Job::npos, std::move(error), false);
  std::exception_ptr outcome = final_error(*job);
  if (outcome && job->held) {
    job->held->close();
    job->held.reset();
  }
  if (!job->internal) {
    std::lock_guard lock(stats_mutex_);
    --stats_.in_flight;
    ++stats_.calls;
  }
  if (job->done) job->done(outcome);
}

void AsyncEngine::run_on(const std::shared_ptr<AsyncSession>& session, const JobPtr& job) {
  if (session->closing()) {
    finish(job, std::make_exception_ptr(UsageError(
                    "the connection of this lease or transaction was already given back")));
    return;
  }
  if (job->commit && session->status() == TransactionStatus::failed) {
    job->statements = end_statements(dialect_, true, /*commit=*/false);
    job->results.assign(job->statements.size(), Rows{});
    job->cached = false;
    job->commit_refused = true;
  }
  session->submit(job);
}

void AsyncEngine::to_dedicated(const JobPtr& job) {
  if (!job->internal) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.dedicated;
  }
  job->acquiring = acquire([self = shared_from_this(), job](Lease lease, std::exception_ptr error) {
    job->acquiring.reset();
    if (job->finished) return;  // the lease goes straight back
    if (!error && (job->timed_out || job->cancelled)) {
      job->stop_with(stopped_error(*job, " (waiting for a connection)"));
      self->finish(job);
      return;
    }
    std::shared_ptr<AsyncSession> session;
    if (!error) session = self->start_session(std::move(lease), error);
    if (!session) {
      self->finish(job, error);
      return;
    }
    if (job->hold) job->held = session;
    if (job->statements.empty()) {
      self->finish(job);
    } else {
      session->submit(job);
    }
    if (!job->hold) session->close();  // once the job is done
  });
}

std::shared_ptr<AsyncSession> AsyncEngine::start_session(Lease lease, std::exception_ptr& error) {
  try {
    auto session = make_session(shared_from_this(), std::move(lease));
    session->start();
    return session;
  } catch (...) {
    error = std::current_exception();
    return nullptr;
  }
}

// --- implicit batching -------------------------------------------------------------------------

AsyncSession* AsyncEngine::least_busy_lane() {
  AsyncSession* best = nullptr;
  for (const auto& lane : lanes_) {
    if (lane->broken() || lane->closing()) continue;
    if (best == nullptr || lane->in_flight() < best->in_flight()) best = lane.get();
  }
  return best;
}

// classify_sql() scans the whole text; a service runs the same few statements over and over.
bool AsyncEngine::is_plain_read(const std::string& sql) {
  if (auto it = reads_.find(sql); it != reads_.end()) return it->second;
  if (reads_.size() >= 4096) reads_.clear();
  const bool read = classify_sql(sql) == StatementKind::read;
  reads_.emplace(sql, read);
  return read;
}

void AsyncEngine::to_lane(const JobPtr& job) {
  job->groupable =
      job->statements.size() == 1 && !job->sync_each && is_plain_read(job->statements.front().sql);
  AsyncSession* lane = least_busy_lane();
  const bool saturated = lane == nullptr || lane->in_flight() >= settings_.lane_depth;
  if (saturated && lanes_.size() + lanes_opening_ < settings_.max_lanes) open_lane();
  // Rather than pile onto a saturated lane, wait for the lanes being opened (each takes its share
  // of the waiters when it arrives) — up to a lane's worth of calls for each.
  const bool wait = saturated && lane_waiters_.size() < lanes_opening_ * settings_.lane_depth;
  if (lane == nullptr || wait) {
    lane_waiters_.push_back(job);
    return;
  }
  lane->submit(job);
  std::lock_guard lock(stats_mutex_);
  ++stats_.pipelined;
  stats_.max_lane_depth = std::max(stats_.max_lane_depth, lane->in_flight());
}

void AsyncEngine::open_lane() {
  ++lanes_opening_;
  acquire([self = shared_from_this()](Lease lease, std::exception_ptr error) {
    self->lane_opened(std::move(lease), error);
  });
}

void AsyncEngine::lane_opened(Lease lease, std::exception_ptr error) {
  --lanes_opening_;
  std::shared_ptr<AsyncSession> lane;
  if (!error) lane = start_session(std::move(lease), error);
  if (!lane) {
    // With no lane open or opening, nothing will serve the waiters: they get the error.
    auto waiters = std::exchange(lane_waiters_, {});
    for (const JobPtr& job : waiters) {
      if (!lanes_.empty()) {
        to_lane(job);
      } else if (lanes_opening_ > 0) {
        lane_waiters_.push_back(job);
      } else {
        finish(job, error);
      }
    }
    return;
  }
  lane->is_lane = true;
  lanes_.push_back(lane);
  {
    std::lock_guard lock(stats_mutex_);
    stats_.lanes = lanes_.size();
  }
  // Callers that arrived before any lane existed are shared with the lanes still opening, so
  // that a burst does not all land on the first connection.
  const std::size_t share = (lane_waiters_.size() + lanes_opening_) / (lanes_opening_ + 1);
  for (std::size_t i = 0; i < share && !lane_waiters_.empty(); ++i) {
    JobPtr job = std::move(lane_waiters_.front());
    lane_waiters_.pop_front();
    to_lane(job);
  }
  if (lane->in_flight() == 0) drop_lane(*lane);
}

void AsyncEngine::session_idle(AsyncSession& session) {
  if (session.is_lane && (session.broken() || lane_waiters_.empty())) drop_lane(session);
}

// An idle lane goes back to the pool at once: other callers (sync ones too) may need it, and
// taking it again from the pool's fast path is cheap.
void AsyncEngine::drop_lane(AsyncSession& session) {
  auto it = std::find_if(lanes_.begin(), lanes_.end(),
                         [&](const auto& lane) { return lane.get() == &session; });
  if (it == lanes_.end()) return;
  std::shared_ptr<AsyncSession> lane = std::move(*it);
  lanes_.erase(it);
  {
    std::lock_guard lock(stats_mutex_);
    stats_.lanes = lanes_.size();
  }
  lane->close();
  if (!lane_waiters_.empty() && lanes_.size() + lanes_opening_ < settings_.max_lanes) open_lane();
}

// --- acquisition -------------------------------------------------------------------------------

// The pool calls back inline, on a releasing thread or on its housekeeper; the result is posted
// to the strand (never run inline, so that a release inside our own code cannot re-enter it).
std::shared_ptr<AcquireOp> AsyncEngine::acquire(
    std::function<void(Lease, std::exception_ptr)> on_done) {
  auto op = std::make_shared<AcquireOp>(strand_);
  op->on_done = std::move(on_done);
  op->ticket =
      pool_.acquire_async([self = shared_from_this(), op](Lease lease, std::exception_ptr error) {
        asio::post(self->strand_, [self, op, lease = std::move(lease), error]() mutable {
          self->acquired(*op, std::move(lease), error);
        });
      });
  op->timer.expires_after(acquire_wait(pool_.settings()));
  op->timer.async_wait([self = shared_from_this(), op](const asio::error_code& ec) {
    if (!ec) self->acquire_expired(*op);
  });
  return op;
}

void AsyncEngine::acquired(AcquireOp& op, Lease lease, std::exception_ptr error) {
  if (op.done) return;  // given up on: `lease` returns to the pool
  op.done = true;
  op.timer.cancel();
  auto on_done = std::move(op.on_done);
  on_done(std::move(lease), error);
}

void AsyncEngine::acquire_expired(AcquireOp& op) {
  if (op.done || !pool_.expire_waiter(op.ticket)) return;  // else the lease is on its way
  op.done = true;
  auto on_done = std::move(op.on_done);
  on_done(Lease{}, exhausted_error(pool_));
}

void AsyncEngine::count_cancel_request() {
  std::lock_guard lock(stats_mutex_);
  ++stats_.cancel_requests;
}

void AsyncEngine::count_discarded() {
  std::lock_guard lock(stats_mutex_);
  ++stats_.connections_discarded;
}

}  // namespace nexdb::detail
