// A SQLite connection behind the async interface: SQLite has no async I/O, so each job runs on
// one of the engine's blocking threads, one job at a time, and its caller is resumed on its own
// executor. Deadlines interrupt the running statement (sqlite3_interrupt).
#pragma once

#include <deque>
#include <memory>
#include <mutex>

#include "async/session.hpp"

namespace nexdb::detail {

class SqliteConnection;

class SqliteSession final : public AsyncSession {
 public:
  SqliteSession(std::shared_ptr<AsyncEngine> engine, Lease lease, SqliteConnection& connection);

  void start() override {}
  void submit(JobPtr job) override;
  void cancel(const JobPtr& job) override;
  bool broken() const noexcept override { return lease_->is_broken(); }
  std::size_t in_flight() const noexcept override { return queue_.size() + (running_ ? 1 : 0); }

 private:
  /// Shared with the blocking thread running a job: whether a statement runs, and whether the
  /// job must stop before its next statement.
  struct Interrupt {
    std::mutex mutex;
    bool running = false;
    bool stop = false;
    bool stopped_early = false;  // a statement was skipped because of `stop`
  };
  void release() override;
  void run_next();
  void ran(const JobPtr& job);
  static void run(Connection& connection, Job& job, Interrupt& interrupt);
  std::shared_ptr<SqliteSession> self() {
    return std::static_pointer_cast<SqliteSession>(shared_from_this());
  }

  SqliteConnection& sqlite_;
  std::deque<JobPtr> queue_;
  JobPtr running_;
  std::shared_ptr<Interrupt> interrupt_;
};

}  // namespace nexdb::detail
