#include "driver/postgres/pg_pipeline.hpp"

#include <fmt/format.h>

#include "driver/postgres/pg_codec.hpp"
#include "driver/schema_epoch.hpp"
#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

std::exception_ptr not_run_error(const std::string& host, const std::string* sql) {
  return std::make_exception_ptr(SqlError(
      "not run: an earlier statement of the same pipeline failed, which aborted the rest of it",
      {.sqlstate = "25P02", .host = host, .statement = sql ? *sql : std::string()}));
}

}  // namespace

PgCanceller::~PgCanceller() {
  if (cancel_ != nullptr) PQfreeCancel(cancel_);
}

bool PgCanceller::cancel(std::string& error) noexcept {
  if (cancel_ == nullptr) {
    error = "libpq could not create a cancel request for this connection";
    return false;
  }
  char buffer[256] = {};
  if (PQcancel(cancel_, buffer, sizeof buffer) == 1) return true;
  error = buffer;
  return false;
}

PgPipeline::PgPipeline(PgConnection& connection, std::shared_ptr<StatementObserver> observer)
    : connection_(connection), pg_(connection.native_handle()), observer_(std::move(observer)) {}

PgPipeline::~PgPipeline() {
  // Results still on their way would confuse the next user of the connection.
  if (entered_ && !leave()) connection_.poison();
}

void PgPipeline::enter() {
  if (connection_.is_broken()) {
    std::rethrow_exception(connection_.result_error(nullptr, "(pipeline)"));
  }
  if (PQsetnonblocking(pg_, 1) != 0 || PQenterPipelineMode(pg_) != 1) {
    PQsetnonblocking(pg_, 0);
    throw UsageError(fmt::format("could not switch the connection to {} to pipeline mode (is a "
                                 "COPY or another command still running on it?)",
                                 description()),
                     {.host = description()});
  }
  entered_ = true;
}

bool PgPipeline::leave() noexcept {
  if (!entered_) return true;
  if (broken_ || !expected_.empty()) return false;
  if (PQexitPipelineMode(pg_) != 1 || PQsetnonblocking(pg_, 0) != 0) return false;
  entered_ = false;
  return true;
}

void PgPipeline::abandon() noexcept {
  if (entered_ && !leave()) poison();
  entered_ = false;
}

void PgPipeline::poison() noexcept {
  broken_ = true;
  connection_.poison();
}

void PgPipeline::check_sent(int ok) noexcept {
  if (ok == 0) poison();
}

void PgPipeline::send(const Statement& statement, bool cached, void* tag, std::size_t index) {
  PgConnection::PreparedPtr prepared;
  if (cached && connection_.cache_.enabled()) prepared = prepared_for(statement.sql);
  Expected item{.kind = Expected::Kind::execute,
                .tag = tag,
                .index = index,
                .sql = &statement.sql,
                .prepared = prepared};
  // Timed only while someone listens (a monitor may attach to the hub later).
  if (observer_ && observer_->wants_statements()) item.sent = Clock::now();
  if (!broken_) {
    const PgParams params(statement.params);
    if (prepared) {
      check_sent(PQsendQueryPrepared(pg_, prepared->name.c_str(), params.count(), params.values(),
                                     params.lengths(), params.formats(), prepared->result_format));
    } else {
      check_sent(PQsendQueryParams(pg_, statement.sql.c_str(), params.count(), params.types(),
                                   params.values(), params.lengths(), params.formats(), 0));
    }
  }
  push(std::move(item));
}

