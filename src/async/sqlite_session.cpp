#include "async/sqlite_session.hpp"

#include <algorithm>

#include "async/engine.hpp"
#include "driver/sqlite/sqlite_connection.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {

SqliteSession::SqliteSession(std::shared_ptr<AsyncEngine> engine, Lease lease,
                             SqliteConnection& connection)
    : AsyncSession(std::move(engine), std::move(lease)), sqlite_(connection) {}

void SqliteSession::submit(JobPtr job) {
  job->session = weak_from_this();
  queue_.push_back(std::move(job));
  if (!running_) run_next();
}

void SqliteSession::run_next() {
  if (queue_.empty()) {
    check_idle();
    return;
  }
  running_ = std::move(queue_.front());
  queue_.pop_front();
  interrupt_ = std::make_shared<Interrupt>();
  Connection& connection = *lease_;  // stays leased until the continuation has run
  engine_->offload(
      [&connection, job = running_, interrupt = interrupt_] { run(connection, *job, *interrupt); },
      [self = self(), job = running_] { self->ran(job); });
}

// On a blocking thread. A pipeline outside a transaction runs as one, as PostgreSQL runs it.
void SqliteSession::run(Connection& connection, Job& job, Interrupt& interrupt) {
  const bool wrap = job.atomic && job.statements.size() > 1 &&
                    connection.transaction_status() == TransactionStatus::idle;
  try {
    if (wrap) connection.execute_script("BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < job.statements.size() && !job.error; ++i) {
      {
        std::lock_guard lock(interrupt.mutex);
        if (interrupt.stop) {
          interrupt.stopped_early = true;
          break;
        }
        interrupt.running = true;
      }
      try {
        job.results[i] = connection.execute(job.statements[i]);
      } catch (...) {
        job.fail(i, std::current_exception(), false);
      }
      std::lock_guard lock(interrupt.mutex);
      interrupt.running = false;
    }
    if (wrap) connection.execute_script(job.error ? "ROLLBACK" : "COMMIT");
  } catch (...) {
    job.fail(Job::npos, std::current_exception(), false);
  }
  job.status_after = connection.transaction_status();
}

void SqliteSession::ran(const JobPtr& job) {
  bool stopped_early = false;
  {
    std::lock_guard lock(interrupt_->mutex);
    stopped_early = interrupt_->stopped_early;
  }
  running_.reset();
  interrupt_.reset();
  status_ = job->status_after;
  if (stopped_early && !job->error) job->stop_with(stopped_error(*job, " (before it ran)"));
  engine_->finish(job);
  run_next();
}

void SqliteSession::cancel(const JobPtr& job) {
  if (auto queued = std::find(queue_.begin(), queue_.end(), job); queued != queue_.end()) {
    queue_.erase(queued);
    job->stop_with(stopped_error(*job, " (before it ran)"));
    engine_->finish(job);
    check_idle();
    return;
  }
  if (job != running_ || !interrupt_) return;
  std::lock_guard lock(interrupt_->mutex);
  interrupt_->stop = true;
  if (interrupt_->running) sqlite_.interrupt();
}

void SqliteSession::release() { lease_.release(); }

}  // namespace nexdb::detail
