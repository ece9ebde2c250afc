// A PostgreSQL connection in pipeline mode, its socket watched by Asio on the engine's strand.
// Every job is its statements followed by one sync; many jobs may be in flight at once (a lane
// carries several callers' jobs, an AsyncLease may be used by several coroutines).
#pragma once

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <vector>

#include "async/session.hpp"
#include "driver/postgres/pg_pipeline.hpp"

namespace nexdb::detail {

class PgSession final : public AsyncSession {
 public:
  PgSession(std::shared_ptr<AsyncEngine> engine, Lease lease, PgConnection& connection,
            std::shared_ptr<StatementObserver> observer);

  void start() override;
  void submit(JobPtr job) override;
  void cancel(const JobPtr& job) override;
  bool broken() const noexcept override { return pipeline_.broken(); }
  std::size_t in_flight() const noexcept override;

 private:
  void release() override;
  void send(const JobPtr& job);
  void send_grouped(const JobPtr& job);
  void close_group();
  Job* find_sent(const void* tag) const noexcept;
  void pump();
  void process();
  void handle(PipelineEvent& event);
  void synced(const JobPtr& job);
  void send_cancel(const JobPtr& job);
  void cancel_sent(bool ok, const std::string& error);
  void grace_expired();
  void send_held();
  std::shared_ptr<PgSession> self() {
    return std::static_pointer_cast<PgSession>(shared_from_this());
  }

  PgPipeline pipeline_;
  asio::posix::stream_descriptor socket_;  // a dup of libpq's socket: closing it never races libpq
  asio::steady_timer grace_;
  std::deque<JobPtr> sent_;    // in the pipeline, in order
  std::deque<JobPtr> held_;    // not sent while a cancel request is on its way
  JobPtr cancelling_;          // the job a cancel request was sent for, until it finishes
  Job* group_last_ = nullptr;  // the last read of the group still waiting for its Sync
  std::size_t group_size_ = 0;
  bool cancel_in_flight_ = false;
  bool reading_ = false;
  bool writing_ = false;
};

}  // namespace nexdb::detail
