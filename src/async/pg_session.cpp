#include "async/pg_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "async/engine.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {

using Descriptor = asio::posix::stream_descriptor;

// Reads gathered under one Sync at most: bounds the latency a group adds and what libpq buffers.
constexpr std::size_t kMaxGroup = 256;

PgSession::PgSession(std::shared_ptr<AsyncEngine> engine, Lease lease, PgConnection& connection,
                     std::shared_ptr<StatementObserver> observer)
    : AsyncSession(std::move(engine), std::move(lease)),
      pipeline_(connection, std::move(observer)),
      socket_(engine_->strand()),
      grace_(engine_->strand()) {}

// Asio watches a duplicate of libpq's socket: when libpq closes its own (a broken connection),
// the duplicate keeps the epoll registration valid until we close it ourselves.
void PgSession::start() {
  pipeline_.enter();
  const int fd = ::dup(pipeline_.socket());
  if (fd < 0) {
    throw ConnectionError(fmt::format("could not watch the socket of the connection to {}: {}",
                                      description(), std::strerror(errno)),
                          {.host = description()});
  }
  asio::error_code ec;
  socket_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    throw ConnectionError(fmt::format("could not watch the socket of the connection to {}: {}",
                                      description(), ec.message()),
                          {.host = description()});
  }
}

std::size_t PgSession::in_flight() const noexcept {
  // A cancel request still on its way keeps the connection: the next user's statement could
  // otherwise be the one it cancels.
  const bool cancel_pending = cancel_in_flight_ && !pipeline_.broken();
  return sent_.size() + held_.size() + (cancel_pending ? 1 : 0);
}

void PgSession::submit(JobPtr job) {
  job->session = weak_from_this();
  if (cancel_in_flight_ || !held_.empty()) {
    held_.push_back(std::move(job));
    return;
  }
  if (job->groupable) {
    send_grouped(job);
    return;
  }
  close_group();
  send(job);
  pump();
}

// Reads sent in the same turn of the event loop share one Sync: one implicit transaction, one
// flush of the results by the server and one write by us, instead of one each. A read cannot be
// harmed by another one's failure: those before it have their rows, those after it are aborted
// unrun and sent again on their own (finish_or_resend()).
void PgSession::send_grouped(const JobPtr& job) {
  sent_.push_back(job);
  pipeline_.send(job->statements.front(), job->cached, job.get(), 0);
  group_last_ = job.get();
  if (group_size_++ == 0) {
    asio::post(engine_->strand(), [self = self()] {
      self->close_group();
      self->pump();
    });
  } else if (group_size_ >= kMaxGroup) {
    close_group();
    pump();
  }
}

void PgSession::close_group() {
  if (group_size_ == 0) return;
  pipeline_.sync(group_last_);
  group_last_ = nullptr;
  group_size_ = 0;
}

void PgSession::send(const JobPtr& job) {
  sent_.push_back(job);
  const std::size_t n = job->statements.size();
  for (std::size_t i = 0; i < n; ++i) {
    pipeline_.send(job->statements[i], job->cached, job.get(), i);
    if (job->sync_each && i + 1 < n) pipeline_.sync(nullptr);  // not reported: the job goes on
  }
  pipeline_.sync(job.get());
}

// Writes what libpq buffered and watches the socket: for writing while output is left, for
// reading while results are due (always both when needed: the server may block on its output
// while we block on ours).
void PgSession::pump() {
  if (!pipeline_.broken() && !pipeline_.flush() && !writing_) {
    writing_ = true;
    socket_.async_wait(Descriptor::wait_write, [self = self()](const asio::error_code& ec) {
      self->writing_ = false;
      if (ec == asio::error::operation_aborted) return;
      if (ec) self->pipeline_.poison();
      self->pump();
      self->check_idle();
    });
  }
  if (pipeline_.broken()) {
    if (pipeline_.pending() > 0) process();
    return;
  }
  if (pipeline_.pending() > 0 && !reading_) {
    reading_ = true;
    socket_.async_wait(Descriptor::wait_read, [self = self()](const asio::error_code& ec) {
      self->reading_ = false;
      if (ec == asio::error::operation_aborted) return;
      if (ec) self->pipeline_.poison();
      self->process();
    });
  }
}

void PgSession::process() {
  std::vector<PipelineEvent> events;
  pipeline_.read(events);
  for (PipelineEvent& event : events) handle(event);
  pump();
  check_idle();
}

// Results come in the order the jobs were sent; a job of a read group may be a few places
// behind the front (the front ones have their rows and wait for the group's Sync).
Job* PgSession::find_sent(const void* tag) const noexcept {
  for (const JobPtr& job : sent_) {
    if (job.get() == tag) return job.get();
  }
  return nullptr;
}

