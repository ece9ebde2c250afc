// One pooled connection driven asynchronously: PostgreSQL through libpq's pipeline mode on the
// engine's strand, SQLite on the engine's blocking threads. Everything here runs on the strand.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "async/job.hpp"
#include "nexdb/pool.hpp"

namespace nexdb::detail {

class AsyncEngine;

class AsyncSession : public std::enable_shared_from_this<AsyncSession> {
 public:
  AsyncSession(std::shared_ptr<AsyncEngine> engine, Lease lease);
  virtual ~AsyncSession() = default;
  AsyncSession(const AsyncSession&) = delete;
  AsyncSession& operator=(const AsyncSession&) = delete;

  /// Prepares the connection for async use; throws what the driver reports.
  virtual void start() = 0;
  /// Runs `job` after the jobs submitted before it.
  virtual void submit(JobPtr job) = 0;
  /// `job`'s deadline passed or its caller cancelled it: stop it on the server.
  virtual void cancel(const JobPtr& job) = 0;
  virtual bool broken() const noexcept = 0;
  /// Jobs submitted and not finished.
  virtual std::size_t in_flight() const noexcept = 0;

  /// Gives the connection back to the pool once nothing is in flight, rolling back a
  /// transaction left open first.
  void close();
  bool closing() const noexcept { return closing_; }
  /// The transaction status after the last finished job.
  TransactionStatus status() const noexcept { return status_; }
  Dialect dialect() const noexcept { return dialect_; }
  const std::string& description() const noexcept { return description_; }
  bool is_lane = false;

 protected:
  /// Hands the connection back to the pool (nothing is in flight).
  virtual void release() = 0;
  /// After a job finished: releases a closing session or tells the engine it is idle.
  void check_idle();

  std::shared_ptr<AsyncEngine> engine_;
  Lease lease_;
  TransactionStatus status_ = TransactionStatus::idle;

 private:
  bool idle() const noexcept { return in_flight() == 0; }
  Dialect dialect_;
  std::string description_;
  bool closing_ = false;
  bool released_ = false;
  bool cleanup_sent_ = false;
};

/// The session for `lease`'s backend: PostgreSQL or SQLite.
std::shared_ptr<AsyncSession> make_session(std::shared_ptr<AsyncEngine> engine, Lease lease);

/// The statements that end a transaction (SQLite read-only ones also lift query_only).
std::vector<Statement> end_statements(Dialect dialect, bool read_only, bool commit);

}  // namespace nexdb::detail
