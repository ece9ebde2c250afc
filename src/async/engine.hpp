// The async layer over one ConnectionPool: where each call runs (a shared lane, a connection of
// its own, or the caller's session), deadlines and cancellation, connection acquisition through
// the pool's async waiters, and the threads for blocking work. State lives on one strand.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "async/job.hpp"
#include "nexdb/async.hpp"

namespace nexdb::detail {

class AsyncSession;

/// A pending acquisition from the pool (the pool's waiter ticket and our timeout).
struct AcquireOp {
  explicit AcquireOp(const asio::any_io_executor& executor) : timer(executor) {}
  std::uint64_t ticket = 0;
  bool done = false;
  asio::steady_timer timer;
  std::function<void(Lease, std::exception_ptr)> on_done;
};

class AsyncEngine : public std::enable_shared_from_this<AsyncEngine> {
 public:
  using Strand = asio::strand<asio::any_io_executor>;

  AsyncEngine(asio::any_io_executor executor, ConnectionPool& pool, AsyncSettings settings,
              std::shared_ptr<void> owner);
  ~AsyncEngine();
  AsyncEngine(const AsyncEngine&) = delete;
  AsyncEngine& operator=(const AsyncEngine&) = delete;

  // --- from any thread -------------------------------------------------------------------
  /// Starts `job`: on `session` when given, else on a lane when it may, else on a connection of
  /// its own (kept in job->held when job->hold is set, closed after the job otherwise).
  void submit(JobPtr job, std::shared_ptr<AsyncSession> session = nullptr);
  /// The caller of `job` cancelled it (its cancellation slot fired).
  void cancel(std::weak_ptr<Job> job);
  /// Gives a session's connection back (after rolling back a transaction left open).
  void close(std::shared_ptr<AsyncSession> session);
  AsyncStats stats() const;

  const asio::any_io_executor& executor() const noexcept { return executor_; }
  const AsyncSettings& settings() const noexcept { return settings_; }
  Dialect dialect() const noexcept { return dialect_; }
  const std::string& description() const noexcept { return pool_.description(); }
  ConnectionPool& pool() const noexcept { return pool_; }

  // --- on the strand (sessions call these) ------------------------------------------------
  const Strand& strand() const noexcept { return strand_; }
  /// Ends `job` (once): records `error` if it has none, counts it, resumes its caller.
  void finish(const JobPtr& job, std::exception_ptr error = nullptr);
  /// A session has nothing in flight.
  void session_idle(AsyncSession& session);
  /// Runs `work` on a blocking thread, then `then` on the strand. The engine's executor counts
  /// it as outstanding work meanwhile, so io_context::run() does not return (and the context
  /// is not destroyed) before `then` has run. `work` must not own the engine.
  template <class Work, class Then>
  void offload(Work work, Then then) {
    auto tracked = asio::prefer(strand_, asio::execution::outstanding_work.tracked);
    asio::post(blocking(), [work = std::move(work), then = std::move(then),
                            tracked = std::move(tracked)]() mutable {
      work();
      asio::post(tracked, std::move(then));
    });
  }
  void count_cancel_request();
  void count_discarded();

 private:
  asio::thread_pool& blocking();
  void begin(const JobPtr& job);
  void expire(const JobPtr& job);
  void stop(const JobPtr& job);
  void to_lane(const JobPtr& job);
  bool is_plain_read(const std::string& sql);
  void to_dedicated(const JobPtr& job);
  void run_on(const std::shared_ptr<AsyncSession>& session, const JobPtr& job);
  AsyncSession* least_busy_lane();
  void open_lane();
  void lane_opened(Lease lease, std::exception_ptr error);
  void drop_lane(AsyncSession& session);
  std::shared_ptr<AcquireOp> acquire(std::function<void(Lease, std::exception_ptr)> on_done);
  void acquired(AcquireOp& op, Lease lease, std::exception_ptr error);
  void acquire_expired(AcquireOp& op);
  std::shared_ptr<AsyncSession> start_session(Lease lease, std::exception_ptr& error);

  asio::any_io_executor executor_;
  Strand strand_;
  ConnectionPool& pool_;
  const AsyncSettings settings_;
  const std::shared_ptr<void> owner_;  // keeps the pool's owner (a Database) alive
  Dialect dialect_;
  std::unique_ptr<asio::thread_pool> blocking_;

  std::vector<std::shared_ptr<AsyncSession>> lanes_;
  std::size_t lanes_opening_ = 0;
  std::deque<JobPtr> lane_waiters_;  // lane-eligible jobs that arrived before any lane existed
  std::unordered_map<std::string, bool> reads_;  // classify_sql() verdicts by SQL text

  mutable std::mutex stats_mutex_;
  AsyncStats stats_;
};

/// Whether a statement may share a connection with other callers' statements (implicit
/// batching): a single statement whose first keyword cannot leave session state behind.
bool lane_safe(std::string_view sql) noexcept;

}  // namespace nexdb::detail