// A sync ends every job sent up to the one it carries.
void PgSession::handle(PipelineEvent& event) {
  Job* job = find_sent(event.tag);
  if (job == nullptr) {
    spdlog::error("nexdb async: a pipeline result on {} matched no call; dropped", description());
    return;
  }
  switch (event.kind) {
    case PipelineEvent::Kind::rows:
      job->results[event.index] = std::move(event.rows);
      break;
    case PipelineEvent::Kind::error:
      job->fail(event.index, std::move(event.error), event.aborted);
      job->stale_plan = job->stale_plan || event.stale_plan;
      break;
    case PipelineEvent::Kind::sync:
      status_ = event.status;
      for (bool last = false; !last;) {
        JobPtr done = std::move(sent_.front());
        sent_.pop_front();
        last = done.get() == job;
        done->status_after = event.status;
        synced(done);
      }
      break;
  }
}

void PgSession::synced(const JobPtr& job) {
  if (job == cancelling_) {
    cancelling_.reset();
    if (!cancel_in_flight_) grace_.cancel();
  }
  // A grouped read aborted by another read's failure never ran: it goes again, on its own.
  if (job->groupable && job->error_is_abort && !job->finished) {
    job->groupable = false;
    job->reset_outcome();
    send(job);
    return;
  }
  // After DDL a cached plan may no longer fit (0A000). Its cache entry is gone; a lone
  // statement outside a transaction did nothing, so it is safe to run it once more, as the
  // blocking driver does.
  const bool rerun = job->stale_plan && !job->retried && job->statements.size() == 1 &&
                     status_ == TransactionStatus::idle && !job->timed_out && !job->cancelled;
  if (rerun && !job->finished) {
    job->retried = true;
    job->reset_outcome();
    send(job);
    return;
  }
  if (job->stale_plan && status_ != TransactionStatus::idle) {
    // As the blocking driver says it: the server aborted the transaction; running it again works.
    job->stop_with(std::make_exception_ptr(RetryableError(
        "the result type of a prepared statement changed since it was prepared (the table was "
        "altered by another process); the server aborted the transaction. Run the transaction "
        "again: the statement is re-prepared on its next use",
        {.sqlstate = "0A000", .host = description(), .statement = job->statements.front().sql})));
  }
  engine_->finish(job);
  if (!sent_.empty() && !cancelling_ && !cancel_in_flight_) {
    const JobPtr& front = sent_.front();
    if ((front->timed_out || front->cancelled) && !front->finished) send_cancel(front);
  }
}

// Only the job at the front of the pipeline is running on the server; one further back is
// cancelled when it gets there (synced() above). A cancel request is never sent while another
// is on its way.
void PgSession::cancel(const JobPtr& job) {
  if (auto held = std::find(held_.begin(), held_.end(), job); held != held_.end()) {
    held_.erase(held);
    job->stop_with(stopped_error(*job, " (before it was sent)"));
    engine_->finish(job);
    check_idle();
    return;
  }
  if (sent_.empty() || sent_.front() != job || cancelling_ || cancel_in_flight_) return;
  send_cancel(job);
}

// PQcancel blocks for a round trip on a new connection, so it runs on a blocking thread. Nothing
// new is sent on this connection until it returns: by then the server has signalled the
// backend, so the signal cannot hit a later statement.
void PgSession::send_cancel(const JobPtr& job) {
  cancelling_ = job;
  cancel_in_flight_ = true;
  engine_->count_cancel_request();
  auto outcome = std::make_shared<std::pair<bool, std::string>>();
  engine_->offload(
      [outcome, canceller = std::shared_ptr<PgCanceller>(pipeline_.canceller())] {
        outcome->first = canceller->cancel(outcome->second);
      },
      [self = self(), outcome] { self->cancel_sent(outcome->first, outcome->second); });
  grace_.expires_after(engine_->settings().cancel_grace);
  grace_.async_wait([self = self()](const asio::error_code& ec) {
    if (!ec) self->grace_expired();
  });
}

void PgSession::cancel_sent(bool ok, const std::string& error) {
  cancel_in_flight_ = false;
  if (!ok) spdlog::warn("nexdb async: the cancel request to {} failed: {}", description(), error);
  if (!cancelling_) grace_.cancel();  // the cancelled call has already finished
  send_held();
  check_idle();
}

void PgSession::send_held() {
  if (held_.empty() || pipeline_.broken()) return;
  for (JobPtr& job : std::exchange(held_, {})) send(job);
  pump();
}

// The server did not end the cancelled statement in time: the connection is closed rather than
// handed to someone who would wait behind it.
void PgSession::grace_expired() {
  if (!cancelling_ || cancelling_->finished) return;
  cancelling_->stop_with(
      stopped_error(*cancelling_,
                    "; the server did not end the cancelled statement within cancel_grace, so "
                    "its connection was closed"));
  engine_->count_discarded();
  pipeline_.poison();
  for (JobPtr& job : std::exchange(held_, {})) {
    engine_->finish(job, std::make_exception_ptr(ConnectionLost(
                             fmt::format("not sent: the connection to {} was closed because a "
                                         "cancelled statement did not end in time",
                                         description()),
                             {.host = description()})));
  }
  process();  // every call still in the pipeline fails with ConnectionLost
}

void PgSession::release() {
  grace_.cancel();
  pipeline_.abandon();
  asio::error_code ignored;
  socket_.close(ignored);
  lease_.release();
}

}  // namespace nexdb::detail
