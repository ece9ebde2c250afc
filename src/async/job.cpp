#include "async/job.hpp"

#include <fmt/format.h>
#include <asio/error.hpp>
#include <asio/system_error.hpp>

#include "nexdb/error.hpp"

namespace nexdb::detail {

SteadyClock::time_point deadline_of(const CallOptions& options) {
  if (options.timeout.count() <= 0) return SteadyClock::time_point::max();
  return SteadyClock::now() + options.timeout;
}

JobPtr make_job(std::vector<Statement> statements, CallOptions options) {
  auto job = std::make_shared<Job>();
  job->results.resize(statements.size());
  job->statements = std::move(statements);
  job->timeout = options.timeout;
  job->deadline = deadline_of(options);
  return job;
}

std::exception_ptr stopped_error(const Job& job, std::string_view detail) {
  if (!job.timed_out) {
    return std::make_exception_ptr(asio::system_error(asio::error::operation_aborted));
  }
  return std::make_exception_ptr(TimeoutError(
      fmt::format("the call did not finish within its deadline of {} ms{}", job.timeout.count(),
                  detail),
      {.sqlstate = "57014",
       .statement = job.statements.empty() ? std::string() : job.statements.front().sql}));
}

namespace {

std::string_view sqlstate_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return e.sqlstate() == "57014" ? "57014" : "";
  } catch (...) {
    return "";
  }
}

std::exception_ptr commit_refused_error() {
  return std::make_exception_ptr(UsageError(
      "cannot commit: an earlier statement failed, so the transaction was rolled back and "
      "nothing was written; catch the error where it happened or use a savepoint around "
      "statements that may fail"));
}

}  // namespace

std::exception_ptr final_error(const Job& job) {
  if (!job.error) return job.commit_refused ? commit_refused_error() : nullptr;
  if (job.stopped) return job.error;
  // The server's "canceling statement due to user request" is our own cancel request.
  if ((job.timed_out || job.cancelled) && sqlstate_of(job.error) == "57014") {
    return stopped_error(job, "; the statement was cancelled on the server");
  }
  if (job.pipeline && job.failed_index != Job::npos) {
    return std::make_exception_ptr(
        PipelineError(job.failed_index, job.statements.size(), job.error));
  }
  return job.error;
}

}  // namespace nexdb::detail
