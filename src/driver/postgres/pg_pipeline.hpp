// Non-blocking, pipelined use of one PostgreSQL connection (libpq pipeline mode): statements go
// into libpq's output buffer without waiting for earlier results, and results are read back in
// order as they arrive. Nothing here waits on the socket; the async layer (src/async) does, with
// Asio. The connection's statement cache is shared with the blocking API.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "driver/postgres/pg_connection.hpp"

namespace nexdb::detail {

/// One finished statement or sync, reported in the order it was queued.
struct PipelineEvent {
  enum class Kind : std::uint8_t { rows, error, sync };
  Kind kind = Kind::rows;
  void* tag = nullptr;    // as given to send() / sync()
  std::size_t index = 0;  // as given to send()
  Rows rows{};
  std::exception_ptr error{};
  /// Not run: an earlier statement before the same sync failed.
  bool aborted = false;
  /// 0A000 ("cached plan must not change result type") after DDL: the statement's cache entry is
  /// gone, so running it again prepares it afresh.
  bool stale_plan = false;
  /// Sync: the transaction status the server reported with it.
  TransactionStatus status = TransactionStatus::unknown;
};

/// A cancel request for whatever runs on a connection, sent from any thread.
class PgCanceller {
 public:
  explicit PgCanceller(PGconn* conn) noexcept : cancel_(PQgetCancel(conn)) {}
  ~PgCanceller();
  PgCanceller(const PgCanceller&) = delete;
  PgCanceller& operator=(const PgCanceller&) = delete;
  /// Blocks for one round trip on a new connection to the server (libpq 15 has no other way);
  /// when it returns true, the server has signalled the backend. False with `error` set otherwise.
  bool cancel(std::string& error) noexcept;

 private:
  PGcancel* cancel_;
};

class PgPipeline {
 public:
  PgPipeline(PgConnection& connection, std::shared_ptr<StatementObserver> observer);
  /// Leaves pipeline mode when it can (see leave()).
  ~PgPipeline();
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  /// Non-blocking pipeline mode. ConnectionLost when the connection is broken.
  void enter();
  /// Back to blocking, non-pipelined use (the sync API). False, changing nothing, while results
  /// are pending or when the connection broke (the pool then discards it).
  bool leave() noexcept;
  /// Before the connection goes back to the pool: leave(), or mark the connection unusable
  /// when that is not possible. Touches the connection no more afterwards.
  void abandon() noexcept;

  int socket() const noexcept { return PQsocket(pg_); }
  /// Queues one statement. A cached statement is prepared on first use (parse, describe and run
  /// go out together) and reused after; an uncached one uses the unnamed statement.
  void send(const Statement& statement, bool cached, void* tag, std::size_t index);
  /// Ends a segment: statements since the previous sync run as one implicit transaction (or
  /// inside the open one). Its event carries `tag`.
  void sync(void* tag);
  /// Writes what libpq has buffered: true when all of it is out, false when the socket is full
  /// (wait until it is writable and call again). A failed write breaks the pipeline.
  bool flush();
  /// Takes in what the server sent and appends an event for each finished statement and sync.
  /// Once broken, every remaining item is reported (statements as ConnectionLost).
  void read(std::vector<PipelineEvent>& out);

  /// Items queued whose results have not been read.
  std::size_t pending() const noexcept { return expected_.size(); }
  bool broken() const noexcept { return broken_; }
  /// Marks the connection unusable (the pool discards it) and fails what is pending.
  void poison() noexcept;
  std::unique_ptr<PgCanceller> canceller() const { return std::make_unique<PgCanceller>(pg_); }
  const std::string& description() const noexcept { return connection_.description(); }

 private:
  using Clock = std::chrono::steady_clock;
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;
  struct Expected {
    enum class Kind : std::uint8_t { prepare, describe, execute, sync, discard };
    Kind kind = Kind::execute;
    void* tag = nullptr;
    std::size_t index = 0;
    const std::string* sql = nullptr;  // the caller's statement: alive until its sync event
    PgConnection::PreparedPtr prepared{};
    ResultPtr result{nullptr, &PQclear};
    Clock::time_point sent{};
  };

  PgConnection::PreparedPtr prepared_for(const std::string& sql);
  void send_deallocations();
  void push(Expected item) { expected_.push_back(std::move(item)); }
  void check_sent(int ok) noexcept;
  void take(PGresult* raw, std::vector<PipelineEvent>& out);
  void finish(Expected& item, std::vector<PipelineEvent>& out);
  void finish_prepare(Expected& item);
  void finish_execute(Expected& item, std::vector<PipelineEvent>& out);
  void forget(const Expected& item);
  void fail_remaining(std::vector<PipelineEvent>& out);
  void notify(const Expected& item, const PipelineEvent& event) noexcept;

  PgConnection& connection_;
  PGconn* pg_;
  std::shared_ptr<StatementObserver> observer_;
  std::deque<Expected> expected_;
  std::vector<std::string> deallocate_;  // evicted statement names, freed after the next sync
  bool entered_ = false;
  bool broken_ = false;
};

}  // namespace nexdb::detail