// The first run of a statement sends Parse and Describe ahead of its Execute. Its results come
// back as text (the description is not known yet when it is sent); later runs use the format
// the description allows, as the blocking driver does.
PgConnection::PreparedPtr PgPipeline::prepared_for(const std::string& sql) {
  if (auto* cached = connection_.cache_.find(sql)) {
    if ((*cached)->epoch == schema_epoch()) return *cached;
    // DDL ran in this process since it was prepared (driver/schema_epoch.hpp): prepare afresh.
    deallocate_.push_back((*cached)->name);
    connection_.cache_.erase(sql);
  }
  auto fresh = std::make_shared<PgConnection::Prepared>(
      PgConnection::Prepared{.name = connection_.next_statement_name(),
                             .epoch = schema_epoch(),
                             .changes = classify_schema_change(sql)});
  if (!broken_) check_sent(PQsendPrepare(pg_, fresh->name.c_str(), sql.c_str(), 0, nullptr));
  push({.kind = Expected::Kind::prepare, .sql = &sql, .prepared = fresh});
  if (connection_.result_format_ == ResultFormat::binary) {
    if (!broken_) check_sent(PQsendDescribePrepared(pg_, fresh->name.c_str()));
    push({.kind = Expected::Kind::describe, .sql = &sql, .prepared = fresh});
  }
  if (auto evicted = connection_.cache_.insert(sql, fresh)) {
    deallocate_.push_back((*evicted)->name);  // runs already queued still use it
  }
  return fresh;
}

void PgPipeline::sync(void* tag) {
  if (!broken_) check_sent(PQpipelineSync(pg_));
  push({.kind = Expected::Kind::sync, .tag = tag});
  if (!deallocate_.empty()) send_deallocations();
}

