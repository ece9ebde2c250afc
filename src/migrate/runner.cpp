#include "migrate/runner.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "nexdb/transaction.hpp"

namespace nexdb::detail {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

const SqlScript* script_of(const Step& step, Dialect dialect) {
  const Migration& m = *step.migration;
  if (m.kind == MigrationKind::cpp) return nullptr;
  return step.direction == Direction::up ? m.up.for_dialect(dialect) : m.undo.for_dialect(dialect);
}

HistoryEntry entry_for(const Step& step, Dialect dialect, const std::string& applied_by,
                       std::chrono::milliseconds duration, bool success) {
  const Migration& m = *step.migration;
  const bool up = step.direction == Direction::up;
  return HistoryEntry{.version = m.version.text(),
                      .description = m.description,
                      .kind = up ? m.kind : MigrationKind::undo,
                      .script = up ? m.script_name(dialect) : m.undo_script_name(dialect),
                      .checksum = up ? m.checksum(dialect) : m.undo_checksum(dialect),
                      .applied_by = applied_by,
                      .duration_ms = duration.count(),
                      .success = success};
}

void run_body(Transaction& tx, const Step& step, Dialect dialect) {
  const Migration& m = *step.migration;
  if (m.kind == MigrationKind::cpp) {
    (step.direction == Direction::up ? m.up_fn : m.undo_fn)(tx);
  } else {
    // The whole file in one call: several statements, inside this migration's transaction.
    tx.connection().execute_script(script_of(step, dialect)->sql);
  }
}

/// The failure goes into the history after the rollback, in a transaction of its own, so it
/// survives the rollback of the migration itself. Returns why recording failed, if it did.
std::string record_failure(RunContext& context, const Step& step,
                           std::chrono::milliseconds duration) {
  try {
    Transaction tx(context.connection);
    context.history.record(
        entry_for(step, context.connection.dialect(), context.applied_by, duration, false));
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

[[noreturn]] void throw_step_failure(const Step& step, std::exception_ptr cause,
                                     const std::string& record_error, const std::string& host) {
  const Migration& m = *step.migration;
  const std::string what = step.direction == Direction::up ? "migration" : "undo of migration";
  const std::string recorded = record_error.empty()
                                   ? "recorded as failed; fix it and run again"
                                   : "recording the failure also failed: " + record_error;
  try {
    std::rethrow_exception(cause);
  } catch (const Error& e) {
    throw MigrationError(fmt::format("{} {} failed and was rolled back ({}): {}", what, m.label(),
                                     recorded, e.message()),
                         m.version.text(), m.description,
                         {.sqlstate = e.sqlstate(),
                          .host = e.host().empty() ? host : e.host(),
                          .statement = e.statement()},
                         e.retryable());
  } catch (const std::exception& e) {
    throw MigrationError(fmt::format("{} {} failed and was rolled back ({}): {}", what, m.label(),
                                     recorded, e.what()),
                         m.version.text(), m.description, {.host = host});
  } catch (...) {
    throw MigrationError(fmt::format("{} {} failed and was rolled back ({}): an exception not "
                                     "derived from std::exception",
                                     what, m.label(), recorded),
                         m.version.text(), m.description, {.host = host});
  }
}

class StepRunner {
 public:
  StepRunner(RunContext& context, std::size_t total) : context_(context), total_(total) {}

  MigrationStep run(const Step& step, std::size_t index) {
    MigrationStep out = describe(step, context_.connection.dialect());
    notify(step, MigrationEvent::Phase::started, index, {});
    const auto start = Clock::now();
    try {
      Transaction tx(context_.connection);
      run_body(tx, step, context_.connection.dialect());
      context_.history.record(
          entry_for(step, context_.connection.dialect(), context_.applied_by, since(start), true));
      tx.commit();
    } catch (...) {
      // `tx` is gone, so the migration's work is rolled back before the failure is recorded.
      const auto cause = std::current_exception();
      const auto duration = since(start);
      const std::string record_error = record_failure(context_, step, duration);
      notify(step, MigrationEvent::Phase::failed, index, duration);
      throw_step_failure(step, cause, record_error, context_.connection.description());
    }
    out.duration = since(start);
    notify(step, MigrationEvent::Phase::finished, index, out.duration);
    return out;
  }

 private:
  void notify(const Step& step, MigrationEvent::Phase phase, std::size_t index,
              std::chrono::milliseconds duration) {
    if (context_.progress == nullptr || !*context_.progress) return;
    (*context_.progress)(MigrationEvent{.phase = phase,
                                        .target = context_.target,
                                        .version = step.migration->version.text(),
                                        .description = step.migration->description,
                                        .direction = step.direction,
                                        .index = index,
                                        .total = total_,
                                        .duration = duration});
  }

  RunContext& context_;
  std::size_t total_;
};

std::string os_user() {
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) return pw->pw_name;
  return "unknown";
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

}  // namespace

MigrationStep describe(const Step& step, Dialect dialect) {
  const Migration& m = *step.migration;
  const bool up = step.direction == Direction::up;
  const SqlScript* script = script_of(step, dialect);
  return MigrationStep{.version = m.version.text(),
                       .description = m.description,
                       .direction = step.direction,
                       .kind = m.kind,
                       .script = up ? m.script_name(dialect) : m.undo_script_name(dialect),
                       .sql = script ? script->sql : std::string{}};
}

std::vector<MigrationStep> execute_steps(RunContext& context, const std::vector<Step>& steps) {
  StepRunner runner(context, steps.size());
  std::vector<MigrationStep> done;
  done.reserve(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) done.push_back(runner.run(steps[i], i + 1));
  return done;
}

std::string default_applied_by(Connection& connection) {
  const std::string os = fmt::format("{}@{}", os_user(), host_name());
  if (connection.dialect() != Dialect::postgres) return os;
  return fmt::format("{} ({})", connection.execute("SELECT current_user").scalar<std::string>(),
                     os);
}

}  // namespace nexdb::detail
