// One async call: its statements, where it is, and what came back. Owned jointly by the awaiting
// coroutine and whatever runs it; touched only on the engine's strand until it is finished.
#pragma once

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

#include "async/completion.hpp"
#include "nexdb/async.hpp"

namespace nexdb::detail {

class AsyncSession;
struct AcquireOp;
using SteadyClock = std::chrono::steady_clock;

struct Job {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::vector<Statement> statements{};
  /// Through the connection's statement cache (false: transaction control, run unnamed).
  bool cached = true;
  /// Reported as PipelineError with the failed index (Pipeline::async_run).
  bool pipeline = false;
  /// Outside a transaction, run the statements as one transaction (SQLite pipelines).
  bool atomic = false;
  /// A sync after every statement: each its own implicit transaction (a write, then the WAL
  /// position after its commit), still one round trip.
  bool sync_each = false;
  /// A COMMIT: refused (rolled back instead) when the transaction already failed.
  bool commit = false;
  bool lane_eligible = false;
  /// A lone read on a lane: may share one implicit transaction (one Sync) with other callers'
  /// reads sent in the same turn of the event loop. Set on the strand.
  bool groupable = false;
  /// Keep the connection for the caller in `held` (async_acquire, async_begin) instead of
  /// giving it back after the statements.
  bool hold = false;
  /// Started by nexdb itself (rolling back an abandoned transaction): not counted in stats.
  bool internal = false;
  std::chrono::milliseconds timeout{0};
  SteadyClock::time_point deadline = SteadyClock::time_point::max();

  // Outcome.
  std::vector<Rows> results{};
  std::exception_ptr error{};
  std::size_t failed_index = npos;
  bool error_is_abort = false;  // `error` only says "not run"; a real failure replaces it
  bool stopped = false;         // `error` is our deadline / cancellation error: final
  bool stale_plan = false;      // failed with 0A000 after DDL; a single statement is rerun once
  bool retried = false;
  bool commit_refused = false;
  TransactionStatus status_after = TransactionStatus::unknown;

  // Where it is.
  bool finished = false;
  bool timed_out = false;
  bool cancelled = false;
  std::weak_ptr<AsyncSession> session{};
  std::shared_ptr<AcquireOp> acquiring{};
  std::shared_ptr<AsyncSession> held{};
  std::unique_ptr<asio::steady_timer> timer{};
  Completion done{};

  /// Records statement `index`'s failure unless an earlier, more telling one is recorded.
  void fail(std::size_t index, std::exception_ptr failure, bool abort_only) {
    if (error && !(error_is_abort && !abort_only)) return;
    error = std::move(failure);
    failed_index = index;
    error_is_abort = abort_only;
  }
  /// Ends it with `failure` from stopped_error(), whatever else was recorded.
  void stop_with(std::exception_ptr failure) {
    error = std::move(failure);
    failed_index = npos;
    error_is_abort = false;
    stopped = true;
  }
  /// Back to the state before it ran (a rerun after a stale plan).
  void reset_outcome() {
    results.assign(statements.size(), Rows{});
    error = nullptr;
    failed_index = npos;
    error_is_abort = false;
    stale_plan = false;
  }
};

using JobPtr = std::shared_ptr<Job>;

/// The deadline `options` set for a call starting now (time_point::max() for none).
SteadyClock::time_point deadline_of(const CallOptions& options);
/// A job for `statements` with `options`' deadline counted from now.
JobPtr make_job(std::vector<Statement> statements, CallOptions options);
/// What a job stopped by its deadline (TimeoutError, with `detail` appended) or by its caller
/// (asio's operation_aborted, as every cancelled Asio operation reports) ends with.
std::exception_ptr stopped_error(const Job& job, std::string_view detail);
/// What the caller of a finished job sees: nothing, its error, a PipelineError with the index,
/// or the deadline / cancellation error when the server cancelled it at our request.
std::exception_ptr final_error(const Job& job);

}  // namespace nexdb::detail