// After a sync, in a segment of their own, so that a failure cannot abort anyone's statements.
void PgPipeline::send_deallocations() {
  for (const std::string& name : deallocate_) {
    if (!broken_) {
      const std::string sql = fmt::format("DEALLOCATE \"{}\"", name);
      check_sent(PQsendQueryParams(pg_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
    }
    push({.kind = Expected::Kind::discard});
  }
  deallocate_.clear();
  if (!broken_) check_sent(PQpipelineSync(pg_));
  push({.kind = Expected::Kind::sync});  // no tag: not reported
}

bool PgPipeline::flush() {
  if (broken_) return true;
  const int result = PQflush(pg_);
  if (result < 0) poison();
  return result <= 0;
}

void PgPipeline::read(std::vector<PipelineEvent>& out) {
  if (!broken_ && PQconsumeInput(pg_) == 0) broken_ = true;
  while (!expected_.empty()) {
    if (broken_ || PQstatus(pg_) != CONNECTION_OK) {
      fail_remaining(out);
      return;
    }
    if (PQisBusy(pg_) != 0) return;
    take(PQgetResult(pg_), out);
  }
}

// In pipeline mode each query yields its result, then a null; a sync yields PGRES_PIPELINE_SYNC
// and no null.
void PgPipeline::take(PGresult* raw, std::vector<PipelineEvent>& out) {
  Expected& front = expected_.front();
  if (raw == nullptr) {
    if (front.kind == Expected::Kind::sync) {
      if (PQstatus(pg_) == CONNECTION_OK) poison();  // out of step with libpq: never reuse
      return;
    }
    finish(front, out);
    expected_.pop_front();
    return;
  }
  ResultPtr result(raw, &PQclear);
  if (PQresultStatus(raw) == PGRES_PIPELINE_SYNC) {
    if (front.kind != Expected::Kind::sync) {
      poison();
      return;
    }
    if (front.tag != nullptr) {
      out.push_back({.kind = PipelineEvent::Kind::sync,
                     .tag = front.tag,
                     .status = pg_transaction_status(pg_)});
    }
    expected_.pop_front();
    if (connection_.schema_change_pending_) connection_.settle_schema_change();
    return;
  }
  if (front.kind == Expected::Kind::sync) {
    poison();
    return;
  }
  if (!front.result) front.result = std::move(result);  // one result per query in a pipeline
}

void PgPipeline::finish(Expected& item, std::vector<PipelineEvent>& out) {
  switch (item.kind) {
    case Expected::Kind::prepare:
      finish_prepare(item);
      break;
    case Expected::Kind::describe:
      if (item.result && PQresultStatus(item.result.get()) == PGRES_COMMAND_OK) {
        item.prepared->result_format = pg_binary_decodable(item.result.get()) ? 1 : 0;
      }
      break;
    case Expected::Kind::execute:
      finish_execute(item, out);
      break;
    case Expected::Kind::sync:
    case Expected::Kind::discard:
      break;
  }
}

// A statement that failed to prepare leaves the cache, and runs of it already on their way
// (sent by other callers before the failure was known) report the parse error, not "prepared
// statement does not exist".
void PgPipeline::finish_prepare(Expected& item) {
  if (item.result && PQresultStatus(item.result.get()) == PGRES_COMMAND_OK) return;
  if (item.result && PQresultStatus(item.result.get()) == PGRES_FATAL_ERROR) {
    item.prepared->parse_error = connection_.result_error(item.result.get(), *item.sql);
  } else {
    item.prepared->parse_error = not_run_error(description(), item.sql);
  }
  forget(item);
}

void PgPipeline::forget(const Expected& item) {
  auto* cached = connection_.cache_.find(*item.sql);
  if (cached != nullptr && *cached == item.prepared) connection_.cache_.erase(*item.sql);
}

void PgPipeline::finish_execute(Expected& item, std::vector<PipelineEvent>& out) {
  PipelineEvent event{.kind = PipelineEvent::Kind::error, .tag = item.tag, .index = item.index};
  const PGresult* result = item.result.get();
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  const auto* prepared = item.prepared.get();
  if (result != nullptr && pg_succeeded(status)) {
    try {
      PgResultShape scratch;
      event.rows = PgConnection::to_rows(result, prepared ? item.prepared->shape : scratch);
      event.kind = PipelineEvent::Kind::rows;
      connection_.note_schema_change(prepared ? prepared->changes
                                              : classify_schema_change(*item.sql));
    } catch (...) {
      event.error = std::current_exception();
    }
  } else if (status == PGRES_PIPELINE_ABORTED) {
    event.aborted = !(prepared && prepared->parse_error);
    event.error = event.aborted ? not_run_error(description(), item.sql) : prepared->parse_error;
  } else {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view sqlstate = state ? state : "";
    if (sqlstate == "26000" && prepared && prepared->parse_error) {
      event.error = prepared->parse_error;
    } else {
      event.error = connection_.result_error(result, *item.sql);
    }
    // FATAL (57P01 admin shutdown, 08xxx): the server ends the session; nothing more will come.
    if (sqlstate.starts_with("57P") || sqlstate.starts_with("08")) poison();
    if (pg_is_stale_plan(result) && prepared) {
      event.stale_plan = true;
      forget(item);
      deallocate_.push_back(prepared->name);
    }
  }
  notify(item, event);
  out.push_back(std::move(event));
}

void PgPipeline::fail_remaining(std::vector<PipelineEvent>& out) {
  poison();
  for (Expected& item : expected_) {
    if (item.kind == Expected::Kind::execute) {
      PipelineEvent event{.kind = PipelineEvent::Kind::error,
                          .tag = item.tag,
                          .index = item.index,
                          .error = connection_.result_error(nullptr, *item.sql)};
      notify(item, event);
      out.push_back(std::move(event));
    } else if (item.kind == Expected::Kind::sync && item.tag != nullptr) {
      out.push_back({.kind = PipelineEvent::Kind::sync, .tag = item.tag});
    }
  }
  expected_.clear();
  deallocate_.clear();
}

void PgPipeline::notify(const Expected& item, const PipelineEvent& event) noexcept {
  if (!observer_ || item.sent == Clock::time_point{}) return;
  StatementEvent observed{.sql = *item.sql,
                          .host = description(),
                          .dialect = Dialect::postgres,
                          .duration = Clock::now() - item.sent};
  std::string sqlstate;
  if (event.kind == PipelineEvent::Kind::rows) {
    const Rows& rows = event.rows;
    observed.rows = rows.empty() && rows.affected_rows() > 0
                        ? static_cast<std::size_t>(rows.affected_rows())
                        : rows.size();
  } else {
    try {
      std::rethrow_exception(event.error);
    } catch (const Error& e) {
      sqlstate = e.sqlstate().empty() ? "08006" : e.sqlstate();
    } catch (...) {
      sqlstate = "XX000";
    }
    observed.sqlstate = sqlstate;
  }
  try {
    observer_->on_statement(observed);
  } catch (...) {  // an observer must never break the statement it watches
  }
}

}  // namespace nexdb::detail
